import type { EventId, RoomId, UserId } from '../state/ids.js';

/**
 * Key encoding of the store. Pure: no I/O.
 *
 * Parts of a key are joined by U+00FF, which the id parsers reject inside ids, so a prefix of
 * one id can never run into another. A range over "everything after `prefix` + SEP" ends just
 * before `prefix` + U+0100: in UTF-8 that is the next byte sequence after every continuation of
 * SEP, and no valid UTF-8 sits between the two.
 */
export const SEP = '\u00ff';
const AFTER_SEP = '\u0100';

/** Width of the zero-padded millisecond timestamp; keeps lexical order equal to time order. */
const TS_WIDTH = 15;
const SEQ_WIDTH = 10;

/** `roomId SEP eventId`: one guard mark. */
export function guardKey(roomId: RoomId, eventId: EventId): string {
  return roomId + SEP + eventId;
}

/**
 * `txn SEP registrationId SEP txnId`: an appservice transaction that was committed, kept in the
 * guard namespace beside the event marks (room ids start with `!`, so none is `txn`) and pruned
 * with them through the time index. The registration id scopes it: a homeserver numbers each
 * appservice's transactions on their own.
 */
export function txnKey(registrationId: string, txnId: string): string {
  return 'txn' + SEP + registrationId + SEP + txnId;
}

/** `ts SEP seq`: one commit's entry in the time index. */
export function timeKey(ts: number, seq: number): string {
  return String(ts).padStart(TS_WIDTH, '0') + SEP + String(seq).padStart(SEQ_WIDTH, '0');
}

/** Upper bound (exclusive) of the time-index keys of commits made before `ts`. */
export function timeKeyBefore(ts: number): string {
  return String(Math.max(0, ts)).padStart(TS_WIDTH, '0');
}

/** Width of a change-log sequence number: 10^16 changes outlast any data dir. */
const CHANGE_SEQ_WIDTH = 16;

/** The change log's key of sequence number `seq`, which is also the change's cursor. */
export function changeKey(seq: number): string {
  return String(seq).padStart(CHANGE_SEQ_WIDTH, '0');
}

/** The sequence number of a change key (or cursor); undefined when it is not one. */
export function seqOfChangeKey(key: string): number | undefined {
  return key.length === CHANGE_SEQ_WIDTH && /^\d+$/.test(key) ? Number(key) : undefined;
}

/** `id SEP seq`: a per-room or per-user index entry of the change log. */
export function changeIndexKey(id: string, seq: number): string {
  return id + SEP + changeKey(seq);
}

/** `userId SEP roomId`: the user is joined to the room. */
export function userRoomKey(userId: UserId, roomId: RoomId): string {
  return userId + SEP + roomId;
}

/** `roomId SEP userId`: the room has the user as a joined member. */
export function roomUserKey(roomId: RoomId, userId: UserId): string {
  return roomId + SEP + userId;
}

/** Range options selecting every key that starts with `id` followed by the separator. */
export function prefixRange(id: string): { gte: string; lt: string } {
  return { gte: id + SEP, lt: id + AFTER_SEP };
}

/** The part of a `a SEP b` key after the separator. */
export function suffixOf(key: string): string {
  return key.slice(key.indexOf(SEP) + 1);
}

/** The part of a `a SEP b` key before the separator. */
export function headOf(key: string): string {
  const i = key.indexOf(SEP);
  return i === -1 ? key : key.slice(0, i);
}

/** The key just after every key that starts with `id` + SEP: where to seek to skip that id. */
export function afterPrefix(id: string): string {
  return id + AFTER_SEP;
}
