import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Pipeline } from '../../src/sync/pipeline.js';
import { collectGarbage, dirBytes, drive, peakRssMb, silentLogger, type Throughput } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { CeilingStore } from '../stores/ceiling-store.js';
import { MemoryStore } from '../stores/memory-store.js';
import { readWorkload } from '../workload-file.js';
import { botUserId } from './replay.js';

export interface CeilingResult {
  events: number;
  memberEvents: number;
  keysWritten: number;
  batches: number;
  /** Time inside the root database's batch writes only. */
  batchMs: number;
  diskBytes: number;
  /** The same writes through the array form of db.batch, for comparison with the probe. */
  arrayBatchMs: number;
}

/**
 * The LevelDB write ceiling: the same keys and values the store writes for the big workload,
 * in the same batches, on a fresh database opened with the store's options; then again through
 * the array form of db.batch on another fresh database.
 */
export async function leveldbCeiling(_plan: Plan, base: string): Promise<CeilingResult> {
  const p = paths(base);
  const run = async (form: 'chained' | 'array') => {
    const location = join(p.ceilingData, form);
    const db = new ClassicLevel<string, string>(location, { writeBufferSize: 16 * 1024 * 1024 });
    await db.open();
    const store = new CeilingStore(db, form);
    const t = await drive(new Pipeline(store, { botUserId, log: silentLogger() }), readWorkload(p.bigStream));
    await db.close();
    const diskBytes = await dirBytes(location);
    await rm(location, { recursive: true, force: true });
    return { t, store, diskBytes };
  };
  const chained = await run('chained');
  const array = await run('array');
  const { t, store, diskBytes } = chained;
  return { events: t.events, memberEvents: t.memberEvents, keysWritten: store.keysWritten, batches: store.batches, batchMs: store.batchMs, diskBytes, arrayBatchMs: array.store.batchMs };
}

export interface MemoryResult {
  run: Throughput;
  rerun: Throughput;
  /** The 1,000-room workload, where the heap stays small enough not to be GC-bound. */
  small: Throughput;
  memberships: number;
  roomsOfHubs: number[];
  rssMb: number;
}

/** The real Pipeline over Maps and Sets: the same semantics with no storage cost at all. */
export async function memoryCeiling(_plan: Plan, base: string, hubs: readonly string[]): Promise<MemoryResult> {
  const p = paths(base);
  // The small workload first, in a fresh heap: at 1M events the Maps themselves make V8's major
  // GCs the bound, and that is worth seeing separately.
  const small = await drive(new Pipeline(new MemoryStore(), { botUserId, log: silentLogger() }), readWorkload(p.smallStream));
  collectGarbage();
  const store = new MemoryStore();
  const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
  const run = await drive(pipeline, readWorkload(p.bigStream));
  collectGarbage();
  const rerun = await drive(pipeline, readWorkload(p.bigStream));
  const roomsOfHubs = hubs.map((u) => store.roomsOf(u).length);
  return { run, rerun, small, memberships: store.membershipCount(), roomsOfHubs, rssMb: peakRssMb() };
}
