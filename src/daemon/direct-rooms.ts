import type { DirectRoomSource } from '../commands/dispatch.js';
import type { RoomFacts } from '../commands/dm-policy.js';
import type { Logger } from '../log.js';
import { serial } from '../serial.js';
import type { RoomId, UserId } from '../state/ids.js';
import { isJsonObject } from '../state/json.js';
import { META_PREFIXES } from '../store/meta-keys.js';
import type { KeyValue, Store } from '../store/store.js';

/** The bot's global account data, as far as DMs need it, and who the homeserver says is joined to a room. */
export interface AccountData {
  getAccountData<T>(type: string): Promise<T>;
  setAccountData(type: string, content: unknown): Promise<unknown>;
  /** `/rooms/{roomId}/joined_members`: the users joined now. */
  getJoinedRoomMembers(roomId: string): Promise<string[]>;
}

export interface DirectRoomsOptions {
  store: Store;
  account: AccountData;
  botUserId: UserId;
  log: Logger;
  now: () => number;
  /** How long the homeserver's answer about a room's members is reused (default 10 s). */
  membersCacheMs?: number;
}

/** Long enough for a burst of commands to cost one request, short enough that a join is noticed. */
const MEMBERS_CACHE_MS = 10_000;

type DirectMap = Record<string, string[]>;

const NOTICE_PREFIX = META_PREFIXES.dmNotice;
const ENCRYPTED_NOTICE_PREFIX = META_PREFIXES.encryptedDmNotice;

function roomsIn(map: unknown): Set<string> {
  const rooms = new Set<string>();
  if (typeof map !== 'object' || map === null) return rooms;
  for (const list of Object.values(map as Record<string, unknown>)) {
    if (Array.isArray(list)) for (const r of list) if (typeof r === 'string') rooms.add(r);
  }
  return rooms;
}

/**
 * Which rooms are the bot's direct messages: those in its `m.direct` account data (spec:
 * "Direct Messaging"), plus rooms it is invited to with `is_direct`, which count as direct from
 * the invite on and are added to `m.direct` once joined, as clients do. The "only in private"
 * notice is remembered in the store so that a restart does not repeat it.
 */
export class DirectRooms implements DirectRoomSource {
  /** `m.direct` as the server last sent it. */
  #server: DirectMap = {};
  /**
   * Rooms known direct from their invite but not (yet) in the server's `m.direct`: a sync can
   * bring an older `m.direct` than the one being written, and that must not undo them.
   */
  readonly #local = new Map<string, UserId>();
  #rooms = new Set<string>();
  /** The `m.direct` writes, one at a time: two in flight could land in either order. */
  readonly #writes = serial();
  readonly #store: Store;
  readonly #meta: KeyValue;
  readonly #account: AccountData;
  readonly #log: Logger;

  readonly #bot: UserId;
  readonly #now: () => number;
  readonly #membersCacheMs: number;
  /** The homeserver's joined members of rooms asked about lately, with when they were asked. */
  readonly #serverMembers = new Map<RoomId, { at: number; members: ReadonlySet<string> }>();

  constructor(options: DirectRoomsOptions) {
    this.#store = options.store;
    this.#meta = options.store.meta;
    this.#account = options.account;
    this.#bot = options.botUserId;
    this.#now = options.now;
    this.#membersCacheMs = options.membersCacheMs ?? MEMBERS_CACHE_MS;
    this.#log = options.log.child({ mod: 'direct-rooms' });
  }

  /** Reads `m.direct` from the server; a bot that has none yet starts with none. */
  async load(): Promise<void> {
    try {
      this.update(await this.#account.getAccountData<DirectMap>('m.direct'));
    } catch (err) {
      if ((err as { errcode?: string }).errcode !== 'M_NOT_FOUND') throw err;
      this.update({});
    }
  }

  /** Takes a new `m.direct` content, e.g. from a sync's account data. */
  update(content: unknown): void {
    this.#server = isJsonObject(content) ? { ...(content as DirectMap) } : {};
    const onServer = roomsIn(this.#server);
    for (const roomId of this.#local.keys()) if (onServer.has(roomId)) this.#local.delete(roomId);
    this.#rooms = new Set([...onServer, ...this.#local.keys()]);
  }

  /** True when the room is one of the bot's DMs. */
  isDirect(roomId: RoomId): boolean {
    return this.#rooms.has(roomId);
  }

  /**
   * An invite with `is_direct` from `peer`: the room is direct from now on, so that a command
   * in the response that brings the bot's join is not ignored while `m.direct` is being written.
   */
  expectDirect(roomId: RoomId, peer: UserId): void {
    if (this.#rooms.has(roomId)) return;
    this.#local.set(roomId, peer);
    this.#rooms.add(roomId);
  }

  /** The invite `expectDirect` was told about was not accepted after all. */
  abandonDirect(roomId: RoomId): void {
    if (!this.#local.delete(roomId)) return;
    this.#rooms = new Set([...roomsIn(this.#server), ...this.#local.keys()]);
  }

  /** Records a room joined from an `is_direct` invite in `m.direct`, under the inviter. */
  async addDirect(roomId: RoomId, peer: UserId): Promise<void> {
    if (roomsIn(this.#server).has(roomId)) return;
    this.expectDirect(roomId, peer);
    await this.#writes(async () => {
      // Written from the latest of both at the time of writing, so no earlier write's room is lost.
      const next = this.#merged();
      if (roomsIn(this.#server).has(roomId)) return;
      await this.#account.setAccountData('m.direct', next);
      this.#log.info({ roomId, peer }, 'recorded a direct message room in m.direct');
    });
  }

  #merged(): DirectMap {
    const next: DirectMap = { ...this.#server };
    for (const [roomId, peer] of this.#local) {
      const list: unknown = next[peer];
      const rooms = Array.isArray(list) ? (list as string[]) : [];
      if (!rooms.includes(roomId)) next[peer] = [...rooms, roomId];
    }
    return next;
  }

  async factsOf(roomId: RoomId): Promise<RoomFacts> {
    const [members, notice] = await Promise.all([this.#store.rooms.membersOf(roomId), this.#meta.get(NOTICE_PREFIX + roomId)]);
    return {
      isDirect: this.#rooms.has(roomId),
      joinedMembers: members.map((m) => m.userId),
      privateOnlyNoticeSent: notice !== undefined,
    };
  }

  async isPrivateOnServer(roomId: RoomId, sender: UserId): Promise<boolean> {
    const now = this.#now();
    let cached = this.#serverMembers.get(roomId);
    if (cached === undefined || now - cached.at >= this.#membersCacheMs) {
      for (const [r, entry] of this.#serverMembers) if (now - entry.at >= this.#membersCacheMs) this.#serverMembers.delete(r);
      cached = { at: now, members: new Set(await this.#account.getJoinedRoomMembers(roomId)) };
      this.#serverMembers.set(roomId, cached);
    }
    const { members } = cached;
    return members.size === 2 && members.has(sender) && members.has(this.#bot);
  }

  /** Whether the "cannot read encrypted messages" notice went out in this room, in any run. */
  async encryptedNoticeSent(roomId: RoomId): Promise<boolean> {
    return (await this.#meta.get(ENCRYPTED_NOTICE_PREFIX + roomId)) !== undefined;
  }

  /** Records that the "cannot read encrypted messages" notice went out in this room. */
  async markEncryptedNoticeSent(roomId: RoomId): Promise<void> {
    await this.#meta.put(ENCRYPTED_NOTICE_PREFIX + roomId, String(this.#now()));
  }

  async markPrivateOnlyNoticeSent(roomId: RoomId): Promise<void> {
    await this.#meta.put(NOTICE_PREFIX + roomId, String(this.#now()));
  }
}
