import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startAppserviceListener } from '../../src/appservice/listener.js';
import type { Effects } from '../../src/daemon/effects.js';
import type { InviteService } from '../../src/daemon/invite-service.js';
import type { PendingInvites } from '../../src/daemon/pending-invites.js';
import { createTransactionSink } from '../../src/daemon/transaction-sink.js';
import { Metrics } from '../../src/http/metrics.js';
import { serial } from '../../src/serial.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { collectGarbage, dirBytes, drive, peakRssMb, perSecond, silentLogger } from '../measure.js';
import type { Plan } from '../plan.js';
import { initialStream, type Delivery, type RawEvent, type WorkloadSpec } from '../workload.js';
import { botUserId } from './replay.js';

/** One way of feeding the same events: how fast, at what CPU cost. */
export interface FeedResult {
  events: number;
  /** /sync bodies, or transactions. */
  batches: number;
  eventsPerS: number;
  cpuUsPerEvent: number;
  diskMb: number;
}

export interface AppserviceResult {
  /** The workload as /sync bodies through `Pipeline.process` (what `roomkeeper replay` does). */
  sync: FeedResult;
  /** The same events as 100-event transactions through the daemon's transaction sink, no HTTP. */
  sink: FeedResult;
  /** The same transactions PUT one at a time to the real listener over loopback HTTP, as a homeserver sends them. */
  http: FeedResult;
  eventsPerTransaction: number;
  peakRssMb: number;
}

/** Synapse's most events per transaction (synapse/appservice/scheduler.py, MAX_PERSISTENT_EVENTS_PER_TRANSACTION). */
const EVENTS_PER_TRANSACTION = 100;

/** A /sync body's room events (state block, then timeline), each with its `room_id`, as a homeserver pushes them. */
function eventsOf(d: Delivery): RawEvent[] {
  const out: RawEvent[] = [];
  const join = (d.body['rooms'] as { join: Record<string, { state?: { events: RawEvent[] }; timeline?: { events: RawEvent[] } }> }).join;
  for (const [roomId, room] of Object.entries(join)) {
    for (const e of [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])]) out.push({ ...e, room_id: roomId });
  }
  return out;
}

function* transactions(spec: WorkloadSpec): Generator<RawEvent[]> {
  let pending: RawEvent[] = [];
  for (const d of initialStream(spec)) {
    pending.push(...eventsOf(d));
    while (pending.length >= EVENTS_PER_TRANSACTION) {
      yield pending.slice(0, EVENTS_PER_TRANSACTION);
      pending = pending.slice(EVENTS_PER_TRANSACTION);
    }
  }
  if (pending.length > 0) yield pending;
}

/** The daemon's transaction sink on a fresh store, its effects and invites stubbed (the workload has neither). */
async function sinkOn(dir: string) {
  const store = await Store.open(dir, { create: true });
  const log = silentLogger();
  const pipeline = new Pipeline(store, { botUserId, log });
  const sink = createTransactionSink({
    pipeline,
    store,
    exclusive: serial(),
    pending: { record: () => [] } as unknown as PendingInvites,
    invites: { joinsSynced: () => undefined } as unknown as InviteService,
    effects: { after: () => undefined } as unknown as Effects,
    metrics: new Metrics({ processMetrics: false }),
    botUserId,
    registrationId: 'bench',
    // The bot's join snapshots from the transaction's own member events: the workload has every member in them.
    roomState: () => Promise.resolve([]),
    log,
  });
  return { store, sink };
}

async function timed(dir: string, run: () => Promise<{ events: number; batches: number }>): Promise<FeedResult> {
  collectGarbage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { events, batches } = await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { events, batches, eventsPerS: perSecond(events, ms), cpuUsPerEvent: (cpu.user + cpu.system) / events, diskMb: (await dirBytes(dir)) / (1024 * 1024) };
}

/**
 * Transaction ingest beside /sync replay of the same events: the small workload (1,000 rooms ×
 * 100 members; `appservice-1m`: the big one, 10,000 rooms) three ways, each into a fresh data
 * dir in this one process.
 */
export async function appservice(plan: Plan, base: string, spec: WorkloadSpec = plan.small): Promise<AppserviceResult> {
  const dirs = await Promise.all([0, 1, 2].map((i) => mkdtemp(join(base, `appservice-${i}-`))));
  try {
    const sync = await timed(dirs[0]!, async () => {
      const store = await Store.open(dirs[0]!, { create: true });
      const t = await drive(new Pipeline(store, { botUserId, log: silentLogger() }), initialStream(spec));
      await store.close();
      return { events: t.events, batches: t.responses };
    });

    const sink = await timed(dirs[1]!, async () => {
      const { store, sink } = await sinkOn(dirs[1]!);
      let events = 0;
      let batches = 0;
      for (const txn of transactions(spec)) {
        await sink(String(++batches), txn);
        events += txn.length;
      }
      await store.close();
      return { events, batches };
    });

    const http = await timed(dirs[2]!, async () => {
      const { store, sink } = await sinkOn(dirs[2]!);
      const listener = await startAppserviceListener({ host: '127.0.0.1', port: 0, hsToken: 'bench', onTransaction: sink, log: silentLogger() });
      let events = 0;
      let batches = 0;
      // One at a time, in order: what a homeserver does for one appservice.
      for (const txn of transactions(spec)) {
        const res = await fetch(`${listener.url}/_matrix/app/v1/transactions/${++batches}`, {
          method: 'PUT',
          headers: { authorization: 'Bearer bench', 'content-type': 'application/json' },
          body: JSON.stringify({ events: txn }),
        });
        if (res.status !== 200) throw new Error(`transaction ${batches} answered ${res.status}`);
        await res.arrayBuffer();
        events += txn.length;
      }
      await listener.close();
      await store.close();
      return { events, batches };
    });
    return { sync, sink, http, eventsPerTransaction: EVENTS_PER_TRANSACTION, peakRssMb: peakRssMb() };
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

export interface GuardBytesResult {
  events: number;
  eventsPerS: number;
  cpuUsPerEvent: number;
  /** Data dir size per event once closed: one guard mark and its share of the time index. */
  bytesPerEvent: number;
}

/**
 * What an ordinary event (a message: no state) costs on disk: `events` messages in 10 rooms,
 * 100 per room and body, through the pipeline into a fresh data dir.
 */
export async function guardBytes(plan: Plan, base: string): Promise<GuardBytesResult> {
  const events = plan.quick ? 10_000 : 500_000;
  const dir = await mkdtemp(join(base, 'guard-bytes-'));
  try {
    const store = await Store.open(dir, { create: true });
    const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
    let n = 0;
    const result = await timed(dir, async () => {
      while (n < events) {
        const rooms: Record<string, unknown> = {};
        for (let r = 0; r < 10; r++) {
          const timeline = [];
          for (let i = 0; i < 100; i++, n++) {
            // Event ids as servers make them: random, incompressible.
            const eventId = `$${n.toString(36)}${Math.random().toString(36).slice(2, 14)}${Math.random().toString(36).slice(2, 14)}`;
            timeline.push({ type: 'm.room.message', event_id: eventId, sender: `@user${i}:bench.example`, origin_server_ts: 1_700_000_000_000 + n, content: { msgtype: 'm.text', body: 'hello' } });
          }
          rooms[`!room${r}:bench.example`] = { timeline: { events: timeline } };
        }
        await pipeline.process({ rooms: { join: rooms } });
      }
      await store.close();
      return { events: n, batches: n / 1000 };
    });
    return { events: n, eventsPerS: result.eventsPerS, cpuUsPerEvent: result.cpuUsPerEvent, bytesPerEvent: (result.diskMb * 1024 * 1024) / n };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
