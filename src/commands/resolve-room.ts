import type { RoomId } from '../state/ids.js';
import type { RoomInfo } from '../state/room-info.js';

/** A room the sender shares with the bot, as listed by `!rooms`. */
export interface SharedRoom {
  roomId: RoomId;
  /** Undefined when the store has members for the room but no metadata (yet). */
  info: RoomInfo | undefined;
  memberCount: number;
  /** The room's name as the sender's client shows it (name, alias, or its other members). */
  displayName: string;
}

/** A shared room with its number in the sender's `!rooms` list (1-based). */
export interface NumberedRoom {
  number: number;
  room: SharedRoom;
}

/**
 * What a room reference turned out to mean. `not-found` carries nothing but the reference as
 * typed, so the reply for a room the sender is not in cannot differ from one for a room that does
 * not exist.
 */
export type RoomResolution =
  | { kind: 'found'; room: NumberedRoom }
  | { kind: 'ambiguous'; ref: string; candidates: NumberedRoom[] }
  | { kind: 'not-found'; ref: string }
  | { kind: 'need-ref'; sharedCount: number };

/**
 * Resolves a room reference against the sender's shared rooms only, given in `!rooms` order: a
 * room id, a canonical alias, a number from that list, or a case-insensitive substring of the
 * name the list shows (as a client computes it: name, alias, or other members). Without a reference, a sole shared room is
 * the answer. The resolver is never shown other rooms, so it cannot leak them.
 */
export function resolveRoom(ref: string | undefined, rooms: readonly SharedRoom[]): RoomResolution {
  const numbered = rooms.map((room, i) => ({ number: i + 1, room }));
  const wanted = ref?.trim() ?? '';
  if (wanted === '') {
    const sole = numbered[0];
    return numbered.length === 1 && sole ? { kind: 'found', room: sole } : { kind: 'need-ref', sharedCount: rooms.length };
  }
  const notFound: RoomResolution = { kind: 'not-found', ref: wanted };

  // Room ids are case-sensitive (Matrix spec, appendices: room ids are opaque).
  if (wanted.startsWith('!')) {
    const hit = numbered.find((n) => n.room.roomId === wanted);
    return hit ? { kind: 'found', room: hit } : notFound;
  }
  if (wanted.startsWith('#')) {
    const alias = wanted.toLowerCase();
    const hits = numbered.filter((n) => n.room.info?.canonicalAlias?.toLowerCase() === alias);
    return pick(wanted, hits) ?? notFound;
  }
  // A number always means a position in the list, even when some room's name contains it.
  if (/^\d+$/.test(wanted)) {
    const hit = numbered[Number(wanted) - 1];
    return hit ? { kind: 'found', room: hit } : notFound;
  }

  const needle = fold(wanted);
  const labels = numbered.map((n) => ({ n, label: fold(n.room.displayName) }));
  // An exact label wins over substrings, or a room called "Team" could never be chosen by name
  // next to one called "Team chat".
  const exact = labels.filter((l) => l.label === needle).map((l) => l.n);
  if (exact.length === 1) return pick(wanted, exact) ?? notFound;
  const hits = labels.filter((l) => l.label.includes(needle)).map((l) => l.n);
  return pick(wanted, hits) ?? notFound;
}

function pick(ref: string, hits: NumberedRoom[]): RoomResolution | undefined {
  const [first] = hits;
  if (!first) return undefined;
  return hits.length === 1 ? { kind: 'found', room: first } : { kind: 'ambiguous', ref, candidates: hits };
}

// Case folding plus whitespace collapsing, so "team  CHAT" finds "Team chat".
function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
