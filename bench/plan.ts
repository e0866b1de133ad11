import { join } from 'node:path';
import { bigSpec, smallSpec, type ChurnOptions, type WorkloadSpec } from './workload.js';

/**
 * What one run measures, in one place. `--quick` shrinks every workload so that the whole run
 * is a smoke test of the benchmark code (seconds), not a measurement.
 */
export interface Plan {
  quick: boolean;
  /** 10,000 rooms × ~100 members: the 1M-member-event workload. */
  big: WorkloadSpec;
  /** 1,000 rooms × 100 members. */
  small: WorkloadSpec;
  churn: ChurnOptions;
  redelivery: ChurnOptions & { window: number };
  /** The live stream that runs while pruning: small, back-to-back incremental syncs. */
  live: ChurnOptions;
  /** Seconds of live stream before pruning, for the baseline gap between commits. */
  liveBaselineS: number;
  queryRuns: number;
  /** SimpleFsStorageProvider: store sizes (events) to measure at, and events timed at each. */
  simplefs: { at: number; window: number }[];
}

export function makePlan(quick: boolean): Plan {
  return {
    quick,
    big: bigSpec(quick ? 0.02 : 1),
    small: smallSpec(quick ? 0.05 : 1),
    churn: { responses: quick ? 10 : 400, roomsPerResponse: 25, eventsPerRoom: 20, kickEvery: quick ? 4 : 40, stream: 1 },
    redelivery: { responses: quick ? 10 : 100, roomsPerResponse: 25, eventsPerRoom: 20, kickEvery: 0, stream: 2, window: 4 },
    live: { responses: 1_000_000, roomsPerResponse: 10, eventsPerRoom: 10, kickEvery: 0, stream: 3 },
    liveBaselineS: quick ? 0.3 : 10,
    queryRuns: quick ? 50 : 1_000,
    simplefs: quick
      ? [
          { at: 200, window: 100 },
          { at: 500, window: 100 },
        ]
      : [
          { at: 1_000, window: 300 },
          { at: 5_000, window: 150 },
          { at: 20_000, window: 60 },
        ],
  };
}

/** Where a run keeps its workload files and data directories, under one temporary base. */
export function paths(base: string) {
  const workload = join(base, 'workload');
  return {
    workload,
    bigStream: join(workload, 'big.jsonl'),
    smallStream: join(workload, 'small.jsonl'),
    churnStream: join(workload, 'churn.jsonl'),
    redeliveryStream: join(workload, 'redelivery.jsonl'),
    /** The big workload's LevelDB data dir, shared by the replay, queries and prune tasks. */
    bigData: join(base, 'big'),
    smallData: join(base, 'small'),
    ceilingData: join(base, 'ceiling'),
    sqliteData: join(base, 'sqlite'),
    simplefsData: join(base, 'simplefs'),
  };
}
