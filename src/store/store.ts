import { copyFile, link, mkdir, mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { RoomkeeperError } from '../errors.js';
import { parseUserId, type UserId } from '../state/ids.js';
import { ChangeLog } from './change-log.js';
import { fillCommit, writeBatch } from './commit.js';
import { inspectDataDir, MARKER_FILE } from './data-dir.js';
import { Guard } from './guard.js';
import { namespaces, prefixesOf, type Db, type Namespaces, type Prefixes } from './level.js';
import { META_KEYS, type KeyValue } from './meta-keys.js';
import { migrate1to2, type MigrateOptions } from './migrate.js';
import { Rooms } from './rooms.js';
import { convertingErrors, storeError } from './store-errors.js';
import { guardEntryCount, type CommitPlan, type CommitResult, type SyncStore } from './sync-store.js';
import { WriteLock } from './write-lock.js';

export type { KeyValue } from './meta-keys.js';
export type { CommitPlan, CommitResult, MetaWrite, RoomEvents, SyncStore } from './sync-store.js';
export { Guard } from './guard.js';

/** Version of the key layout and value formats written by this code. */
export const SCHEMA_VERSION = 2;

const META_SCHEMA = META_KEYS.schemaVersion;

/**
 * Where a store written before `commit-seq` existed starts its time-index sequence: past any
 * per-process counter of those runs, which restarted at 0 each time.
 */
const LEGACY_SEQ_START = 1_000_000_000;

/** How to open a data directory. */
export interface StoreOpenOptions {
  /**
   * Create the database when the directory is absent or empty (`run`, `replay`, the library's
   * explicit create). Without it a missing database is STORE_NOT_FOUND and nothing is created.
   */
  create?: boolean;
  /** How a schema-1 database is upgraded (chunk size, a hook after each chunk). */
  migration?: MigrateOptions;
}

/**
 * Data directories open in this process, by device and inode: LevelDB's in-process lock knows a
 * directory by the spelling of its path, and `dl`, `./dl` or a symlink to it would pass.
 */
const openHere = new Map<string, string>();

async function identityOf(dataDir: string): Promise<string> {
  const real = await realpath(dataDir);
  const { dev, ino } = await stat(real);
  return `${dev}:${ino}`;
}

/** Marks the directory as roomkeeper's: written before a database is created in it. */
async function writeMarker(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, MARKER_FILE), 'roomkeeper data directory: its database is in leveldb/\n');
}

const NOT_COPIED = new Set(['LOCK', 'LOG', 'LOG.old']);

/**
 * Whether an unmarked database (written before the marker file existed, or another
 * application's) holds roomkeeper's schema key, read from a copy: opening it in place would
 * write to it. Tables are immutable in LevelDB and are linked rather than copied where possible.
 */
async function hasRoomkeeperSchema(dbDir: string): Promise<boolean> {
  const copy = await mkdtemp(join(tmpdir(), 'roomkeeper-probe-'));
  try {
    for (const name of await readdir(dbDir)) {
      if (NOT_COPIED.has(name)) continue;
      const from = join(dbDir, name);
      if (/\.(ldb|sst)$/.test(name)) await link(from, join(copy, name)).catch(() => copyFile(from, join(copy, name)));
      else await copyFile(from, join(copy, name));
    }
    const db: Db = new ClassicLevel<string, string>(copy, { createIfMissing: false });
    await db.open();
    try {
      return (await db.sublevel('meta').get(META_SCHEMA)) !== undefined;
    } finally {
      await db.close();
    }
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/** The roomkeeper database in a data directory: guard, Rooms, and meta, in one LevelDB. */
export class Store implements SyncStore {
  readonly rooms: Rooms;
  readonly guard: Guard;
  /** Every change commits made to the record, in order: read after a cursor, by room or user, pruned by time. */
  readonly changes: ChangeLog;
  readonly meta: KeyValue;
  readonly dataDir: string;
  readonly #db: Db;
  readonly #ns: Namespaces;
  readonly #prefix: Prefixes;
  readonly #lock = new WriteLock();
  #commitSeq: number;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #id: string;

  private constructor(dataDir: string, db: Db, guardCount: number, commitSeq: number, changeSeq: number, id: string) {
    this.dataDir = dataDir;
    this.#db = db;
    this.#id = id;
    this.#commitSeq = commitSeq;
    this.#ns = namespaces(db);
    this.#prefix = prefixesOf(this.#ns);
    const convert = (err: unknown) => storeError(err, dataDir, 'use');
    this.rooms = convertingErrors(new Rooms(this.#ns), convert);
    this.guard = convertingErrors(
      new Guard({ db, ns: this.#ns, prefix: this.#prefix, lock: this.#lock, count: guardCount, closing: () => this.#closing }),
      convert,
    );
    this.changes = convertingErrors(
      new ChangeLog({ db, ns: this.#ns, prefix: this.#prefix, lock: this.#lock, nextSeq: changeSeq, closing: () => this.#closing }),
      convert,
    );
    const meta = this.#ns.meta;
    this.meta = convertingErrors<KeyValue>(
      {
        get: (key) => meta.get(key),
        // Under the write lock, in order with commits that carry meta writes (see MetaWrite).
        put: (key, value) => this.#lock.run(() => meta.put(key, value)),
        del: (key) => this.#lock.run(() => meta.del(key)),
      },
      convert,
    );
  }

  /**
   * Opens the store of a data directory; with `create`, creates it in an absent or empty one.
   * A schema-1 directory is upgraded in place first (`migration` tunes it, for tests).
   * Fails with STORE_NOT_FOUND (no database, no `create`), STORE_FOREIGN (not a roomkeeper data
   * directory), STORE_CORRUPT (damaged files, found before anything is written), STORE_LOCKED
   * (open in another process, or in this one under another spelling of its path),
   * STORE_SCHEMA_TOO_NEW, and the I/O codes of store-errors.ts.
   */
  static async open(dataDir: string, options: StoreOpenOptions = {}): Promise<Store> {
    const state = await inspectDataDir(dataDir).catch((err: unknown) => Promise.reject(storeError(err, dataDir, 'open')));
    const creating = state.kind === 'absent';
    if (creating && options.create !== true) throw new RoomkeeperError('STORE_NOT_FOUND', `no roomkeeper data directory at ${dataDir}`);
    const dbDir = join(dataDir, 'leveldb');
    let id: string;
    try {
      if (creating) {
        await mkdir(dbDir, { recursive: true });
        await writeMarker(dataDir);
      } else if (!state.marked && !(await hasRoomkeeperSchema(dbDir))) {
        throw new RoomkeeperError('STORE_FOREIGN', `${dataDir} is not a roomkeeper data directory: its database is another application's`);
      }
      id = await identityOf(dataDir);
    } catch (err) {
      throw storeError(err, dataDir, 'open');
    }
    const holder = openHere.get(id);
    if (holder !== undefined) {
      throw new RoomkeeperError('STORE_LOCKED', `data directory ${dataDir} is in use by another roomkeeper process or by this one (open as ${holder})`);
    }
    openHere.set(id, dataDir);
    try {
      return await Store.#openDb(dataDir, dbDir, creating, state.kind === 'database' && state.marked, id, options.migration);
    } catch (err) {
      openHere.delete(id);
      throw storeError(err, dataDir, 'open');
    }
  }

  static async #openDb(dataDir: string, dbDir: string, creating: boolean, marked: boolean, id: string, migration?: MigrateOptions): Promise<Store> {
    const db: Db = new ClassicLevel<string, string>(dbDir, {
      createIfMissing: creating,
      errorIfExists: creating,
      // Bigger memtables mean fewer, larger level-0 files during bulk replays.
      writeBufferSize: 16 * 1024 * 1024,
    });
    await db.open();
    try {
      const meta = db.sublevel('meta');
      const version = await meta.get(META_SCHEMA);
      if (version === undefined) {
        // A marked database without a schema version and without any key is ours, its creation
        // cut short (killed) between LevelDB's CURRENT and the schema version.
        const interrupted = marked && (await db.keys({ limit: 1 }).all()).length === 0;
        if (!creating && !interrupted) throw new RoomkeeperError('STORE_FOREIGN', `${dataDir} is not a roomkeeper data directory: its database has no roomkeeper schema version`);
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
      // A store from before marker files gets one once its schema version is read.
      if (!marked && !creating) await writeMarker(dataDir);
      const [count, seq, changeSeq] = await meta.getMany([META_KEYS.guardCount, META_KEYS.commitSeq, META_KEYS.changeSeq]);
      const firstSeq = seq !== undefined ? Number(seq) : creating ? 0 : LEGACY_SEQ_START;
      // Change cursors start at 1, so that no cursor is before the first change's.
      return new Store(dataDir, db, Number(count ?? '0'), firstSeq, Number(changeSeq ?? '1'), id);
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** The bot whose pipeline last wrote to this store (for naming rooms as its client would). */
  async botUserId(): Promise<UserId | undefined> {
    const raw = await this.meta.get(META_KEYS.botUserId);
    return raw === undefined ? undefined : parseUserId(raw);
  }

  /** The /sync token committed with the last fully processed response. */
  async syncToken(): Promise<string | undefined> {
    return this.meta.get(META_KEYS.syncToken);
  }

  /** Writes a commit plan as one atomic batch, its changes appended to the change log in it. */
  async commit(plan: CommitPlan): Promise<CommitResult> {
    if (this.#closing) throw new RoomkeeperError('STORE_CLOSED', `the roomkeeper store of ${this.dataDir} is closed`);
    const result: CommitResult = { changes: [] };
    await this.#lock.run(() =>
      writeBatch(this.#db, async (batch) => {
        const { keys, changes } = await fillCommit(plan, batch, {
          prefix: this.#prefix,
          ns: this.#ns,
          guardCount: this.guard.count(),
          nextSeq: () => this.#commitSeq++,
          appendChanges: (b, drafts, now) => this.changes.append(b, drafts, now),
        });
        if (keys === 0) return undefined;
        return () => {
          this.guard.added(guardEntryCount(plan));
          result.changes = changes;
          this.changes.logged(changes);
        };
      }),
    ).catch((err: unknown) => Promise.reject(storeError(err, this.dataDir, 'use')));
    return result;
  }

  /** Closes the database; waits for a commit in flight. Later calls get STORE_CLOSED. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    await this.#lock.settled();
    this.changes.closed();
    try {
      await this.#db.close();
    } catch (err) {
      throw storeError(err, this.dataDir, 'use');
    } finally {
      openHere.delete(this.#id);
    }
  }
}
