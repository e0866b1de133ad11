import type { Logger } from '../log.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';
import type { Pipeline } from './pipeline.js';

/** What reconciliation needs from the homeserver. */
export interface RoomSource {
  /** `GET /joined_rooms`. */
  joinedRooms(): Promise<RoomId[]>;
  /** `GET /rooms/{roomId}/state`: the room's full current state events. */
  roomState(roomId: RoomId): Promise<unknown[]>;
}

export interface ReconcileReport {
  /** Rooms the store had but the bot is no longer in. */
  purged: number;
  /** Rooms rebuilt from the server's current state. */
  snapshotted: number;
  unchanged: number;
  /** Rooms whose state could not be read; they are left as they were. */
  failed: number;
}

export interface ReconcileDeps {
  store: Store;
  pipeline: Pipeline;
  source: RoomSource;
  botUserId: UserId;
  log: Logger;
  /**
   * Rooms to leave alone because the bot is joining them right now: the sync that brings the
   * join rebuilds them, and a snapshot taken before it would be overwritten by that sync's older
   * events, which the guard has not seen.
   */
  isJoining?: (roomId: RoomId) => boolean;
}

/**
 * A room is stored completely when it has RoomInfo and the bot among its members: every
 * snapshot writes both. A room missing either came from an interrupted or older version, and
 * one migrated from an older layout says so (`needsRefresh`).
 */
async function isComplete(store: Store, roomId: RoomId, bot: UserId): Promise<boolean> {
  const info = await store.rooms.info(roomId);
  // Upgraded from schema 1, which held no profiles, power levels or lineage: read it again.
  if (info === undefined || info.needsRefresh === true) return false;
  return store.rooms.isMember(roomId, bot);
}

/**
 * Compares the rooms the server says the bot is in with the store: purges rooms it left,
 * snapshots rooms the store lacks or holds incompletely. With `only`, re-snapshots that one room
 * (or purges it when the bot is not in it).
 */
export async function reconcile(deps: ReconcileDeps, only?: RoomId): Promise<ReconcileReport> {
  const { store, pipeline, source, botUserId, log } = deps;
  const report: ReconcileReport = { purged: 0, snapshotted: 0, unchanged: 0, failed: 0 };
  const joined = new Set(await source.joinedRooms());
  const stored = new Set(await store.rooms.allRooms());
  const candidates = only === undefined ? new Set([...joined, ...stored]) : new Set([only]);

  for (const roomId of candidates) {
    if (!joined.has(roomId)) {
      if (stored.has(roomId)) {
        await pipeline.forgetRoom(roomId);
        report.purged++;
        log.debug({ roomId }, 'reconcile: purged a room the bot is no longer in');
      }
      continue;
    }
    if (only === undefined && (deps.isJoining?.(roomId) === true || (await isComplete(store, roomId, botUserId)))) {
      report.unchanged++;
      continue;
    }
    let state: unknown[];
    try {
      state = await source.roomState(roomId);
    } catch (err) {
      // One room's failure (e.g. the bot was kicked since /joined_rooms) must not stop the others.
      if (only !== undefined) throw err;
      report.failed++;
      log.warn({ err, roomId }, 'reconcile: could not read the state of a room; left as it was');
      continue;
    }
    const { invalid } = await pipeline.snapshotRoom(roomId, state);
    report.snapshotted++;
    log.debug({ roomId, invalid }, 'reconcile: rebuilt a room from its current state');
  }
  log.info(report, 'reconciled rooms with the homeserver');
  return report;
}
