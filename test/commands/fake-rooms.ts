import { parseRoomId, parseUserId, type RoomId, type UserId } from '../../src/state/ids.js';
import type { Membership } from '../../src/state/events.js';
import type { Member, RoomInfo } from '../../src/state/room-info.js';
import { roomDisplayName } from '../../src/state/room-name.js';
import type { RoomsReader } from '../../src/store/rooms-reader.js';

/** A user id for tests; throws on a typo. */
export function uid(s: string): UserId {
  const id = parseUserId(s);
  if (!id) throw new TypeError(`bad user id in test: ${s}`);
  return id;
}

/** A room id for tests; throws on a typo. */
export function rid(s: string): RoomId {
  const id = parseRoomId(s);
  if (!id) throw new TypeError(`bad room id in test: ${s}`);
  return id;
}

export interface FakeRoom {
  id: string;
  name?: string;
  alias?: string;
  topic?: string;
  encrypted?: boolean;
  joinedAt?: number;
  /** Joined user ids, or [user id, display name], or [user id, display name, membership]. */
  members: (string | [string, string] | [string, string | undefined, Membership])[];
  /** Anything else of the RoomInfo (power levels, version, lineage, …). */
  more?: Partial<RoomInfo>;
}

const byString = <T extends string>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);

/** An in-memory RoomsReader for unit tests of the commands. */
export class FakeRooms implements RoomsReader {
  readonly #rooms = new Map<RoomId, { info: RoomInfo; members: Member[] }>();

  constructor(rooms: readonly FakeRoom[] = []) {
    for (const r of rooms) this.add(r);
  }

  add(r: FakeRoom): this {
    const roomId = rid(r.id);
    const info: RoomInfo = { roomId, encrypted: r.encrypted ?? false, updatedAt: 0 };
    if (r.name !== undefined) info.name = r.name;
    if (r.alias !== undefined) info.canonicalAlias = r.alias;
    if (r.topic !== undefined) info.topic = r.topic;
    if (r.joinedAt !== undefined) info.joinedAt = r.joinedAt;
    Object.assign(info, r.more);
    const members = r.members
      .map((m): Member => {
        if (typeof m === 'string') return { userId: uid(m), membership: 'join' };
        const member: Member = { userId: uid(m[0]), membership: m[2] ?? 'join' };
        if (m[1] !== undefined) member.displayName = m[1];
        return member;
      })
      .sort((a, b) => byString(a.userId, b.userId));
    this.#rooms.set(roomId, { info, members });
    return this;
  }

  roomsOf(userId: UserId): Promise<RoomId[]> {
    const ids = [...this.#rooms].filter(([, r]) => r.members.some((m) => m.userId === userId && m.membership === 'join')).map(([id]) => id);
    return Promise.resolve(ids.sort(byString));
  }

  membersOf(roomId: RoomId, options: { membership?: Membership | 'all' } = {}): Promise<Member[]> {
    const want = options.membership ?? 'join';
    return Promise.resolve((this.#rooms.get(roomId)?.members ?? []).filter((m) => want === 'all' || m.membership === want));
  }

  memberCount(roomId: RoomId): Promise<number> {
    return Promise.resolve((this.#rooms.get(roomId)?.members ?? []).filter((m) => m.membership === 'join').length);
  }

  memberCounts(roomId: RoomId): Promise<Record<Membership, number>> {
    const counts: Record<Membership, number> = { join: 0, invite: 0, knock: 0, leave: 0, ban: 0 };
    for (const m of this.#rooms.get(roomId)?.members ?? []) counts[m.membership]++;
    return Promise.resolve(counts);
  }

  displayName(roomId: RoomId, viewer: UserId): Promise<string> {
    const r = this.#rooms.get(roomId);
    if (r === undefined) return Promise.resolve(roomId);
    return Promise.resolve(roomDisplayName({ name: r.info.name, canonicalAlias: r.info.canonicalAlias, members: r.members, botUserId: viewer }).text);
  }

  info(roomId: RoomId): Promise<RoomInfo | undefined> {
    const r = this.#rooms.get(roomId);
    return Promise.resolve(r ? { ...r.info } : undefined);
  }

  async sharedRooms(a: UserId, b: UserId): Promise<RoomId[]> {
    const theirs = new Set(await this.roomsOf(b));
    return (await this.roomsOf(a)).filter((id) => theirs.has(id));
  }

  allRooms(): Promise<RoomId[]> {
    return Promise.resolve([...this.#rooms.keys()].sort(byString));
  }
}
