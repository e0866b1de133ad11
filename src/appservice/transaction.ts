import { parseRoomId, type RoomId, type UserId } from '../state/ids.js';
import { isJsonObject } from '../state/json.js';

/**
 * The appservice feed's decoder: a transaction pushed by the homeserver (Application Service API,
 * `PUT /_matrix/app/v1/transactions/{txnId}`) becomes the same per-room /sync-shaped body the
 * pipeline takes from /sync, so that guard, reducers, effects and commands are shared. Pure.
 *
 * A transaction is a flat list of events in stream order, each with its `room_id`, and no state
 * blocks. Per room, its events become that room's timeline in the section /sync would have put
 * it in; the bot's own invite becomes `rooms.invite` (the same auto-join policy answers it); the
 * room's state for the bot's join comes from `/rooms/{id}/state`, given as MSC4222 `state_after`
 * (the room's state at or after the timeline's end, authoritative over its history).
 * `ephemeral`, `de.sorunome.msc2409.ephemeral`, `to_device` and device lists are not read.
 */

/** Why a transaction body was refused as a whole (400 M_BAD_JSON); nothing of it is recorded. */
export type TransactionBodyProblem = 'not-an-object' | 'events-not-an-array';

/** The `events` of a transaction body, or why it is malformed. */
export function eventsOfTransaction(body: unknown): { ok: true; events: readonly unknown[] } | { ok: false; problem: TransactionBodyProblem } {
  if (!isJsonObject(body)) return { ok: false, problem: 'not-an-object' };
  if (!Array.isArray(body.events)) return { ok: false, problem: 'events-not-an-array' };
  return { ok: true, events: body.events };
}

/** An event of a transaction that names no room: it cannot go anywhere and is skipped. */
export interface UnroutedEvent {
  index: number;
  eventId?: string;
  type?: string;
  reason: string;
}

/** A transaction's events grouped by room, in order, with what the bot's own membership says. */
export interface TransactionRooms {
  rooms: Map<RoomId, RoomEvents>;
  unrouted: UnroutedEvent[];
}

interface RoomEvents {
  /** Events of the room in the transaction, in order, the bot's invites left out. */
  timeline: unknown[];
  /** The bot's invite, when the transaction has one for the room (the last one). */
  invite?: Record<string, unknown>;
  /** The membership of the bot's last own member event in the room other than an invite. */
  ownMembership?: string;
  /** That last own event was a join by a bot that was not joined before (per `prev_content`). */
  ownJoinIsNew?: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Groups a transaction's events by room; an event with no readable `room_id` is unrouted. */
export function roomsOfTransaction(events: readonly unknown[], botUserId: UserId): TransactionRooms {
  const rooms = new Map<RoomId, RoomEvents>();
  const unrouted: UnroutedEvent[] = [];
  for (const [index, event] of events.entries()) {
    const raw = isJsonObject(event) ? event : undefined;
    const roomId = raw === undefined ? undefined : parseRoomId(str(raw.room_id) ?? '');
    if (raw === undefined || roomId === undefined) {
      unrouted.push({ index, eventId: str(raw?.event_id), type: str(raw?.type), reason: raw === undefined ? 'not an object' : 'no valid room_id' });
      continue;
    }
    let room = rooms.get(roomId);
    if (room === undefined) rooms.set(roomId, (room = { timeline: [] }));
    const content = isJsonObject(raw.content) ? raw.content : undefined;
    const membership = str(content?.membership);
    if (raw.type === 'm.room.member' && raw.state_key === botUserId && membership !== undefined) {
      if (membership === 'invite') {
        room.invite = raw;
        continue;
      }
      room.ownMembership = membership;
      const unsigned = isJsonObject(raw.unsigned) ? raw.unsigned : undefined;
      const prev = isJsonObject(unsigned?.prev_content) ? str(unsigned.prev_content.membership) : undefined;
      room.ownJoinIsNew = membership === 'join' && prev !== 'join';
    }
    room.timeline.push(event);
  }
  return { rooms, unrouted };
}

/**
 * The rooms whose state must be read from the homeserver before the transaction is applied: those
 * the bot joins in it (the last own membership is a join, new per `prev_content` or of a room the
 * store does not track).
 */
export function roomsJoinedIn(grouped: TransactionRooms, isTracked: (roomId: RoomId) => boolean): RoomId[] {
  const out: RoomId[] = [];
  for (const [roomId, room] of grouped.rooms) {
    if (room.ownMembership === 'join' && (room.ownJoinIsNew === true || !isTracked(roomId))) out.push(roomId);
  }
  return out;
}

/**
 * Whether a room's `/state` shows the bot joined. A homeserver answers a former member with the
 * state as of its leave: such a state is no room the bot is in, and the transaction that carries
 * the leave purges the room anyway.
 */
export function showsJoined(state: readonly unknown[], botUserId: UserId): boolean {
  return state.some((e) => isJsonObject(e) && e.type === 'm.room.member' && e.state_key === botUserId && isJsonObject(e.content) && e.content.membership === 'join');
}

/** What `transactionBody` needs besides the events. */
export interface TransactionBodyOptions {
  /** Whether the store tracks the room (the bot is in it as far as we know). */
  isTracked: (roomId: RoomId) => boolean;
  /** The full current state of rooms the bot joins in this transaction, read from `/state`. */
  stateOf: ReadonlyMap<RoomId, readonly unknown[]>;
}

/**
 * The /sync-shaped body of a grouped transaction (no `next_batch`: nothing to resume from).
 *
 * A room goes to `rooms.join` when the bot's last own membership in it is a join, or when it
 * has none and the store tracks the room; to `rooms.leave` when that membership is a leave or a
 * ban, or when the room is one the bot is not in (the pipeline marks its events and stores
 * nothing of it, as for a /sync leave of an untracked room). The bot's invite goes to
 * `rooms.invite` with the invite event and its `unsigned.invite_room_state` as stripped state.
 */
export function transactionBody(grouped: TransactionRooms, options: TransactionBodyOptions): Record<string, unknown> {
  const join: Record<string, unknown> = {};
  const leave: Record<string, unknown> = {};
  const invite: Record<string, unknown> = {};
  for (const [roomId, room] of grouped.rooms) {
    if (room.invite !== undefined) invite[roomId] = { invite_state: { events: strippedInvite(room.invite) } };
    if (room.timeline.length === 0) continue;
    const joined = room.ownMembership === undefined ? options.isTracked(roomId) : room.ownMembership === 'join';
    const block: Record<string, unknown> = { timeline: { events: room.timeline, limited: false } };
    const state = joined ? options.stateOf.get(roomId) : undefined;
    if (state !== undefined) block.state_after = { events: state };
    (joined ? join : leave)[roomId] = block;
  }
  return { rooms: { join, leave, invite } };
}

/** The invite as /sync's `invite_state` shows it: the room's stripped state, then the invite itself. */
function strippedInvite(event: Record<string, unknown>): unknown[] {
  const unsigned = isJsonObject(event.unsigned) ? event.unsigned : undefined;
  const roomState: readonly unknown[] = Array.isArray(unsigned?.invite_room_state) ? (unsigned.invite_room_state as unknown[]) : [];
  const { type, state_key, sender, content } = event;
  return [...roomState, { type, state_key, sender, content }];
}
