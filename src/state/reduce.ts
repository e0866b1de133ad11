import type { RoomId, UserId } from './ids.js';
import type { TrackedEvent } from './events.js';
import type { RoomInfo } from './room-info.js';

/**
 * Pure reducers: (events of one room in one /sync response, what the store knows) → store
 * operations. No I/O; `now` comes in as an argument.
 */

/** A change to the Rooms store, in the order it must be applied. */
export type StoreOp =
  | { op: 'put-member'; roomId: RoomId; userId: UserId; displayName?: string }
  | { op: 'del-member'; roomId: RoomId; userId: UserId }
  | { op: 'put-info'; info: RoomInfo }
  /** Delete every membership of the room and its RoomInfo (guard marks are kept). */
  | { op: 'purge-room'; roomId: RoomId };

/** One event of a room's response, in state-block-then-timeline order. */
export interface RoomEntry {
  event: TrackedEvent;
  /** The guard has this event already (from an earlier commit). */
  seen: boolean;
}

export interface RoomView {
  botUserId: UserId;
  /** The room's RoomInfo as stored, undefined when the store does not track the room. */
  info: RoomInfo | undefined;
  now: number;
  /** Rebuild the room from these events whatever the guard says (reconciliation from /state). */
  forceSnapshot?: boolean;
}

export interface RoomPlan {
  ops: StoreOp[];
  /** Events applied for the first time (every unseen entry, state or not). */
  fresh: TrackedEvent[];
  /** The room was rebuilt from this response's state (the bot joined it). */
  snapshot: boolean;
}

function isOwnJoin(e: TrackedEvent, bot: UserId): boolean {
  return e.kind === 'member' && e.userId === bot && e.membership === 'join';
}

/**
 * The bot's own first-seen join rebuilds the room from the response when the store does not
 * track the room, or when the server says the bot was not joined before (a rejoin whose leave we
 * never saw). A join→join event of the bot (a profile change) is an ordinary update: rebuilding
 * from an incremental response, whose state block is partial, would lose members.
 */
function needsSnapshot(entries: readonly RoomEntry[], view: RoomView): boolean {
  return entries.some(
    ({ event: e, seen }) =>
      !seen &&
      isOwnJoin(e, view.botUserId) &&
      (view.info === undefined ||
        (e.kind === 'member' && e.prevMembership !== undefined && e.prevMembership !== 'join')),
  );
}

function emptyInfo(roomId: RoomId, now: number): RoomInfo {
  return { roomId, encrypted: false, updatedAt: now };
}

/**
 * Plans the store operations for one room of one response.
 *
 * Normally only unseen events are applied. When the bot has (re)joined, the room is rebuilt:
 * every state event of the response is applied in order, seen or not — after a kick and
 * re-invite the server resends the room's state as old member events the guard already holds,
 * and skipping them would leave the room empty.
 */
export function planRoom(roomId: RoomId, entries: readonly RoomEntry[], view: RoomView): RoomPlan {
  const snapshot = view.forceSnapshot === true || needsSnapshot(entries, view);
  const ops: StoreOp[] = [];
  const fresh: TrackedEvent[] = [];
  let info = view.info;
  let changed = false;
  // In a snapshot the response is the room's current state, so an own leave or ban before the
  // bot's last join (its old kick resent in the unordered state block, or a timeline of kick →
  // invite → join) is history the rejoin undid: purging there would drop the members before it.
  const lastOwnJoin = snapshot ? entries.findLastIndex(({ event: e }) => isOwnJoin(e, view.botUserId)) : -1;

  if (snapshot && info !== undefined) {
    ops.push({ op: 'purge-room', roomId });
    info = undefined;
    changed = true;
  }

  for (const [i, { event: e, seen }] of entries.entries()) {
    if (!seen) fresh.push(e);
    if (seen && !snapshot) continue;
    switch (e.kind) {
      case 'member': {
        const isBot = e.userId === view.botUserId;
        if (isBot && (e.membership === 'leave' || e.membership === 'ban') && i > lastOwnJoin) {
          // Kicked, banned or left: nothing about the room is visible to us any more.
          ops.push({ op: 'purge-room', roomId });
          info = undefined;
          changed = false;
          continue;
        }
        info ??= emptyInfo(roomId, view.now);
        if (isBot && e.membership === 'join' && (info.joinedAt === undefined || e.prevMembership !== 'join')) {
          info = { ...info, joinedAt: e.ts };
        }
        ops.push(
          e.membership === 'join'
            ? { op: 'put-member', roomId, userId: e.userId, displayName: e.displayName }
            : { op: 'del-member', roomId, userId: e.userId },
        );
        changed = true;
        break;
      }
      case 'name':
        info = { ...(info ?? emptyInfo(roomId, view.now)), name: e.name };
        changed = true;
        break;
      case 'canonical-alias':
        info = { ...(info ?? emptyInfo(roomId, view.now)), canonicalAlias: e.alias };
        changed = true;
        break;
      case 'topic':
        info = { ...(info ?? emptyInfo(roomId, view.now)), topic: e.topic };
        changed = true;
        break;
      case 'encryption':
        info = { ...(info ?? emptyInfo(roomId, view.now)), encrypted: true };
        changed = true;
        break;
      case 'other-state':
      case 'message':
      case 'other':
        break;
    }
  }

  // One RoomInfo write per room and response, after the memberships, rather than one per event.
  if (changed && info !== undefined) ops.push({ op: 'put-info', info: { ...info, updatedAt: view.now } });
  return { ops, fresh, snapshot };
}
