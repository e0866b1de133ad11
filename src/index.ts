/**
 * roomkeeper as a library: the processed-event guard and the Rooms store, fed by whole /sync
 * response bodies, for any matrix-bot-sdk bot to embed.
 */
import pino from 'pino';
import { RoomkeeperError } from './errors.js';
import { serial } from './serial.js';
import type { Logger } from './log.js';
import { attachClient, type AttachableClient, type Attachment } from './matrix/attach.js';
import type { Change } from './state/changes.js';
import { seqOfCursor } from './store/change-log.js';
import { parseRoomId, parseUserId, type RoomId, type UserId } from './state/ids.js';
import type { Membership } from './state/events.js';
import type { Member, RoomInfo } from './state/room-info.js';
import type { Rooms } from './store/rooms.js';
import { Store } from './store/store.js';
import { Pipeline, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export {
  resolveRoom,
  type NumberedRoom,
  type RoomResolution,
  type SharedRoom,
} from './commands/resolve-room.js';
export { RoomkeeperError, isRoomkeeperError, type ErrorCode } from './errors.js';
export { parseRoomId, parseUserId, type EventId, type RoomId, type UserId } from './state/ids.js';
export type { Membership, TrackedEvent } from './state/events.js';
export {
  MEMBER_CHANGE_KINDS,
  type Change,
  type ChangeCause,
  type ChangeDraft,
  type ChangeKind,
  type MemberChange,
  type MemberChangeKind,
  type ProfileChange,
  type RebuildChange,
  type RebuiltMember,
  type RoomChange,
  type RoomField,
} from './state/changes.js';
export { ChangeLog, type HistoryQuery } from './store/change-log.js';
export type { Member, MemberState, RoomInfo } from './state/room-info.js';
export { roomDisplayName, type RoomDisplayName, type RoomNameInput } from './state/room-name.js';
export { displayNames, type NamedMember } from './state/member-names.js';
export { can, canSendState, powerOf, roleOf, staffOf, type PowerContext, type PowerLevels, type Role, type Staff } from './state/power-levels.js';
export type { RoomsReader } from './store/rooms-reader.js';
export { Rooms } from './store/rooms.js';
export { Guard } from './store/guard.js';
export { Store, SCHEMA_VERSION } from './store/store.js';
export type { CommitPlan, CommitResult, GuardReader, MetaWrite, RoomEvents, RoomInfoReader, SyncStore } from './store/sync-store.js';
export { Pipeline, type FreshEvent, type Invite, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export interface OpenOptions {
  /** Directory of the LevelDB database. One process at a time. */
  dataDir: string;
  /**
   * Create the database when the directory is absent or empty. Without it, a directory with no
   * roomkeeper database is refused (STORE_NOT_FOUND): a mistyped path never starts an empty record.
   */
  create?: boolean;
  /** The bot's own user id: its joins and leaves drive each room's life. */
  botUserId: string;
  /** A pino logger for warnings about malformed events; silent when left out. */
  log?: Logger;
}

/**
 * Who is in which room, asked with the plain string ids matrix-bot-sdk hands out (branded ids
 * work too). A malformed id rejects with RoomkeeperError `BAD_ID`.
 */
export interface RoomQueries {
  /** Rooms the user is joined to (as far as the bot can see), sorted by room id. */
  roomsOf(userId: string): Promise<RoomId[]>;
  /**
   * Members of the room with membership and profile, sorted by user id: the joined ones, or
   * those of `membership`, or (`'all'`) everyone the room holds a membership for.
   */
  membersOf(roomId: string, options?: { membership?: Membership | 'all' }): Promise<Member[]>;
  /** Number of joined members of the room. */
  memberCount(roomId: string): Promise<number>;
  /** How many members of each membership the room has. */
  memberCounts(roomId: string): Promise<Record<Membership, number>>;
  /** The room's name as the client of `viewer` (say, the bot) shows it: name, alias or heroes ("Alice and Bob"). */
  displayName(roomId: string, viewer: string): Promise<string>;
  /** The room's family, oldest first: predecessors (m.room.create) and successors (m.room.tombstone) the store tracks. */
  lineage(roomId: string): Promise<RoomId[]>;
  /** True when the user is a joined member of the room. */
  isMember(roomId: string, userId: string): Promise<boolean>;
  /** The room's metadata, or undefined when the bot does not track that room. */
  info(roomId: string): Promise<RoomInfo | undefined>;
  /** Rooms both users are joined to, sorted by room id. */
  sharedRooms(a: string, b: string): Promise<RoomId[]>;
  /** Every tracked room, sorted by room id. */
  allRooms(): Promise<RoomId[]>;
}

export interface AttachOptions {
  /**
   * Called with what each body changed, after its commit and before the SDK emits its events;
   * awaited, so keep it short. `fresh` holds each event once, even when a body comes again after
   * a crash; a crash between the commit and this call loses that call.
   */
  onCommit?: (result: ProcessResult) => void | Promise<void>;
  /** Called when a commit failed: the client has been stopped, before any event of that body fired. */
  onFatal?: (err: unknown) => void;
}

/** Which changes `history` returns, newest first; ids as plain strings. */
export interface HistoryOptions {
  /** One room's changes (a prefix range of the per-room index). */
  room?: string;
  /** One user's member and profile changes (a prefix range of the per-user index); with `room`, in that room. */
  user?: string;
  /** Only changes committed at or after this local time (epoch ms). */
  since?: number;
  /** Only changes committed before this local time (epoch ms). */
  until?: number;
  /** Only changes before this cursor: the next page after the last change of a page. */
  before?: string;
  /** At most this many (default 50, at most 1000). */
  limit?: number;
}

/** An open roomkeeper store with its pipeline. */
export interface Roomkeeper {
  /** Who is in which room and what each room is: roomsOf, membersOf (any membership), memberCounts, displayName, lineage, isMember, info, sharedRooms, allRooms. */
  rooms: RoomQueries;
  /**
   * Applies one whole /sync response body (in order, each once or more: duplicates are skipped).
   * Rejects with STORE_CLOSED after close().
   */
  process(body: unknown): Promise<ProcessResult>;
  /**
   * Feeds the client's /sync bodies through roomkeeper: each is committed before the client emits
   * its events, and the client's sync token is saved only after that. Attach before
   * `client.start()` for a complete record; attached to a running client, it covers the bodies
   * the client receives from then on.
   */
  attach(client: AttachableClient, options?: AttachOptions): void;
  /** Gives the attached client back its own sync handling; resolves once the body in hand is done. */
  detach(): Promise<void>;
  /** Forgets processed events older than `cutoffMs` (epoch ms); returns how many went. */
  prune(cutoffMs: number): Promise<number>;
  /** Forgets changes of the change log committed before `cutoffMs` (epoch ms), oldest first; returns how many went. */
  pruneChanges(cutoffMs: number): Promise<number>;
  /**
   * The change log from just after `after` (from its start without it): the stored changes, then
   * each new one as its commit is written. Each carries its `cursor`; store the last one handled
   * and pass it again to go on exactly there, after a restart too. Ending the loop (`break`)
   * releases it; `close()` ends it. BAD_CURSOR for a string that is not a cursor.
   */
  changes(options?: { after?: string }): AsyncIterable<Change>;
  /** Calls `listener` with each change once its commit is written (from now on; nothing stored). */
  on(event: 'change', listener: (change: Change) => void): void;
  /** Removes a listener added with `on`. */
  off(event: 'change', listener: (change: Change) => void): void;
  /** Stored changes, newest first, of a room, a user, or all, within a time window. */
  history(options?: HistoryOptions): Promise<Change[]>;
  /** Counts since opening. */
  totals: PipelineTotals;
  /** The /sync token committed with the last processed response, to resume syncing from. */
  syncToken(): Promise<string | undefined>;
  /**
   * Waits for the body being committed and closes the store. An attached client is stopped when
   * it next delivers a body, before emitting any of its events; call `client.stop()` first.
   */
  close(): Promise<void>;
}

function userIdOf(input: string): UserId {
  const id = typeof input === 'string' ? parseUserId(input) : undefined;
  if (id === undefined) throw new RoomkeeperError('BAD_ID', `${JSON.stringify(input)} is not a user id like @alice:example.org`);
  return id;
}

function roomIdOf(input: string): RoomId {
  const id = typeof input === 'string' ? parseRoomId(input) : undefined;
  if (id === undefined) throw new RoomkeeperError('BAD_ID', `${JSON.stringify(input)} is not a room id like !abc:example.org`);
  return id;
}

function queriesOf(rooms: Rooms): RoomQueries {
  return {
    roomsOf: async (userId) => rooms.roomsOf(userIdOf(userId)),
    membersOf: async (roomId, options) => rooms.membersOf(roomIdOf(roomId), options),
    memberCount: async (roomId) => rooms.memberCount(roomIdOf(roomId)),
    memberCounts: async (roomId) => rooms.memberCounts(roomIdOf(roomId)),
    displayName: async (roomId, viewer) => rooms.displayName(roomIdOf(roomId), userIdOf(viewer)),
    lineage: async (roomId) => rooms.lineage(roomIdOf(roomId)),
    isMember: async (roomId, userId) => rooms.isMember(roomIdOf(roomId), userIdOf(userId)),
    info: async (roomId) => rooms.info(roomIdOf(roomId)),
    sharedRooms: async (a, b) => rooms.sharedRooms(userIdOf(a), userIdOf(b)),
    allRooms: async () => rooms.allRooms(),
  };
}

/**
 * Opens (with `create`, creates) a roomkeeper store for embedding. Fails with RoomkeeperError `STORE_LOCKED`
 * when another process has the directory open, `BAD_ID` when botUserId is not a user id.
 */
export async function openRoomkeeper(options: OpenOptions): Promise<Roomkeeper> {
  const botUserId = parseUserId(options.botUserId);
  if (botUserId === undefined) {
    throw new RoomkeeperError('BAD_ID', `botUserId: ${JSON.stringify(options.botUserId)} is not a user id like @bot:example.org`);
  }
  const log = options.log ?? pino({ level: 'silent' });
  const store = await Store.open(options.dataDir, { create: options.create === true });
  const pipeline = new Pipeline(store, { botUserId, log });

  // One writer: bodies from the attached client and from process() are committed one at a time,
  // in the order they arrived.
  const inTurn = serial();
  let closed = false;
  const processInTurn = (body: unknown): Promise<ProcessResult> =>
    inTurn(() => {
      if (closed) return Promise.reject(new RoomkeeperError('STORE_CLOSED', 'this roomkeeper store is closed'));
      return pipeline.process(body);
    });

  // Readers of the change log stop when the store closes; each checks this after every wait.
  const changesAfter = async function* (after: string | undefined): AsyncGenerator<Change> {
    let cursor = after;
    while (!closed) {
      const generation = store.changes.generation();
      let page: Change[];
      try {
        page = await store.changes.after(cursor);
      } catch (err) {
        // A close overtook the read.
        if (closed) return;
        throw err;
      }
      for (const change of page) {
        yield change;
        cursor = change.cursor;
        if (closed) return;
      }
      // Caught up, and no commit since the read began: wait for the next one (or the close).
      if (page.length === 0 && generation === store.changes.generation()) await store.changes.nextCommit();
    }
  };
  const listeners = new Map<(change: Change) => void, () => void>();

  let attachment: Attachment | undefined;
  const detach = async (): Promise<void> => {
    const current = attachment;
    attachment = undefined;
    await current?.detach();
  };

  return {
    rooms: queriesOf(store.rooms),
    process: processInTurn,
    attach(client, attachOptions = {}) {
      if (closed) throw new RoomkeeperError('STORE_CLOSED', 'this roomkeeper store is closed');
      if (attachment !== undefined) throw new TypeError('attach(): a client is already attached; detach() it first');
      const { onCommit, onFatal } = attachOptions;
      attachment = attachClient(client, {
        log,
        onFatal,
        syncToken: () => store.syncToken(),
        async commit(body) {
          const result = await processInTurn(body);
          if (onCommit === undefined) return;
          try {
            await onCommit(result);
          } catch (err) {
            // The body is committed either way; the client's own events still fire.
            log.error({ err }, 'onCommit handler failed');
          }
        },
      });
    },
    detach,
    prune: (cutoffMs) => store.guard.prune(cutoffMs),
    pruneChanges: (cutoffMs) => store.changes.prune(cutoffMs),
    changes(changesOptions = {}) {
      const { after } = changesOptions;
      // Checked now rather than at the first step of the loop, where it would surface late.
      if (after !== undefined) seqOfCursor(after);
      return { [Symbol.asyncIterator]: () => changesAfter(after) };
    },
    on(event, listener) {
      if (event !== 'change') throw new TypeError(`on(): unknown event ${JSON.stringify(event)}; only 'change'`);
      if (listeners.has(listener)) return;
      const unsubscribe = store.changes.subscribe((changes) => {
        for (const change of changes) {
          try {
            listener(change);
          } catch (err) {
            // The changes are committed; one listener's failure must not stop the others or the sync.
            log.error({ err, cursor: change.cursor }, 'change listener failed');
          }
        }
      });
      listeners.set(listener, unsubscribe);
    },
    off(event, listener) {
      if (event !== 'change') throw new TypeError(`off(): unknown event ${JSON.stringify(event)}; only 'change'`);
      listeners.get(listener)?.();
      listeners.delete(listener);
    },
    async history(q = {}) {
      return store.changes.history({
        room: q.room === undefined ? undefined : roomIdOf(q.room),
        user: q.user === undefined ? undefined : userIdOf(q.user),
        since: q.since,
        until: q.until,
        before: q.before,
        limit: q.limit,
      });
    },
    totals: pipeline.totals,
    syncToken: () => store.syncToken(),
    async close() {
      // The attached client stays wrapped: a body its last long-poll brings after this is refused
      // (the client is stopped, nothing emitted, its token not saved) rather than let through
      // unrecorded with its token saved ahead of the record.
      if (closed) return;
      closed = true;
      // Behind whatever is queued: the body being committed finishes first.
      await inTurn(() => store.close());
    },
  };
}
