/**
 * roomkeeper as a library: the processed-event guard and the Rooms store, fed by whole /sync
 * response bodies, for any matrix-bot-sdk bot to embed.
 */
import pino from 'pino';
import type { Logger } from './log.js';
import { parseUserId } from './state/ids.js';
import type { RoomsReader } from './store/rooms-reader.js';
import type { Rooms } from './store/rooms.js';
import { Store } from './store/store.js';
import { Pipeline, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export { RoomkeeperError, isRoomkeeperError, type ErrorCode } from './errors.js';
export { parseRoomId, parseUserId, type EventId, type RoomId, type UserId } from './state/ids.js';
export type { Member, MemberState, RoomInfo } from './state/room-info.js';
export type { Membership } from './state/events.js';
export { roomDisplayName, type RoomDisplayName, type RoomNameInput } from './state/room-name.js';
export { displayNames, type NamedMember } from './state/member-names.js';
export { can, canSendState, powerOf, roleOf, staffOf, type PowerContext, type PowerLevels, type Role, type Staff } from './state/power-levels.js';
export type { RoomsReader } from './store/rooms-reader.js';
export { Rooms } from './store/rooms.js';
export { Guard } from './store/guard.js';
export { Store, SCHEMA_VERSION } from './store/store.js';
export type { CommitPlan, GuardReader, MetaWrite, RoomEvents, RoomInfoReader, SyncStore } from './store/sync-store.js';
export { Pipeline, type FreshEvent, type Invite, type PipelineTotals, type ProcessResult } from './sync/pipeline.js';

export interface OpenOptions {
  /** Directory of the LevelDB database; created if missing. One process at a time. */
  dataDir: string;
  /** The bot's own user id: its joins and leaves drive each room's life. */
  botUserId: string;
  /** A pino logger for warnings about malformed events; silent when left out. */
  log?: Logger;
}

/** An open roomkeeper store with its pipeline. */
export interface Roomkeeper {
  /** Who is in which room and what each room is: roomsOf, membersOf (any membership), memberCounts, displayName, lineage, info, sharedRooms, allRooms. */
  rooms: RoomsReader & Rooms;
  /** Applies one whole /sync response body (in order, each once or more: duplicates are skipped). */
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
 * Opens (or creates) a roomkeeper store for embedding. Fails with RoomkeeperError `STORE_LOCKED`
 * when another process has the directory open.
 */
export async function openRoomkeeper(options: OpenOptions): Promise<Roomkeeper> {
  const botUserId = parseUserId(options.botUserId);
  if (botUserId === undefined) throw new TypeError(`botUserId: "${options.botUserId}" is not a user id like @bot:example.org`);
  const store = await Store.open(options.dataDir);
  const pipeline = new Pipeline(store, { botUserId, log: options.log ?? pino({ level: 'silent' }) });
  return {
    rooms: store.rooms,
    process: (body) => pipeline.process(body),
    prune: (cutoffMs) => store.guard.prune(cutoffMs),
    totals: pipeline.totals,
    syncToken: () => store.syncToken(),
    close: () => store.close(),
  };
}
