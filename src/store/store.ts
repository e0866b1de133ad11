import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import { RoomkeeperError } from '../errors.js';
import type { StoreOp } from '../state/reduce.js';
import { encodeMember } from '../state/room-info.js';
import type { RoomId, UserId } from '../state/ids.js';
import { headOf, prefixRange, roomUserKey, SEP, suffixOf, timeKey, timeKeyBefore, userRoomKey } from './keys.js';
import { namespaces, type Db, type Namespaces } from './level.js';
import { Rooms } from './rooms.js';

/** Version of the key layout and value formats written by this code. */
export const SCHEMA_VERSION = 1;

const META_SCHEMA = 'schema-version';
const META_SYNC_TOKEN = 'sync-token';
const META_GUARD_COUNT = 'guard-count';

/** A room with at least this many guard keys to check has them answered from its range of the guard. */
const RANGE_READ_MIN_KEYS = 32;

/** Guard keys deleted per prune batch: small enough that a commit waiting behind it barely notices. */
const PRUNE_CHUNK_KEYS = 4096;

/** A string key-value view of the `meta` namespace, for matrix-bot-sdk's storage provider. */
export interface KeyValue {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
}

/**
 * The writes of one atomic batch, on the root database. Keys carry their namespace's prefix:
 * writing through the root with the prefix each sublevel would add (abstract-level's `!name!`,
 * read from the sublevel itself) lays the bytes on disk exactly as the sublevels do, without
 * abstract-level's per-operation sublevel resolution, which cost more than LevelDB's own write.
 */
interface RootBatch {
  put(key: string, value: string): unknown;
  del(key: string): unknown;
}

type Prefixes = { readonly [K in keyof Namespaces]: string };

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
  readonly #prefix: Prefixes;
  #guardCount: number;
  #commitSeq = 0;
  #closing = false;
  /** Commits and prune chunks run one at a time: the guard count and purges read then write. */
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(dataDir: string, db: Db, guardCount: number) {
    this.dataDir = dataDir;
    this.#db = db;
    this.#ns = namespaces(db);
    const ns = this.#ns;
    this.#prefix = {
      guard: ns.guard.prefix,
      guardByTime: ns.guardByTime.prefix,
      userRooms: ns.userRooms.prefix,
      roomUsers: ns.roomUsers.prefix,
      rooms: ns.rooms.prefix,
      meta: ns.meta.prefix,
    };
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
      } else if (!/^\d+$/.test(version)) {
        throw new RoomkeeperError('STORE_CORRUPT', `data directory ${dataDir} has an unreadable schema version "${version}"`);
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

  /**
   * @internal Whether each guard key is marked, in as few reads as the keys allow.
   *
   * A room with many keys to check (a join's state block, a re-delivered response) is read as
   * one range of at most twice as many keys: a room new to the store costs one seek instead of
   * one lookup per event, and a room whose guard holds little more than the response is
   * answered from its whole range. The range reads run side by side (bench/: on a cold 1M-event
   * replay the guard read went from ~3.8 to ~2 µs an event). A room with a longer history than
   * that, and every room with few keys (an incremental sync), goes to one getMany for the rest.
   * Not hasMany: classic-level's hasMany seeks an iterator per key, and after a prune each seek
   * walks every delete marker up to the next live key until compaction drops them (bench/:
   * commits stalled 150 ms while pruning); getMany's point lookups never look past their key.
   */
  async hasGuardKeys(keys: readonly string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const prefix = this.#prefix.guard;
    const byRoom = new Map<string, number[]>();
    const point: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.includes(SEP)) {
        point.push(i);
        continue;
      }
      const room = headOf(key);
      let at = byRoom.get(room);
      if (at === undefined) byRoom.set(room, (at = []));
      at.push(i);
    }
    const seen = new Array<boolean>(keys.length).fill(false);
    const ranges: Promise<void>[] = [];
    for (const [room, at] of byRoom) {
      if (at.length < RANGE_READ_MIN_KEYS) {
        for (const i of at) point.push(i);
        continue;
      }
      ranges.push(
        (async () => {
          const limit = 2 * at.length;
          const marked = await this.#db.keys({ ...prefixRange(prefix + room), limit }).all();
          if (marked.length >= limit) {
            for (const i of at) point.push(i);
            return;
          }
          const set = new Set(marked);
          for (const i of at) seen[i] = set.has(prefix + keys[i]!);
        })(),
      );
    }
    await Promise.all(ranges);
    if (point.length > 0) {
      const values = await this.#db.getMany(point.map((i) => prefix + keys[i]!));
      for (const [j, i] of point.entries()) seen[i] = values[j] !== undefined;
    }
    return seen;
  }

  /** Writes a commit plan as one atomic batch. */
  async commit(plan: CommitPlan): Promise<void> {
    await this.#exclusive(() =>
      this.#writeBatch(async (batch) => {
        const n = await this.#translate(plan, batch);
        return n > 0 ? () => void (this.#guardCount += plan.marks.length) : undefined;
      }),
    );
  }

  /** @internal See Guard.prune. */
  async pruneBefore(cutoffMs: number): Promise<number> {
    let removed = 0;
    // A prune of millions of entries must not hold up a shutdown: stop between chunks.
    while (!this.#closing) {
      const started = performance.now();
      const n = await this.#exclusive(() => this.#pruneChunk(cutoffMs));
      if (n === 0) return removed;
      removed += n;
      // Rest as long as the chunk took. Chunks back to back leave a sync commit one chunk of
      // waiting every time and write delete markers faster than LevelDB flushes its memtable,
      // which then blocks every writer for the length of a flush (bench/: 150 ms stalls while
      // pruning 1M entries; with the rest, under 100 ms and 7× the sync events processed
      // meanwhile, for a prune that takes ~1.7× as long).
      await sleep(performance.now() - started);
    }
    return removed;
  }

  /** Closes the database; waits for a commit in flight. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#writing.catch(() => undefined);
    await this.#db.close();
  }

  async #pruneChunk(cutoffMs: number): Promise<number> {
    let n = 0;
    await this.#writeBatch(async (batch) => {
      const { guard, guardByTime, meta } = this.#prefix;
      let entries = 0;
      const it = this.#ns.guardByTime.iterator({ lt: timeKeyBefore(cutoffMs) });
      try {
        while (n < PRUNE_CHUNK_KEYS) {
          const entry = await it.next();
          if (entry === undefined) break;
          const [key, value] = entry;
          entries++;
          // One commit's entry can list up to maxBatchKeys marks; take what fits in this chunk
          // and leave the rest listed under the same key, so no chunk outgrows PRUNE_CHUNK_KEYS.
          const keys = value.split('\n');
          const take = Math.min(keys.length, PRUNE_CHUNK_KEYS - n);
          for (let i = 0; i < take; i++) batch.del(guard + keys[i]!);
          n += take;
          if (take < keys.length) batch.put(guardByTime + key, keys.slice(take).join('\n'));
          else batch.del(guardByTime + key);
        }
      } finally {
        await it.close();
      }
      if (entries === 0) return undefined;
      const count = Math.max(0, this.#guardCount - n);
      batch.put(meta + META_GUARD_COUNT, String(count));
      return () => void (this.#guardCount = count);
    });
    return n;
  }

  /**
   * Fills a chained batch on the root database and writes it when `fill` returns what to do
   * once it is written; closes it unwritten when `fill` returns undefined or throws.
   */
  async #writeBatch(fill: (batch: RootBatch) => Promise<(() => void) | undefined>): Promise<void> {
    const batch = this.#db.batch();
    let written = false;
    try {
      const after = await fill(batch);
      if (after === undefined) return;
      written = true;
      await batch.write();
      after();
    } finally {
      if (!written) await batch.close();
    }
  }

  /** Puts a commit plan's writes into `batch`; returns how many. */
  async #translate(plan: CommitPlan, batch: RootBatch): Promise<number> {
    const p = this.#prefix;
    let n = 0;
    const put = (key: string, value: string) => {
      batch.put(key, value);
      n++;
    };
    const del = (key: string) => {
      batch.del(key);
      n++;
    };
    const now = String(plan.now);
    for (const key of plan.marks) put(p.guard + key, now);
    if (plan.marks.length > 0) {
      put(p.guardByTime + timeKey(plan.now, this.#commitSeq++), plan.marks.join('\n'));
      put(p.meta + META_GUARD_COUNT, String(this.#guardCount + plan.marks.length));
    }
    // Members put earlier in this same batch, which a purge must also delete: its range read
    // sees only what is already on disk.
    const added = new Map<RoomId, Set<UserId>>();
    for (const op of plan.ops) {
      switch (op.op) {
        case 'put-member': {
          // Every membership is kept per room; only a join lists the room among the user's rooms.
          put(p.roomUsers + roomUserKey(op.roomId, op.userId), encodeMember(op.member));
          if (op.member.membership === 'join') put(p.userRooms + userRoomKey(op.userId, op.roomId), '');
          else del(p.userRooms + userRoomKey(op.userId, op.roomId));
          let set = added.get(op.roomId);
          if (set === undefined) added.set(op.roomId, (set = new Set()));
          set.add(op.userId);
          break;
        }
        case 'put-info':
          put(p.rooms + op.info.roomId, JSON.stringify(op.info));
          break;
        case 'purge-room': {
          const users = new Set<string>(added.get(op.roomId));
          for (const key of await this.#ns.roomUsers.keys(prefixRange(op.roomId)).all()) users.add(suffixOf(key));
          for (const userId of users) {
            del(p.roomUsers + roomUserKey(op.roomId, userId as UserId));
            del(p.userRooms + userRoomKey(userId as UserId, op.roomId));
          }
          del(p.rooms + op.roomId);
          added.delete(op.roomId);
          break;
        }
      }
    }
    if (plan.syncToken !== undefined) put(p.meta + META_SYNC_TOKEN, plan.syncToken);
    return n;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writing.then(fn, fn);
    this.#writing = run.catch(() => undefined);
    return run;
  }
}
