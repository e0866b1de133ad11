import type { RoomId, UserId } from '../state/ids.js';
import type { Membership } from '../state/events.js';
import { decodeMember, isJoinedValue, roomInfoSchema, type Member, type MemberState, type RoomInfo } from '../state/room-info.js';
import { RoomkeeperError } from '../errors.js';
import { roomDisplayName } from '../state/room-name.js';
import { afterPrefix, headOf, prefixRange, roomUserKey, suffixOf, userRoomKey } from './keys.js';
import type { Namespaces } from './level.js';
import type { RoomsReader } from './rooms-reader.js';
import type { MemberRead } from './sync-store.js';

/**
 * For ranges read whole: classic-level hands entries over in batches of at most 16 KB by
 * default, and a user in 1,000 rooms (~75 KB of keys) then costs five thread-pool round trips
 * instead of one; the extra trips are what shows at p99 (bench/).
 */
const WHOLE_RANGE = { highWaterMarkBytes: 256 * 1024 };

/** The Rooms store: who is in which room and what each room is, read by prefix ranges. */
export class Rooms implements RoomsReader {
  readonly #ns: Namespaces;

  constructor(ns: Namespaces) {
    this.#ns = ns;
  }

  /** Rooms the user is joined to, sorted by room id. */
  async roomsOf(userId: UserId): Promise<RoomId[]> {
    const keys = await this.#ns.userRooms.keys({ ...prefixRange(userId), ...WHOLE_RANGE }).all();
    return keys.map((k) => suffixOf(k) as RoomId);
  }

  /**
   * Members of the room with their profiles, sorted by user id: the joined ones, or those of
   * the given membership, or (`'all'`) everyone the room has a membership for.
   */
  async membersOf(roomId: RoomId, options: { membership?: Membership | 'all' } = {}): Promise<Member[]> {
    const want = options.membership ?? 'join';
    const entries = await this.#ns.roomUsers.iterator({ ...prefixRange(roomId), ...WHOLE_RANGE }).all();
    const members: Member[] = [];
    for (const [k, v] of entries) {
      // Joined members are told apart by the value's prefix, without decoding the rest.
      if (want === 'join' && !isJoinedValue(v)) continue;
      const state = decodeStored(roomId, k, v);
      if (want !== 'all' && state.membership !== want) continue;
      members.push({ userId: suffixOf(k) as UserId, ...state });
    }
    return members;
  }

  /** The stored membership and profile of one user in the room, if any. */
  async member(roomId: RoomId, userId: UserId): Promise<MemberState | undefined> {
    const key = roomUserKey(roomId, userId);
    const v = await this.#ns.roomUsers.get(key);
    return v === undefined ? undefined : decodeStored(roomId, key, v);
  }

  /** @internal The stored state of some members of a room, in one read (for the pipeline). */
  async memberStates(roomId: RoomId, userIds: readonly UserId[] | 'all'): Promise<Map<UserId, MemberState>> {
    const out = new Map<UserId, MemberState>();
    if (userIds === 'all') {
      for (const [k, v] of await this.#ns.roomUsers.iterator({ ...prefixRange(roomId), ...WHOLE_RANGE }).all()) {
        out.set(suffixOf(k) as UserId, decodeStored(roomId, k, v));
      }
      return out;
    }
    if (userIds.length === 0) return out;
    const keys = userIds.map((u) => roomUserKey(roomId, u));
    const values = await this.#ns.roomUsers.getMany(keys);
    for (const [i, v] of values.entries()) if (v !== undefined) out.set(userIds[i]!, decodeStored(roomId, keys[i]!, v));
    return out;
  }

  /** `memberStates` of many rooms, in order: every named user of every room in one `getMany`. */
  async memberStatesOf(requests: readonly MemberRead[]): Promise<Map<UserId, MemberState>[]> {
    const keys: string[] = [];
    for (const r of requests) if (r.users !== 'all') for (const u of r.users) keys.push(roomUserKey(r.roomId, u));
    const [values, wholes] = await Promise.all([
      keys.length === 0 ? [] : this.#ns.roomUsers.getMany(keys),
      Promise.all(requests.map((r) => (r.users === 'all' ? this.memberStates(r.roomId, 'all') : Promise.resolve(undefined)))),
    ]);
    let k = 0;
    return requests.map((r, i) => {
      if (r.users === 'all') return wholes[i]!;
      const out = new Map<UserId, MemberState>();
      for (const u of r.users) {
        const v = values[k];
        if (v !== undefined) out.set(u, decodeStored(r.roomId, keys[k]!, v));
        k++;
      }
      return out;
    });
  }

  /**
   * The room's name as a client of `viewer` shows it (spec: "Calculating the display name for
   * a room"). With the server's heroes it reads only theirs; without, every membership.
   */
  async displayName(roomId: RoomId, viewer: UserId): Promise<string> {
    const info = await this.info(roomId);
    if (info === undefined) return roomId;
    const named = roomDisplayName({ name: info.name, canonicalAlias: info.canonicalAlias, members: [], botUserId: viewer });
    if (named.source === 'name' || named.source === 'alias') return named.text;
    const hasSummary = info.heroes !== undefined && info.heroes.length > 0 && info.joinedCount !== undefined;
    const members = hasSummary
      ? [...(await this.memberStates(roomId, info.heroes!))].map(([userId, m]) => ({ userId, ...m }))
      : await this.membersOf(roomId, { membership: 'all' });
    return roomDisplayName({
      heroes: hasSummary ? info.heroes : undefined,
      joinedCount: hasSummary ? info.joinedCount : undefined,
      invitedCount: hasSummary ? (info.invitedCount ?? 0) : undefined,
      members,
      botUserId: viewer,
    }).text;
  }

  /**
   * The room's family, oldest first: its predecessors (m.room.create) and successors
   * (m.room.tombstone) as far as the store tracks them, the room itself included.
   */
  async lineage(roomId: RoomId): Promise<RoomId[]> {
    const line: RoomId[] = [roomId];
    const seen = new Set<RoomId>(line);
    for (let info = await this.info(roomId); info?.predecessor !== undefined && !seen.has(info.predecessor.roomId); ) {
      const prev = info.predecessor.roomId;
      line.unshift(prev);
      seen.add(prev);
      info = await this.info(prev);
    }
    for (let info = await this.info(roomId); info?.successor !== undefined && !seen.has(info.successor.roomId); ) {
      const next = info.successor.roomId;
      line.push(next);
      seen.add(next);
      info = await this.info(next);
    }
    return line;
  }

  /** Number of joined members of the room. */
  async memberCount(roomId: RoomId): Promise<number> {
    let n = 0;
    for await (const v of this.#ns.roomUsers.values({ ...prefixRange(roomId), ...WHOLE_RANGE })) if (isJoinedValue(v)) n++;
    return n;
  }

  /** How many members of each membership the room has. */
  async memberCounts(roomId: RoomId): Promise<Record<Membership, number>> {
    const counts: Record<Membership, number> = { join: 0, invite: 0, knock: 0, leave: 0, ban: 0 };
    for await (const [k, v] of this.#ns.roomUsers.iterator({ ...prefixRange(roomId), ...WHOLE_RANGE })) {
      counts[decodeStored(roomId, k, v).membership]++;
    }
    return counts;
  }

  /** True when the user is a joined member of the room. */
  async isMember(roomId: RoomId, userId: UserId): Promise<boolean> {
    return this.#ns.userRooms.has(userRoomKey(userId, roomId));
  }

  /** The room's metadata, or undefined when the bot does not track the room. */
  async info(roomId: RoomId): Promise<RoomInfo | undefined> {
    const raw = await this.#ns.rooms.get(roomId);
    return raw === undefined ? undefined : decodeInfo(roomId, raw);
  }

  /**
   * True when a membership event or a block of the tracked room could not be read, so its
   * members as stored may be incomplete: never take such a room for a private one.
   */
  async membershipUncertain(roomId: RoomId): Promise<boolean> {
    return (await this.info(roomId))?.membershipUncertain === true;
  }

  /** RoomInfo of many rooms in one read; undefined where a room is not tracked. */
  async infos(roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> {
    if (roomIds.length === 0) return [];
    const raws = await this.#ns.rooms.getMany(roomIds as RoomId[]);
    return raws.map((raw, i) => (raw === undefined ? undefined : decodeInfo(roomIds[i]!, raw)));
  }

  /** Rooms both users are joined to, sorted by room id. */
  async sharedRooms(a: UserId, b: UserId): Promise<RoomId[]> {
    const [ra, rb] = await Promise.all([this.roomsOf(a), this.roomsOf(b)]);
    const other = new Set(rb);
    return ra.filter((r) => other.has(r));
  }

  /** Every tracked room, sorted by room id. */
  async allRooms(): Promise<RoomId[]> {
    return (await this.#ns.rooms.keys().all()) as RoomId[];
  }

  /** Number of distinct users who are joined to at least one tracked room. */
  async userCount(): Promise<number> {
    // Seek past each user's range instead of visiting every membership.
    const it = this.#ns.userRooms.keys();
    let n = 0;
    try {
      for (let key = await it.next(); key !== undefined; key = await it.next()) {
        n++;
        it.seek(afterPrefix(headOf(key)));
      }
    } finally {
      await it.close();
    }
    return n;
  }

  /** Every user joined to a tracked room, sorted, each with their rooms (for `inspect`). */
  async allUsers(): Promise<{ userId: UserId; rooms: RoomId[] }[]> {
    const users: { userId: UserId; rooms: RoomId[] }[] = [];
    for await (const key of this.#ns.userRooms.keys()) {
      const userId = headOf(key) as UserId;
      const last = users.at(-1);
      if (last?.userId === userId) last.rooms.push(suffixOf(key) as RoomId);
      else users.push({ userId, rooms: [suffixOf(key) as RoomId] });
    }
    // Keys order by `userId SEP`, and SEP sorts after every ASCII byte: `@al:xy` comes before
    // `@al:x`. Each user's keys are still contiguous, so sorting the groups is enough.
    return users.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }
}

function decodeStored(roomId: RoomId, key: string, value: string): MemberState {
  const state = decodeMember(value);
  if (state === undefined) throw new RoomkeeperError('STORE_CORRUPT', `membership of ${suffixOf(key)} in ${roomId} is unreadable`);
  return state;
}

/** A stored RoomInfo, checked; STORE_CORRUPT with the room's id when it is not one. */
export function decodeInfo(roomId: RoomId, raw: string): RoomInfo {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new RoomkeeperError('STORE_CORRUPT', `RoomInfo of ${roomId} is not JSON`, { cause: err });
  }
  const parsed = roomInfoSchema.safeParse(json);
  if (!parsed.success) {
    throw new RoomkeeperError('STORE_CORRUPT', `RoomInfo of ${roomId} is invalid: ${parsed.error.message}`);
  }
  return parsed.data;
}
