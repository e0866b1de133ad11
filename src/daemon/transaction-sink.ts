import type { TransactionHandler, TransactionOutcome } from '../appservice/listener.js';
import { roomsJoinedIn, roomsOfTransaction, showsJoined, transactionBody } from '../appservice/transaction.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import { errcodeOf } from '../matrix/homeserver-error.js';
import type { Serial } from '../serial.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';
import type { Pipeline } from '../sync/pipeline.js';
import { commitBody } from './commit-body.js';
import type { Effects } from './effects.js';
import type { InviteService } from './invite-service.js';
import type { PendingInvites } from './pending-invites.js';

export interface TransactionSinkOptions {
  pipeline: Pipeline;
  store: Store;
  /** The queue the pipeline and reconciliation share (see daemon.ts); transactions go one at a time through it. */
  exclusive: Serial;
  pending: PendingInvites;
  invites: InviteService;
  effects: Effects;
  metrics: Metrics;
  botUserId: UserId;
  /** The registration's `id`: transaction ids are the homeserver's numbering for it. */
  registrationId: string;
  /** `GET /rooms/{roomId}/state`: the state of a room the bot joins in a transaction. */
  roomState: (roomId: RoomId) => Promise<unknown[]>;
  log: Logger;
}

/** A homeserver answer that says the bot cannot read the room (any more): go on without its state. */
function isOutOfRoom(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return errcodeOf(err) === 'M_FORBIDDEN' || errcodeOf(err) === 'M_NOT_FOUND' || status === 403 || status === 404;
}

/**
 * Where the appservice listener hands each transaction: the appservice counterpart of the sync
 * sink. One at a time (a retry racing its original waits, then finds it done): a transaction
 * already committed is acknowledged without being applied; otherwise the state of rooms the
 * bot joins in it is read from the homeserver, the transaction becomes a /sync-shaped body
 * (appservice/transaction.ts) and goes through the pipeline, its txnId committed in the same
 * batch as its events and its invites; then effects run, as for a /sync response.
 */
export function createTransactionSink(options: TransactionSinkOptions): TransactionHandler {
  const { store, exclusive, metrics, botUserId, log } = options;
  return (txnId, events) =>
    exclusive(async (): Promise<TransactionOutcome> => {
      const transaction = { registrationId: options.registrationId, txnId };
      if (await store.guard.hasTransaction(transaction)) {
        metrics.countTransaction('duplicate');
        log.info({ txnId }, 'appservice transaction already committed; acknowledged again');
        return 'duplicate';
      }
      const grouped = roomsOfTransaction(events, botUserId);
      for (const u of grouped.unrouted) log.warn({ txnId, index: u.index, eventId: u.eventId, type: u.type, reason: u.reason }, 'invalid event skipped');
      metrics.countEvents('invalid', undefined, grouped.unrouted.length);
      const roomIds = [...grouped.rooms.keys()];
      const infos = await store.rooms.infos(roomIds);
      const tracked = new Set(roomIds.filter((_, i) => infos[i] !== undefined));
      const isTracked = (roomId: RoomId) => tracked.has(roomId);

      // Read before the commit and applied in it: the join and the room it joins land in one
      // batch with the txnId, so a crash in between leaves neither (and the retry reads again).
      const stateOf = new Map<RoomId, unknown[]>();
      for (const roomId of roomsJoinedIn(grouped, isTracked)) {
        try {
          const state = await options.roomState(roomId);
          // Left since (the homeserver then answers with the state as of the leave): the room
          // is applied from the transaction alone, and the leave, in this or a later one, purges it.
          if (showsJoined(state, botUserId)) stateOf.set(roomId, state);
          else log.info({ txnId, roomId }, 'the bot already left a room it joined; applied without its state');
        } catch (err) {
          // Kicked since: the transaction's own leave or a later one purges the room. Anything
          // else fails the transaction, and the homeserver sends it again.
          if (!isOutOfRoom(err)) throw err;
          log.warn({ err, txnId, roomId }, 'could not read the state of a room the bot joined; applied without it');
        }
      }

      const body = transactionBody(grouped, { isTracked, stateOf });
      if (log.isLevelEnabled('debug')) {
        const rooms = body.rooms as Record<'join' | 'leave' | 'invite', Record<string, unknown>>;
        log.debug({ txnId, join: Object.keys(rooms.join), leave: Object.keys(rooms.leave), invite: Object.keys(rooms.invite), stateRead: [...stateOf.keys()] }, 'appservice transaction decoded');
      }
      // Never initial: a homeserver pushes only what is new.
      await commitBody(body, options, { initial: false, transaction });
      metrics.countTransaction('applied', events.length);
      return 'applied';
    });
}
