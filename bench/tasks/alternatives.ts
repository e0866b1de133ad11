import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Pipeline } from '../../src/sync/pipeline.js';
import { dirBytes, drive, peakRssMb, perSecond, silentLogger, type Throughput } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { SimpleFsStore } from '../stores/simplefs-store.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import { initialStream } from '../workload.js';
import { readWorkload } from '../workload-file.js';
import { botUserId } from './replay.js';

export interface SqliteResult {
  run: Throughput;
  rerun: Throughput;
  memberships: number;
  roomsOfHubs: number[];
  diskBytes: number;
  rssMb: number;
}

/** better-sqlite3 under the real Pipeline, cold and re-run over the big workload. */
export async function sqlite(_plan: Plan, base: string, hubs: readonly string[]): Promise<SqliteResult> {
  const p = paths(base);
  const dir = p.sqliteData;
  await mkdir(dir, { recursive: true });
  const store = new SqliteStore(join(dir, 'roomkeeper.sqlite'));
  const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
  const run = await drive(pipeline, readWorkload(p.bigStream));
  const rerun = await drive(pipeline, readWorkload(p.bigStream));
  const memberships = store.membershipCount();
  const roomsOfHubs = hubs.map((u) => store.roomsOf(u).length);
  store.close();
  return { run, rerun, memberships, roomsOfHubs, diskBytes: await dirBytes(dir), rssMb: peakRssMb() };
}

export interface SimpleFsPoint {
  /** Events already in the store when the timed window ended. */
  at: number;
  events: number;
  ms: number;
  eventsPerS: number;
  /** storeValue calls (whole-file rewrites) in the window. */
  writes: number;
  fileBytes: number;
}

/**
 * SimpleFsStorageProvider's rate at a store size: fill it (untimed, one file write) with the
 * events before the window, then time the window's events. Every storeValue rewrites the file,
 * so the rate falls as the store grows; the curve is the point.
 */
export async function simpleFs(plan: Plan, base: string): Promise<SimpleFsPoint[]> {
  const dir = paths(base).simplefsData;
  // One room per response: granular enough to stop near each size.
  const spec = { ...plan.small, roomsPerResponse: 1 };
  const points: SimpleFsPoint[] = [];
  for (const { at, window } of plan.simplefs) {
    const folder = join(dir, `simplefs-${at}`);
    const store = new SimpleFsStore(join(folder, 'storage.json'));
    const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
    const stream = initialStream(spec);
    let done = 0;
    store.defer(true);
    while (done < at - window) {
      const d = stream.next();
      if (d.done === true) break;
      await pipeline.process(d.value.body);
      done += d.value.events;
    }
    store.defer(false);
    const writes0 = store.writes;
    const window$ = (function* () {
      while (done < at) {
        const d = stream.next();
        if (d.done === true) return;
        done += d.value.events;
        yield d.value;
      }
    })();
    const t = await drive(pipeline, window$);
    points.push({ at: done, events: t.events, ms: t.ms, eventsPerS: perSecond(t.events, t.ms), writes: store.writes - writes0, fileBytes: await dirBytes(folder) });
    process.stderr.write(`  simplefs at ${done} events: ${perSecond(t.events, t.ms).toFixed(0)} events/s\n`);
  }
  return points;
}
