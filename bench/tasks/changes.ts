import { openRoomkeeper } from '../../src/index.js';
import { latency, type Latency } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { BOT_USER_ID, queryTargets } from '../workload.js';

export interface ChangesResult {
  /** Changes in the big workload's log after its cold replay and re-run. */
  changes: number;
  /** The whole log read through `keeper.changes()`, each pass from the start. */
  readPasses: { ms: number; changes: number }[];
  history: { name: string; latency: Latency }[];
}

/**
 * In a fresh process over the big workload's data dir: the change log read from its start
 * through `keeper.changes()` as a consumer would (stored changes, page by page), then history
 * latencies by room and by user through their prefix ranges.
 */
export async function changes(plan: Plan, base: string): Promise<ChangesResult> {
  const keeper = await openRoomkeeper({ dataDir: paths(base).bigData, botUserId: BOT_USER_ID });
  try {
    const [newest] = await keeper.history({ limit: 1 });
    const readPasses: ChangesResult['readPasses'] = [];
    let total = 0;
    for (let pass = 0; pass < (plan.quick ? 1 : 5); pass++) {
      let n = 0;
      const t0 = performance.now();
      if (newest !== undefined) {
        for await (const change of keeper.changes()) {
          n++;
          // The iteration would go on waiting for live changes: stop at the last stored one.
          if (change.cursor === newest.cursor) break;
        }
      }
      readPasses.push({ ms: performance.now() - t0, changes: n });
      total = n;
    }
    const q = queryTargets(plan.big);
    const room = q.rooms[0]!.roomId;
    const out: ChangesResult['history'] = [];
    const runs = plan.queryRuns;
    out.push({ name: 'history: one room, newest 50', latency: await latency(() => keeper.history({ room, limit: 50 }), runs) });
    out.push({ name: `history: bot user (in ${plan.big.rooms} rooms), newest 50`, latency: await latency(() => keeper.history({ user: BOT_USER_ID, limit: 50 }), runs) });
    out.push({ name: 'history: whole log, newest 50', latency: await latency(() => keeper.history({ limit: 50 }), runs) });
    return { changes: total, readPasses, history: out };
  } finally {
    await keeper.close();
  }
}
