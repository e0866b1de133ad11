import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminStatus, PublicStatus, StatusSource } from '../commands/status.js';
import type { Store } from '../store/store.js';
import type { PipelineTotals } from '../sync/pipeline.js';

/** Bytes used by the files under `dir`. */
async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

/** What `!status` reports, read from the store and the pipeline's running totals. */
export function statusSource(store: Store, totals: PipelineTotals, version: string, startedAt: number): StatusSource {
  return {
    version,
    startedAt,
    async stats(): Promise<PublicStatus> {
      const [rooms, users] = await Promise.all([store.rooms.allRooms(), store.rooms.userCount()]);
      return {
        roomsTracked: rooms.length,
        usersTracked: users,
        eventsApplied: totals.applied,
        duplicatesSkipped: totals.duplicates,
        invalidEvents: totals.invalid,
        lastSyncAt: totals.lastCommitAt,
      };
    },
    async adminStats(): Promise<AdminStatus> {
      return { dataDirBytes: await directorySize(store.dataDir), guardEntries: store.guard.count() };
    },
  };
}
