import type { DirectRoomSource } from '../commands/dispatch.js';
import type { RoomFacts } from '../commands/dm-policy.js';
import type { Logger } from '../log.js';
import type { RoomId, UserId } from '../state/ids.js';
import { META_PREFIXES } from '../store/meta-keys.js';
import type { KeyValue, Store } from '../store/store.js';

/** The bot's global account data, as far as DMs need it. */
export interface AccountData {
  getAccountData<T>(type: string): Promise<T>;
  setAccountData(type: string, content: unknown): Promise<unknown>;
}

type DirectMap = Record<string, string[]>;

const NOTICE_PREFIX = META_PREFIXES.dmNotice;

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
  #writes: Promise<unknown> = Promise.resolve();
  readonly #store: Store;
  readonly #meta: KeyValue;
  readonly #account: AccountData;
  readonly #log: Logger;

  constructor(store: Store, account: AccountData, log: Logger) {
    this.#store = store;
    this.#meta = store.meta;
    this.#account = account;
    this.#log = log.child({ mod: 'direct-rooms' });
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
    this.#server = typeof content === 'object' && content !== null ? { ...(content as DirectMap) } : {};
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
    const write = this.#writes.then(async () => {
      // Written from the latest of both at the time of writing, so no earlier write's room is lost.
      const next = this.#merged();
      if (roomsIn(this.#server).has(roomId)) return;
      await this.#account.setAccountData('m.direct', next);
      this.#log.info({ roomId, peer }, 'recorded a direct message room in m.direct');
    });
    this.#writes = write.catch(() => undefined);
    await write;
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

  async markPrivateOnlyNoticeSent(roomId: RoomId): Promise<void> {
    await this.#meta.put(NOTICE_PREFIX + roomId, String(Date.now()));
  }
}
