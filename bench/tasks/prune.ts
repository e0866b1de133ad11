import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { percentile, silentLogger } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { churnStream, type Delivery } from '../workload.js';
import { botUserId } from './replay.js';

export interface LiveStats {
  responses: number;
  events: number;
  /** Gaps between consecutive commits of the live pipeline, ms, less the time spent generating bodies. */
  gapP50: number;
  gapP99: number;
  gapMax: number;
  /** Event-loop delay while running (perf_hooks.monitorEventLoopDelay), ms; body generation included. */
  loopDelayMax: number;
  loopDelayP99: number;
}

export interface PruneResult {
  removed: number;
  guardBefore: number;
  guardAfter: number;
  pruneMs: number;
  baseline: LiveStats;
  during: LiveStats;
}

/**
 * Prunes every guard entry the earlier tasks wrote (≈1M) while a live pipeline keeps processing
 * small incremental syncs back to back on the same store. The stall is the longest gap between
 * two consecutive live commits, against the same gap measured before pruning starts.
 */
export async function prune(plan: Plan, base: string): Promise<PruneResult> {
  // Everything committed before this process started is older than the cutoff; the live
  // stream's own commits are not.
  const cutoff = Date.now();
  const store = await Store.open(paths(base).bigData, { create: true });
  const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
  const live = churnStream(plan.big, plan.live);

  const runLive = async (until: () => boolean): Promise<LiveStats> => {
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const gaps: number[] = [];
    let responses = 0;
    let events = 0;
    let last = performance.now();
    while (!until()) {
      // Generating the next body is the benchmark's work, not the store's: keep it out of the gap.
      const g0 = performance.now();
      const d = live.next() as IteratorResult<Delivery, undefined>;
      if (d.done === true) break;
      last += performance.now() - g0;
      await pipeline.process(d.value.body);
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      responses++;
      events += d.value.events;
    }
    loop.disable();
    gaps.sort((a, b) => a - b);
    return {
      responses,
      events,
      gapP50: percentile(gaps, 50),
      gapP99: percentile(gaps, 99),
      gapMax: gaps.at(-1) ?? NaN,
      loopDelayMax: loop.max / 1e6,
      loopDelayP99: loop.percentile(99) / 1e6,
    };
  };

  const baselineEnd = performance.now() + plan.liveBaselineS * 1000;
  const baseline = await runLive(() => performance.now() >= baselineEnd);

  const guardBefore = store.guard.count();
  let pruning = true;
  let t1 = 0;
  const t0 = performance.now();
  const pruned = store.guard.prune(cutoff).finally(() => {
    pruning = false;
    t1 = performance.now();
  });
  const during = await runLive(() => !pruning);
  const removed = await pruned;
  const pruneMs = t1 - t0;
  const guardAfter = store.guard.count();
  await store.close();
  return { removed, guardBefore, guardAfter, pruneMs, baseline, during };
}
