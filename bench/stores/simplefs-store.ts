import { createRequire } from 'node:module';
import type { RoomId } from '../../src/state/ids.js';
import { encodeMember, type RoomInfo } from '../../src/state/room-info.js';
import { guardKey, roomUserKey, userRoomKey } from '../../src/store/keys.js';
import { META_KEYS } from '../../src/store/meta-keys.js';
import type { CommitPlan, RoomEvents } from '../../src/store/sync-store.js';
import type { PipelineStore } from './pipeline-store.js';

/** matrix-bot-sdk's key-value storage API (`IStorageProvider.readValue/storeValue`). */
interface KvProvider {
  readValue(key: string): string | null | undefined;
  storeValue(key: string, value: string | undefined): void;
}

interface SimpleFsModule {
  SimpleFsStorageProvider: new (filename: string) => KvProvider & {
    db: { get(path: string): { value(): Record<string, string | undefined> }; write(): unknown };
  };
}

/**
 * Loaded from its own file: the package's index pulls in the native crypto binding, which is
 * not installed. This module needs only lowdb.
 */
const { SimpleFsStorageProvider } = createRequire(import.meta.url)('matrix-bot-sdk/lib/storage/SimpleFsStorageProvider.js') as SimpleFsModule;

/**
 * The same semantics on matrix-bot-sdk's built-in SimpleFsStorageProvider, through the key-value
 * API a bot would use: one value per guard mark and per membership, as in the LevelDB layout.
 * The API has no batch and no delete, so every storeValue rewrites the whole JSON file and a
 * removal stores `undefined` (dropped when the file is serialised).
 */
export class SimpleFsStore implements PipelineStore {
  readonly #kv: KvProvider;
  readonly #all: () => Record<string, string | undefined>;
  readonly #flush: () => void;
  #deferred = false;
  writes = 0;

  constructor(file: string) {
    const provider = new SimpleFsStorageProvider(file);
    this.#kv = provider;
    this.#all = () => provider.db.get('kvStore').value();
    this.#flush = () => void provider.db.write();
  }

  /**
   * While deferred, values go into the provider's in-memory object and the file is written once
   * at the end: how the benchmark fills the store up to a size before timing the next events.
   * The file ends up exactly as storeValue would have left it.
   */
  defer(on: boolean): void {
    this.#deferred = on;
    if (!on) this.#flush();
  }

  readonly guard = {
    has: (rooms: readonly RoomEvents[]): Promise<boolean[][]> =>
      Promise.resolve(rooms.map((r) => r.eventIds.map((e) => this.#kv.readValue(`guard:${guardKey(r.roomId, e)}`) != null))),
  };

  readonly rooms = {
    infos: (roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> =>
      Promise.resolve(
        roomIds.map((r) => {
          const raw = this.#kv.readValue(`rooms:${r}`);
          return raw == null ? undefined : (JSON.parse(raw) as RoomInfo);
        }),
      ),
  };

  commit(plan: CommitPlan): Promise<void> {
    const now = String(plan.now);
    for (const { roomId, eventIds } of plan.marks) for (const eventId of eventIds) this.#store(`guard:${guardKey(roomId, eventId)}`, now);
    for (const op of plan.ops) {
      switch (op.op) {
        case 'put-member':
          this.#store(`room-users:${roomUserKey(op.roomId, op.userId)}`, encodeMember(op.member));
          this.#store(`user-rooms:${userRoomKey(op.userId, op.roomId)}`, op.member.membership === 'join' ? '' : undefined);
          break;
        case 'put-info':
          this.#store(`rooms:${op.info.roomId}`, JSON.stringify(op.info));
          break;
        case 'purge-room': {
          // No range reads in a key-value API: scan every key (only churn workloads purge).
          const prefix = `room-users:${op.roomId}\u00ff`;
          for (const key of Object.keys(this.#all())) {
            if (!key.startsWith(prefix)) continue;
            const userId = key.slice(prefix.length);
            this.#store(key, undefined);
            this.#store(`user-rooms:${userId}\u00ff${op.roomId}`, undefined);
          }
          this.#store(`rooms:${op.roomId}`, undefined);
          break;
        }
      }
    }
    for (const write of plan.meta ?? []) this.#store(write.key, write.value());
    if (plan.syncToken !== undefined) this.#store(META_KEYS.syncToken, plan.syncToken);
    return Promise.resolve();
  }

  /** Number of values in the provider's file. */
  size(): number {
    return Object.keys(this.#all()).length;
  }

  #store(key: string, value: string | undefined): void {
    if (this.#deferred) {
      this.#all()[key] = value;
      return;
    }
    this.#kv.storeValue(key, value);
    this.writes++;
  }
}
