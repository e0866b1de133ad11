import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import { RoomkeeperError } from '../errors.js';
import type { StoreOp } from '../state/reduce.js';
import type { RoomId, UserId } from '../state/ids.js';
import { prefixRange, roomUserKey, suffixOf, timeKey, timeKeyBefore, userRoomKey } from './keys.js';
import { namespaces, type Db, type LevelOp, type Namespaces } from './level.js';
import { Rooms } from './rooms.js';

/** Version of the key layout and value formats written by this code. */
export const SCHEMA_VERSION = 1;

const META_SCHEMA = 'schema-version';
const META_SYNC_TOKEN = 'sync-token';
const META_GUARD_COUNT = 'guard-count';

/** Guard keys deleted per prune batch: small enough that a commit waiting behind it barely notices. */
const PRUNE_CHUNK_KEYS = 4096;

/** A string key-value view of the `meta` namespace, for matrix-bot-sdk's storage provider. */
export interface KeyValue {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
}

/** Everything one commit writes, atomically. */
export interface CommitPlan {
  /** Guard keys of the events this commit processes for the first time. */
  marks: readonly string[];
  ops: readonly StoreOp[];
  /** The /sync `next_batch` once the whole response is in this or an earlier commit. */
  syncToken?: string;
  now: number;
}

/** The processed-event guard. */
export class Guard {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** For each guard key, whether an earlier commit marked it. One read for all of them. */
  async has(keys: readonly string[]): Promise<boolean[]> {
    return this.#store.hasGuardKeys(keys);
  }

  /** Number of guard entries (events remembered as processed). */
  count(): number {
    return this.#store.guardCount;
  }

  /**
   * Forgets events processed before `cutoffMs` (epoch ms) through the time index, a chunk at a
   * time so that commits running alongside wait at most one chunk. Returns how many it removed.
   */
  async prune(cutoffMs: number): Promise<number> {
    return this.#store.pruneBefore(cutoffMs);
  }
}

/** The roomkeeper database in a data directory: guard, Rooms, and meta, in one LevelDB. */
export class Store {
  readonly rooms: Rooms;
  readonly guard: Guard;
  readonly meta: KeyValue;
  readonly dataDir: string;
  readonly #db: Db;
  readonly #ns: Namespaces;
  #guardCount: number;
  #commitSeq = 0;
  /** Commits and prune chunks run one at a time: the guard count and purges read then write. */
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(dataDir: string, db: Db, guardCount: number) {
    this.dataDir = dataDir;
    this.#db = db;
    this.#ns = namespaces(db);
    this.#guardCount = guardCount;
    this.rooms = new Rooms(this.#ns);
    this.guard = new Guard(this);
    const meta = this.#ns.meta;
    this.meta = {
      get: (key) => meta.get(key),
      put: (key, value) => meta.put(key, value),
      del: (key) => meta.del(key),
    };
  }

  /**
   * Opens (creating if needed) the store of a data directory. Fails with STORE_LOCKED when another
   * process holds it and STORE_SCHEMA_TOO_NEW when a newer roomkeeper wrote it.
   */
  static async open(dataDir: string): Promise<Store> {
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
      } else if (Number(version) > SCHEMA_VERSION) {
        throw new RoomkeeperError(
          'STORE_SCHEMA_TOO_NEW',
          `data directory ${dataDir} was written by a newer roomkeeper (schema ${version}; this version reads up to ${SCHEMA_VERSION}); upgrade roomkeeper`,
        );
      }
      const count = Number((await meta.get(META_GUARD_COUNT)) ?? '0');
      return new Store(dataDir, db, count);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** The /sync token committed with the last fully processed response. */
  async syncToken(): Promise<string | undefined> {
    return this.#ns.meta.get(META_SYNC_TOKEN);
  }

  get guardCount(): number {
    return this.#guardCount;
  }

  /** @internal One getMany for all guard keys of a response. */
  async hasGuardKeys(keys: readonly string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const values = await this.#ns.guard.getMany(keys as string[]);
    return values.map((v) => v !== undefined);
  }

  /** Writes a commit plan as one atomic batch. */
  async commit(plan: CommitPlan): Promise<void> {
    await this.#exclusive(async () => {
      const ops = await this.#translate(plan);
      if (ops.length === 0) return;
      await this.#db.batch(ops);
      this.#guardCount += plan.marks.length;
    });
  }

  /** @internal See Guard.prune. */
  async pruneBefore(cutoffMs: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.#exclusive(() => this.#pruneChunk(cutoffMs));
      if (n === 0) return removed;
      removed += n;
      // Let sync commits and queries run between chunks.
      await yieldToLoop();
    }
  }

  /** Closes the database; waits for a commit in flight. */
  async close(): Promise<void> {
    await this.#writing.catch(() => undefined);
    await this.#db.close();
  }

  async #pruneChunk(cutoffMs: number): Promise<number> {
    const ops: LevelOp[] = [];
    let n = 0;
    const it = this.#ns.guardByTime.iterator({ lt: timeKeyBefore(cutoffMs) });
    try {
      while (n < PRUNE_CHUNK_KEYS) {
        const entry = await it.next();
        if (entry === undefined) break;
        const [key, value] = entry;
        ops.push({ type: 'del', sublevel: this.#ns.guardByTime, key });
        for (const guardKey of value.split('\n')) {
          ops.push({ type: 'del', sublevel: this.#ns.guard, key: guardKey });
          n++;
        }
      }
    } finally {
      await it.close();
    }
    if (ops.length === 0) return 0;
    const count = Math.max(0, this.#guardCount - n);
    ops.push({ type: 'put', sublevel: this.#ns.meta, key: META_GUARD_COUNT, value: String(count) });
    await this.#db.batch(ops);
    this.#guardCount = count;
    return n;
  }

  async #translate(plan: CommitPlan): Promise<LevelOp[]> {
    const { guard, guardByTime, userRooms, roomUsers, rooms, meta } = this.#ns;
    const ops: LevelOp[] = [];
    const now = String(plan.now);
    for (const key of plan.marks) ops.push({ type: 'put', sublevel: guard, key, value: now });
    if (plan.marks.length > 0) {
      ops.push({ type: 'put', sublevel: guardByTime, key: timeKey(plan.now, this.#commitSeq++), value: plan.marks.join('\n') });
      ops.push({ type: 'put', sublevel: meta, key: META_GUARD_COUNT, value: String(this.#guardCount + plan.marks.length) });
    }
    // Members put earlier in this same batch, which a purge must also delete: its range read
    // sees only what is already on disk.
    const added = new Map<RoomId, Set<UserId>>();
    for (const op of plan.ops) {
      switch (op.op) {
        case 'put-member': {
          ops.push({ type: 'put', sublevel: roomUsers, key: roomUserKey(op.roomId, op.userId), value: op.displayName ?? '' });
          ops.push({ type: 'put', sublevel: userRooms, key: userRoomKey(op.userId, op.roomId), value: '' });
          let set = added.get(op.roomId);
          if (set === undefined) added.set(op.roomId, (set = new Set()));
          set.add(op.userId);
          break;
        }
        case 'del-member':
          ops.push({ type: 'del', sublevel: roomUsers, key: roomUserKey(op.roomId, op.userId) });
          ops.push({ type: 'del', sublevel: userRooms, key: userRoomKey(op.userId, op.roomId) });
          break;
        case 'put-info':
          ops.push({ type: 'put', sublevel: rooms, key: op.info.roomId, value: JSON.stringify(op.info) });
          break;
        case 'purge-room': {
          const users = new Set<string>(added.get(op.roomId));
          for (const key of await roomUsers.keys(prefixRange(op.roomId)).all()) users.add(suffixOf(key));
          for (const userId of users) {
            ops.push({ type: 'del', sublevel: roomUsers, key: roomUserKey(op.roomId, userId as UserId) });
            ops.push({ type: 'del', sublevel: userRooms, key: userRoomKey(userId as UserId, op.roomId) });
          }
          ops.push({ type: 'del', sublevel: rooms, key: op.roomId });
          added.delete(op.roomId);
          break;
        }
      }
    }
    if (plan.syncToken !== undefined) ops.push({ type: 'put', sublevel: meta, key: META_SYNC_TOKEN, value: plan.syncToken });
    return ops;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(fn, fn);
    this.#writing = run.catch(() => undefined);
    return run;
  }
}
