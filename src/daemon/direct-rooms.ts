import type { DirectRoomSource } from '../commands/dispatch.js';
import type { RoomFacts } from '../commands/dm-policy.js';
import type { Logger } from '../log.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { KeyValue, Store } from '../store/store.js';

/** The bot's global account data, as far as DMs need it. */
export interface AccountData {
  getAccountData<T>(type: string): Promise<T>;
  setAccountData(type: string, content: unknown): Promise<unknown>;
}

type DirectMap = Record<string, string[]>;

const NOTICE_PREFIX = 'dm-notice:';

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
 * "Direct Messaging"), plus rooms it joined from an invite with `is_direct`, which it then adds
 * to `m.direct` itself as clients do. The "only in private" notice is remembered in the store so
 * that a restart does not repeat it.
 */
export class DirectRooms implements DirectRoomSource {
  #direct: DirectMap = {};
  #rooms = new Set<string>();
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
    this.#direct = typeof content === 'object' && content !== null ? { ...(content as DirectMap) } : {};
    this.#rooms = roomsIn(this.#direct);
  }

  /** True when the room is one of the bot's DMs. */
  isDirect(roomId: RoomId): boolean {
    return this.#rooms.has(roomId);
  }

  /** Records a room joined from an `is_direct` invite in `m.direct`, under the inviter. */
  async addDirect(roomId: RoomId, peer: UserId): Promise<void> {
    if (this.#rooms.has(roomId)) return;
    const next: DirectMap = { ...this.#direct, [peer]: [...(this.#direct[peer] ?? []), roomId] };
    this.update(next);
    await this.#account.setAccountData('m.direct', next);
    this.#log.info({ roomId, peer }, 'recorded a direct message room in m.direct');
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
