import { parseRoomId, parseUserId, type RoomId, type UserId } from '../../src/state/ids.js';
import type { Member, RoomInfo } from '../../src/state/room-info.js';
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
  /** User ids, or [user id, display name]. */
  members: (string | [string, string])[];
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
    const members = r.members
      .map((m): Member => (typeof m === 'string' ? { userId: uid(m), membership: 'join' } : { userId: uid(m[0]), membership: 'join', displayName: m[1] }))
      .sort((a, b) => byString(a.userId, b.userId));
    this.#rooms.set(roomId, { info, members });
    return this;
  }

  roomsOf(userId: UserId): Promise<RoomId[]> {
    const ids = [...this.#rooms].filter(([, r]) => r.members.some((m) => m.userId === userId)).map(([id]) => id);
    return Promise.resolve(ids.sort(byString));
  }

  membersOf(roomId: RoomId): Promise<Member[]> {
    return Promise.resolve([...(this.#rooms.get(roomId)?.members ?? [])]);
  }

  memberCount(roomId: RoomId): Promise<number> {
    return Promise.resolve(this.#rooms.get(roomId)?.members.length ?? 0);
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
