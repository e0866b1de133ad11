import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseUserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { collectGarbage, dirBytes, drive, peakRssMb, perSecond, silentLogger } from '../measure.js';
import type { Plan } from '../plan.js';
import { bigSpec, initialStream, queryTargets } from '../workload.js';
import { botUserId } from './replay.js';

/** One point of the scale curve: a cold replay of `memberEvents` member events into a fresh data dir. */
export interface ScalePoint {
  scale: number;
  memberEvents: number;
  events: number;
  eventsPerS: number;
  memberEventsPerS: number;
  cpuUsPerEvent: number;
  /** Peak RSS of the process over the replay. */
  peakRssMb: number;
  /** RSS once the replay is over, garbage collected and LevelDB's compactions given a second. */
  steadyRssMb: number;
  diskMb: number;
  /** Store.open of the closed data dir until a first `roomsOf` answers. */
  openToReadyMs: number;
}

/**
 * The big workload's shape at `scale` × its 1M member events, generated in memory (no JSON file:
 * at 5M events it would be ~1.5 GB) and replayed cold through the real Store and Pipeline, in a
 * process of its own so that its peak RSS is its own.
 */
export async function scalePoint(plan: Plan, base: string, scale: number): Promise<ScalePoint> {
  const spec = bigSpec(plan.quick ? scale / 50 : scale);
  const dir = await mkdtemp(join(base, 'scale-'));
  try {
    const store = await Store.open(dir, { create: true });
    const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
    const t = await drive(pipeline, initialStream(spec));
    const peak = peakRssMb();
    await store.close();
    collectGarbage();
    await sleep(1000);
    const steady = process.memoryUsage().rss / (1024 * 1024);
    const hub = queryTargets(spec).userInTenthOfRooms;
    const t0 = performance.now();
    const reopened = await Store.open(dir);
    await reopened.rooms.roomsOf(parseUserId(hub)!);
    const openToReadyMs = performance.now() - t0;
    await reopened.close();
    return {
      scale,
      memberEvents: t.memberEvents,
      events: t.events,
      eventsPerS: perSecond(t.events, t.ms),
      memberEventsPerS: perSecond(t.memberEvents, t.ms),
      cpuUsPerEvent: (t.cpuMs * 1000) / t.events,
      peakRssMb: peak,
      steadyRssMb: steady,
      diskMb: (await dirBytes(dir)) / (1024 * 1024),
      openToReadyMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
