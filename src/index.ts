/**
 * roomkeeper as a library: the processed-event guard and the Rooms store, fed by whole /sync
 * response bodies, for any matrix-bot-sdk bot to embed.
 */
import pino from 'pino';
import { RoomkeeperError } from './errors.js';
import type { Logger } from './log.js';
import { parseUserId } from './state/ids.js';
import type { RoomsReader } from './store/rooms-reader.js';
import type { Rooms } from './store/rooms.js';
import { Store } from './store/store.js';
import { Pipeline, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export { RoomkeeperError, isRoomkeeperError, type ErrorCode } from './errors.js';
export { parseRoomId, parseUserId, type EventId, type RoomId, type UserId } from './state/ids.js';
export type { Member, RoomInfo } from './state/room-info.js';
export type { RoomsReader } from './store/rooms-reader.js';
export { Rooms } from './store/rooms.js';
export { Guard } from './store/guard.js';
export { Store, SCHEMA_VERSION } from './store/store.js';
export type { CommitPlan, GuardReader, MetaWrite, RoomEvents, RoomInfoReader, SyncStore } from './store/sync-store.js';
export { Pipeline, type FreshEvent, type Invite, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export interface OpenOptions {
  /** Directory of the LevelDB database. One process at a time. */
  dataDir: string;
  /**
   * Create the database when the directory is absent or empty. Without it, a directory with no
   * roomkeeper database is refused (STORE_NOT_FOUND): a mistyped path never starts an empty record.
   */
  create?: boolean;
  /** The bot's own user id: its joins and leaves drive each room's life. */
  botUserId: string;
  /** A pino logger for warnings about malformed events; silent when left out. */
  log?: Logger;
}

/** An open roomkeeper store with its pipeline. */
export interface Roomkeeper {
  /** Who is in which room: roomsOf, membersOf, memberCount, info, sharedRooms, allRooms. */
  rooms: RoomsReader & Rooms;
  /**
   * Applies one whole /sync response body (in order, each once or more: duplicates are skipped).
   * Calls run one at a time in call order; STORE_CLOSED after close().
   */
  process(body: unknown): Promise<ProcessResult>;
  /** Forgets processed events older than `cutoffMs` (epoch ms); returns how many went. */
  prune(cutoffMs: number): Promise<number>;
  /** Counts since opening. */
  totals: PipelineTotals;
  /** The /sync token committed with the last processed response, to resume syncing from. */
  syncToken(): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Opens (with `create`, creates) a roomkeeper store for embedding. Fails with RoomkeeperError
 * `STORE_LOCKED` when another process has the directory open, `STORE_NOT_FOUND` when it holds no
 * database and `create` is not set.
 */
export async function openRoomkeeper(options: OpenOptions): Promise<Roomkeeper> {
  const botUserId = parseUserId(options.botUserId);
  if (botUserId === undefined) throw new TypeError(`botUserId: "${options.botUserId}" is not a user id like @bot:example.org`);
  const store = await Store.open(options.dataDir, { create: options.create === true });
  const pipeline = new Pipeline(store, { botUserId, log: options.log ?? pino({ level: 'silent' }) });

  // One body at a time, in the order they came: two at once would each read the guard and
  // RoomInfo before the other's commit, apply the same events twice and keep one RoomInfo.
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  const processInTurn = (body: unknown): Promise<ProcessResult> => {
    if (closed) return Promise.reject(new RoomkeeperError('STORE_CLOSED', 'this roomkeeper store is closed'));
    const run = tail.then(() => pipeline.process(body));
    tail = run.catch(() => undefined);
    return run;
  };

  return {
    rooms: store.rooms,
    process: processInTurn,
    prune: (cutoffMs) => store.guard.prune(cutoffMs),
    totals: pipeline.totals,
    syncToken: () => store.syncToken(),
    async close() {
      // Bodies asked for before close() still commit; any asked for after get STORE_CLOSED.
      closed = true;
      await tail;
      await store.close();
    },
  };
}
