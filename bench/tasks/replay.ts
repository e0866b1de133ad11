import { parseUserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { collectGarbage, dirBytes, drive, memoryBreakdown, peakRssMb, silentLogger, type MemoryBreakdown, type Throughput } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { BOT_USER_ID } from '../workload.js';
import { readWorkload } from '../workload-file.js';

export const botUserId = parseUserId(BOT_USER_ID)!;

export interface ReplayResult {
  cold: Throughput;
  rerun: Throughput;
  churn?: Throughput;
  redelivery?: Throughput;
  guardCount: number;
  /** Peak RSS of the process after the cold replay, and at the end. */
  rssAfterColdMb: number;
  /** The resident set right after the cold replay, by kind. */
  memoryAfterCold?: MemoryBreakdown;
  rssMb: number;
  diskBytes: number;
}

/**
 * The real Store and Pipeline, cold over the 1M-event workload (a fresh data dir), then the same
 * stream again: every event a duplicate. The data dir is kept for the queries and prune tasks.
 */
export async function replayBig(plan: Plan, base: string): Promise<ReplayResult> {
  const p = paths(base);
  const store = await Store.open(p.bigData, { create: true });
  const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
  const cold = await drive(pipeline, readWorkload(p.bigStream), progress('cold replay', plan.big.rooms / plan.big.roomsPerResponse));
  const rssAfterColdMb = peakRssMb();
  const memoryAfterCold = memoryBreakdown();
  collectGarbage();
  const rerun = await drive(pipeline, readWorkload(p.bigStream));
  const guardCount = store.guard.count();
  await store.close();
  return { cold, rerun, guardCount, rssAfterColdMb, memoryAfterCold, rssMb: peakRssMb(), diskBytes: await dirBytes(p.bigData) };
}

/** The 1,000-room workload: cold, re-run, churn, then a duplicate-heavy re-delivery. */
export async function replaySmall(_plan: Plan, base: string): Promise<ReplayResult> {
  const p = paths(base);
  const store = await Store.open(p.smallData, { create: true });
  const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
  const cold = await drive(pipeline, readWorkload(p.smallStream));
  collectGarbage();
  const rerun = await drive(pipeline, readWorkload(p.smallStream));
  collectGarbage();
  const churn = await drive(pipeline, readWorkload(p.churnStream));
  collectGarbage();
  const redelivery = await drive(pipeline, readWorkload(p.redeliveryStream));
  const guardCount = store.guard.count();
  await store.close();
  return { cold, rerun, churn, redelivery, guardCount, rssAfterColdMb: NaN, rssMb: peakRssMb(), diskBytes: await dirBytes(p.smallData) };
}

/** A progress line on stderr every ~10% of a long phase. */
export function progress(label: string, totalResponses: number): (t: Throughput) => void {
  const step = Math.max(1, Math.round(totalResponses / 10));
  return (t) => {
    if (t.responses % step === 0) process.stderr.write(`  ${label}: ${t.events.toLocaleString('en-US')} events, ${Math.round((t.events * 1000) / t.ms).toLocaleString('en-US')}/s\n`);
  };
}
