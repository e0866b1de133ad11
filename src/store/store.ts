import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { RoomkeeperError } from '../errors.js';
import { parseUserId, type UserId } from '../state/ids.js';
import { fillCommit, writeBatch } from './commit.js';
import { Guard } from './guard.js';
import { namespaces, prefixesOf, type Db, type Namespaces, type Prefixes } from './level.js';
import { META_KEYS, type KeyValue } from './meta-keys.js';
import { migrate1to2, type MigrateOptions } from './migrate.js';
import { Rooms } from './rooms.js';
import { markCount, type CommitPlan, type SyncStore } from './sync-store.js';
import { WriteLock } from './write-lock.js';

export type { KeyValue } from './meta-keys.js';
export type { CommitPlan, MetaWrite, RoomEvents, SyncStore } from './sync-store.js';
export { Guard } from './guard.js';

/** Version of the key layout and value formats written by this code. */
export const SCHEMA_VERSION = 2;

const META_SCHEMA = META_KEYS.schemaVersion;

/** The roomkeeper database in a data directory: guard, Rooms, and meta, in one LevelDB. */
export class Store implements SyncStore {
  readonly rooms: Rooms;
  readonly guard: Guard;
  readonly meta: KeyValue;
  readonly dataDir: string;
  readonly #db: Db;
  readonly #ns: Namespaces;
  readonly #prefix: Prefixes;
  readonly #lock = new WriteLock();
  #commitSeq = 0;
  #closing = false;

  private constructor(dataDir: string, db: Db, guardCount: number) {
    this.dataDir = dataDir;
    this.#db = db;
    this.#ns = namespaces(db);
    this.#prefix = prefixesOf(this.#ns);
    this.rooms = new Rooms(this.#ns);
    this.guard = new Guard({ db, ns: this.#ns, prefix: this.#prefix, lock: this.#lock, count: guardCount, closing: () => this.#closing });
    const meta = this.#ns.meta;
    this.meta = {
      get: (key) => meta.get(key),
      // Under the write lock, in order with commits that carry meta writes (see MetaWrite).
      put: (key, value) => this.#lock.run(() => meta.put(key, value)),
      del: (key) => this.#lock.run(() => meta.del(key)),
    };
  }

  /**
   * Opens (creating if needed) the store of a data directory, upgrading a schema-1 directory in
   * place first. Fails with STORE_LOCKED when another process holds it and STORE_SCHEMA_TOO_NEW
   * when a newer roomkeeper wrote it.
   */
  static async open(dataDir: string, migration?: MigrateOptions): Promise<Store> {
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (err) {
      throw new RoomkeeperError('STORE_OPEN_FAILED', `cannot create data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
    }
    const db: Db = new ClassicLevel<string, string>(join(dataDir, 'leveldb'), {
      // Bigger memtables mean fewer, larger level-0 files during bulk replays.
      writeBufferSize: 16 * 1024 * 1024,
    });
    try {
      await db.open();
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') {
        throw new RoomkeeperError('STORE_LOCKED', `data directory ${dataDir} is in use by another roomkeeper process`, { cause: err });
      }
      throw new RoomkeeperError('STORE_OPEN_FAILED', `cannot open the database in ${dataDir}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const meta = db.sublevel('meta');
      const version = await meta.get(META_SCHEMA);
      if (version === undefined) {
        await meta.put(META_SCHEMA, String(SCHEMA_VERSION));
      } else if (version === '1') {
        // Upgraded in place, resumably: a start interrupted part way picks up where it stopped.
        const ns = namespaces(db);
        await migrate1to2(db, ns, prefixesOf(ns), migration);
      } else if (!/^\d+$/.test(version)) {
        throw new RoomkeeperError('STORE_CORRUPT', `data directory ${dataDir} has an unreadable schema version "${version}"`);
      } else if (Number(version) > SCHEMA_VERSION) {
        throw new RoomkeeperError(
          'STORE_SCHEMA_TOO_NEW',
          `data directory ${dataDir} was written by a newer roomkeeper (schema ${version}; this version reads up to ${SCHEMA_VERSION}); upgrade roomkeeper`,
        );
      }
      const count = Number((await meta.get(META_KEYS.guardCount)) ?? '0');
      return new Store(dataDir, db, count);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** The bot whose pipeline last wrote to this store (for naming rooms as its client would). */
  async botUserId(): Promise<UserId | undefined> {
    const raw = await this.#ns.meta.get(META_KEYS.botUserId);
    return raw === undefined ? undefined : parseUserId(raw);
  }

  /** The /sync token committed with the last fully processed response. */
  async syncToken(): Promise<string | undefined> {
    return this.#ns.meta.get(META_KEYS.syncToken);
  }

  /** Writes a commit plan as one atomic batch. */
  async commit(plan: CommitPlan): Promise<void> {
    await this.#lock.run(() =>
      writeBatch(this.#db, async (batch) => {
        const n = await fillCommit(plan, batch, {
          prefix: this.#prefix,
          ns: this.#ns,
          guardCount: this.guard.count(),
          nextSeq: () => this.#commitSeq++,
        });
        return n > 0 ? () => this.guard.added(markCount(plan.marks)) : undefined;
      }),
    );
  }

  /** Closes the database; waits for a commit in flight. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#lock.settled();
    await this.#db.close();
  }
}
