/**
 * roomkeeper's benchmarks: every measurement of issue 5 in one run, each heavy part in its own
 * child process (bench/child.ts) so that peak RSS, caches and open-to-ready are its own.
 *
 *   npm run bench                 the full suite: a table with ratios on stdout (~3 min when the
 *                                 machine is otherwise idle; workloads and data dirs take up to ~1 GB in $TMPDIR)
 *   npm run -s bench -- --json    the same, but stdout is exactly one JSON object (-s keeps
 *                                 npm's own "> roomkeeper bench" banner off stdout)
 *   npm run bench -- --quick      a smoke run on tiny workloads (CI: it runs, not how fast)
 *
 * Progress goes to stderr. Nothing here asserts a time: targets are reported, not enforced.
 * Every rate is wall-clock, so other work on the machine lowers it: the table shows the load
 * average and, per replay, CPU time per event, which moves far less.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpileTree } from './compile.js';
import { mb, perSecond } from './measure.js';
import { makePlan, paths } from './plan.js';
import type { GenerateResult } from './tasks/generate.js';
import { queryTargets } from './workload.js';
import type { SimpleFsPoint, SqliteResult } from './tasks/alternatives.js';
import type { AppserviceResult } from './tasks/appservice.js';
import type { CeilingResult, MemoryResult } from './tasks/ceilings.js';
import type { PruneResult } from './tasks/prune.js';
import type { ChangesResult } from './tasks/changes.js';
import type { QueriesResult } from './tasks/queries.js';
import type { ReplayResult } from './tasks/replay.js';
import type { ScalePoint } from './tasks/scale.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const asJson = args.includes('--json');
const unknown = args.filter((a) => a !== '--quick' && a !== '--json');
if (unknown.length > 0) {
  process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: npm run bench [-- --quick] [-- --json]\n`);
  process.exit(2);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const plan = makePlan(quick);
const base = await mkdtemp(join(tmpdir(), 'roomkeeper-bench-'));
const dirs = paths(base);
const loadBefore = loadavg();

/** Runs one task in a child process; resolves with what it sent back. */
function task<T>(name: string): Promise<T> {
  process.stderr.write(`▸ ${name}\n`);
  const t0 = performance.now();
  return new Promise<T>((resolve, reject) => {
    const proc = fork(child, [name, base, ...(quick ? ['--quick'] : [])], {
      execArgv: ['--expose-gc'],
      // The child's stdout goes to our stderr: our stdout carries only the table or the JSON.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    let result: T | undefined;
    proc.on('message', (m) => {
      result = (m as { result: T }).result;
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (result !== undefined) {
        process.stderr.write(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        resolve(result);
      } else reject(new Error(`bench task ${name} failed (exit code ${code}, signal ${signal})`));
    });
  });
}

let child = '';
let generated: GenerateResult, big: ReplayResult, opened: QueriesResult, pruned: PruneResult, small: ReplayResult, logged: ChangesResult;
let ceiling: CeilingResult, memory: MemoryResult, sql: SqliteResult, simple: SimpleFsPoint[], feeds: AppserviceResult;
const curve: ScalePoint[] = [];
const t0 = performance.now();
try {
  child = await transpileTree(join(root, 'bench', 'child.ts'), root, join(base, 'js'));
  generated = await task<GenerateResult>('generate');
  big = await task<ReplayResult>('replay-big');
  // Right after the replay it is compared with, so that both see the machine in the same state.
  ceiling = await task<CeilingResult>('ceiling');
  await rm(dirs.ceilingData, { recursive: true, force: true });
  opened = await task<QueriesResult>('queries');
  logged = await task<ChangesResult>('changes');
  pruned = await task<PruneResult>('prune');
  await rm(dirs.bigData, { recursive: true, force: true });
  small = await task<ReplayResult>('replay-small');
  await rm(dirs.smallData, { recursive: true, force: true });
  memory = await task<MemoryResult>('memory');
  sql = await task<SqliteResult>('sqlite');
  await rm(dirs.sqliteData, { recursive: true, force: true });
  simple = await task<SimpleFsPoint[]>('simplefs');
  feeds = await task<AppserviceResult>('appservice');
  // Last: the 5M point writes ~1 GB and takes a minute or two; each point is a process of its own.
  for (const point of ['scale-0.1', 'scale-1', 'scale-5']) curve.push(await task<ScalePoint>(point));
} finally {
  await rm(base, { recursive: true, force: true });
}
const loadAfter = loadavg();
const totalS = (performance.now() - t0) / 1000;

// --- derived numbers ---------------------------------------------------------------------------

const rate = (t: { events: number; ms: number }) => perSecond(t.events, t.ms);
const memberRate = (t: { memberEvents: number; ms: number }) => perSecond(t.memberEvents, t.ms);
const keysPerEvent = ceiling.keysWritten / ceiling.events;
const ceilingKeysPerS = perSecond(ceiling.keysWritten, ceiling.batchMs);
const ceilingEventsPerS = ceilingKeysPerS / keysPerEvent;
const simpleLast = simple.at(-1)!;
const query = (prefix: string, i = 0) => opened.queries.filter((q) => q.name.startsWith(prefix))[i]!.latency;
// The stall: the longest wait between two live commits while pruning (body generation excluded;
// the event-loop delay, which includes it, is shown beside it in the table).
const pruneStall = pruned.during.gapMax;
// The best pass: the first also warms LevelDB's block cache.
const changesPerS = Math.max(...logged.readPasses.map((p) => perSecond(p.changes, p.ms)));
const machine = {
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  /** 1-minute load average before and after: other work on the machine skews every number. */
  loadavg: [round(loadBefore[0]!, 2), round(loadAfter[0]!, 2)],
};

const json = {
  replay_cold_events_per_s: round(rate(big.cold)),
  replay_rerun_events_per_s: round(rate(big.rerun)),
  keys_per_event: round(keysPerEvent, 3),
  leveldb_ceiling_keys_per_s: round(ceilingKeysPerS),
  memory_events_per_s: round(rate(memory.run)),
  sqlite_events_per_s: round(rate(sql.run)),
  simplefs_events_per_s_at_20k: round(simpleLast.eventsPerS, 1),
  rooms_of_1000_p99_ms: round(query('roomsOf', 2).p99, 3),
  members_of_10000_p99_ms: round(query('membersOf', 2).p99, 3),
  prune_1m_s: round(pruned.pruneMs / 1000, 2),
  prune_max_stall_ms: round(pruneStall, 1),
  rss_mb_at_1m: round(big.rssAfterColdMb, 1),
  disk_mb_at_1m: round(mb(big.diskBytes), 1),
  open_to_ready_ms_at_1m: round(opened.openToReadyMs, 1),
  change_log_changes: logged.changes,
  changes_read_per_s: round(changesPerS),
  appservice: {
    sync_events_per_s: round(feeds.sync.eventsPerS),
    sink_events_per_s: round(feeds.sink.eventsPerS),
    http_events_per_s: round(feeds.http.eventsPerS),
    http_transactions_per_s: round((feeds.http.eventsPerS / feeds.http.events) * feeds.http.batches, 1),
    cpu_us_per_event: { sync: round(feeds.sync.cpuUsPerEvent, 1), sink: round(feeds.sink.cpuUsPerEvent, 1), http: round(feeds.http.cpuUsPerEvent, 1) },
  },
  scale_curve: curve.map((p) => ({
    member_events: p.memberEvents,
    events_per_s: round(p.eventsPerS),
    cpu_us_per_event: round(p.cpuUsPerEvent, 1),
    peak_rss_mb: round(p.peakRssMb, 1),
    steady_rss_mb: round(p.steadyRssMb, 1),
    disk_mb: round(p.diskMb, 1),
    open_to_ready_ms: round(p.openToReadyMs, 1),
  })),
  machine,
};

if (asJson) {
  process.stdout.write(JSON.stringify(json) + '\n');
} else {
  process.stdout.write(table() + '\n');
}

// --- the table ---------------------------------------------------------------------------------

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function num(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';
}

function ratio(a: number, b: number): string {
  const r = a / b;
  return `${r >= 100 ? num(r) : r >= 10 ? num(r, 1) : num(r, 2)}×`;
}

function table(): string {
  const out: string[] = [];
  const row = (label: string, ...cells: string[]) => out.push(`  ${label.padEnd(46)}${cells.map((c) => c.padStart(14)).join('')}`);
  const head = (title: string, ...cols: string[]) => {
    out.push('');
    row(title.toUpperCase(), ...cols);
  };
  const q = queryTargets(plan.big);
  const g = generated;
  const file = (t: GenerateResult['big']) => `${num(t.responses)} responses, ${num(mb(t.bytes), 0)} MB of JSON`;

  out.push(`roomkeeper benchmarks${quick ? ' (--quick: tiny workloads, a smoke run; the numbers mean nothing)' : ''}`);
  out.push(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}; load average ${machine.loadavg.join(' → ')}; ${num(totalS, 0)} s in all`);
  out.push('');
  out.push('Workloads (seeded; written once as JSON lines, read back and JSON.parse\'d a line at a time like `roomkeeper replay`):');
  out.push(
    `  big:   ${num(plan.big.rooms)} rooms × ~${plan.big.membersPerRoom} members (rooms 0/1/2 have ${plan.big.roomSizes.map((s) => num(s)).join(' / ')}): ` +
      `${num(g.big.memberEvents)} member events of ${num(g.big.events)}; ${plan.big.roomsPerResponse} rooms (~${num(g.big.events / g.big.responses)} events) per response; ${file(g.big)}`,
  );
  out.push(`  small: ${num(plan.small.rooms)} rooms × ${plan.small.membersPerRoom} members: ${num(g.small.memberEvents)} member events of ${num(g.small.events)}; ${file(g.small)}`);
  out.push(
    `  churn: ${plan.churn.roomsPerResponse} rooms × ${plan.churn.eventsPerRoom} timeline events per response (joins 35%, leaves 30%, display names 20%, renames 5%, messages 10%), ` +
      `the bot kicked and re-joined every ${plan.churn.kickEvery} responses; ${file(g.churn)}`,
  );
  out.push(
    `  re-delivery: another churn stream, each response re-sent in ${plan.redelivery.window} overlapping windows (~${Math.round(((plan.redelivery.window - 1) / plan.redelivery.window) * 100)}% duplicates); ${file(g.redelivery)}`,
  );
  out.push('  Rates count every event delivered, duplicates included, over the time spent in Pipeline.process (parse not included).');

  head('Replay through the real Pipeline', 'events/s', 'member ev/s', 'events', 'dups', 'end-to-end/s', 'CPU µs/event');
  const rep = (label: string, t: ReplayResult['cold']) =>
    row(label, num(rate(t)), num(memberRate(t)), num(t.events), num(t.duplicates), num(perSecond(t.events, t.wallMs)), num((t.cpuMs * 1000) / t.events, 1));
  rep('big, cold (fresh data dir)', big.cold);
  rep('big, re-run (all duplicates)', big.rerun);
  rep('small, cold', small.cold);
  rep('small, re-run', small.rerun);
  rep('small, churn', small.churn!);
  rep('small, duplicate-heavy re-delivery', small.redelivery!);
  out.push(
    `  end-to-end: reading the file, JSON.parse and process, as \`roomkeeper replay\` does. Of the big cold run's ${num(big.cold.wallMs / 1000, 1)} s, ` +
      `JSON.parse took ${num(big.cold.parseMs / 1000, 1)} s and GC pauses ${num(big.cold.gcMs / 1000, 1)} s.`,
  );
  out.push('  CPU µs/event: user+system time of the whole process (LevelDB threads and JSON.parse included) per event; it varies far less with machine load than the rates.');

  head('Ceilings, same run, big workload', 'events/s', 'pipeline is');
  row(`LevelDB raw batch: ${num(ceilingKeysPerS)} keys/s ÷ ${num(keysPerEvent, 3)} keys/event`, num(ceilingEventsPerS), `${num((rate(big.cold) / ceilingEventsPerS) * 100, 0)}%`);
  const arrayKeysPerS = perSecond(ceiling.keysWritten, ceiling.arrayBatchMs);
  row(`  same, array form db.batch([...]): ${num(arrayKeysPerS)} keys/s`, num(arrayKeysPerS / keysPerEvent), `${num((rate(big.cold) / (arrayKeysPerS / keysPerEvent)) * 100, 0)}%`);
  row('in-memory Map/Set, real Pipeline (cold)', num(rate(memory.run)), `${num((rate(big.cold) / rate(memory.run)) * 100, 0)}%`);
  row('in-memory Map/Set, real Pipeline (re-run)', num(rate(memory.rerun)), `${num((rate(big.rerun) / rate(memory.rerun)) * 100, 0)}%`);
  row('in-memory Map/Set, small workload (cold)', num(rate(memory.small)), `${num((rate(small.cold) / rate(memory.small)) * 100, 0)}%`);

  head('What a user would pick instead', 'events/s', 'LevelDB is', 'disk MB');
  row('better-sqlite3, big, cold', num(rate(sql.run)), ratio(rate(big.cold), rate(sql.run)), num(mb(sql.diskBytes), 1));
  row('better-sqlite3, big, re-run', num(rate(sql.rerun)), ratio(rate(big.rerun), rate(sql.rerun)), '');
  for (const p of simple) {
    row(`SimpleFsStorageProvider at ${num(p.at)} events`, num(p.eventsPerS, 0), ratio(rate(big.cold), p.eventsPerS), num(mb(p.fileBytes), 1));
  }

  head('Query latency (warm, through Rooms)', 'p50 ms', 'p99 ms', 'max ms', 'answer');
  for (const { name, latency: l } of opened.queries) row(name, num(l.p50, 3), num(l.p99, 3), num(l.max, 3), num(l.size));

  head('Change log of the big workload (keeper.changes(), history())', 'value', '', '', '');
  row(`changes logged by the cold replay (a join and a rebuild per room)`, num(logged.changes));
  row('read through changes() from the start, best of the passes', `${num(changesPerS)}/s`);
  for (const { name, latency: l } of logged.history) row(name, `p50 ${num(l.p50, 3)} ms`, `p99 ${num(l.p99, 3)} ms`, `max ${num(l.max, 3)} ms`, num(l.size));

  head('Pruning the big workload’s guard', 'value', '');
  row('guard entries removed', num(pruned.removed));
  row('prune time', `${num(pruned.pruneMs / 1000, 2)} s`, `${num(perSecond(pruned.removed, pruned.pruneMs))}/s`);
  row('live commits before prune: gap p50 / p99 / max', `${num(pruned.baseline.gapP50, 1)} ms`, `${num(pruned.baseline.gapP99, 1)} ms`, `${num(pruned.baseline.gapMax, 1)} ms`);
  row('live commits during prune: gap p50 / p99 / max', `${num(pruned.during.gapP50, 1)} ms`, `${num(pruned.during.gapP99, 1)} ms`, `${num(pruned.during.gapMax, 1)} ms`);
  row('event-loop delay before / during prune (max)', `${num(pruned.baseline.loopDelayMax, 1)} ms`, `${num(pruned.during.loopDelayMax, 1)} ms`);
  row('live events processed during prune', num(pruned.during.events), `${num(perSecond(pruned.during.events, pruned.pruneMs))}/s`);

  head('Resources, big workload', 'value');
  row(`peak RSS of the replay process after ${num(big.cold.events)} events`, `${num(big.rssAfterColdMb, 1)} MB`);
  const m = big.memoryAfterCold;
  if (m !== undefined) {
    row('  RSS right after: file-backed / anonymous', `${num(m.fileMb, 0)} MB`, `${num(m.anonMb, 0)} MB`);
    out.push('    (file-backed: the node binary and LevelDB table files, which LevelDB reads through mmap;');
    out.push(`     anonymous: the V8 heap, ${num(m.heapTotalMb, 0)} MB of it, LevelDB's two 16 MB memtables and caches, allocator slack)`);
  }
  row('on-disk size of the data dir', `${num(mb(big.diskBytes), 1)} MB`);
  row('open-to-ready (Store.open → sync token read)', `${num(opened.openToReadyMs, 1)} ms`);
  row('peak RSS: memory ceiling / sqlite process', `${num(memory.rssMb, 0)} MB`, `${num(sql.rssMb, 0)} MB`);

  head('Appservice transactions vs /sync, small workload', 'events/s', 'batches', 'CPU µs/event', 'disk MB');
  row('/sync bodies through Pipeline.process', num(feeds.sync.eventsPerS), num(feeds.sync.batches), num(feeds.sync.cpuUsPerEvent, 1), num(feeds.sync.diskMb, 0));
  row(`${feeds.eventsPerTransaction}-event transactions, transaction sink`, num(feeds.sink.eventsPerS), num(feeds.sink.batches), num(feeds.sink.cpuUsPerEvent, 1), num(feeds.sink.diskMb, 0));
  row('  same, PUT one at a time over loopback HTTP', num(feeds.http.eventsPerS), num(feeds.http.batches), num(feeds.http.cpuUsPerEvent, 1), num(feeds.http.diskMb, 0));
  out.push(`  HTTP: ${num((feeds.http.eventsPerS / feeds.http.events) * feeds.http.batches, 0)} transactions/s, the sender in the same process (its CPU is counted too); peak RSS ${num(feeds.peakRssMb, 0)} MB.`);

  head('Scale curve: cold replay, bodies made in memory', 'events/s', 'CPU µs/ev', 'peak RSS MB', 'steady RSS MB', 'disk MB', 'open→ready ms');
  for (const p of curve) {
    row(`${num(p.memberEvents)} member events`, num(p.eventsPerS), num(p.cpuUsPerEvent, 1), num(p.peakRssMb, 0), num(p.steadyRssMb, 0), num(p.diskMb, 0), num(p.openToReadyMs, 0));
  }
  out.push('  steady RSS: after the store is closed, garbage collected, a second later; open→ready: Store.open of the closed dir to a first roomsOf.');

  const consistent =
    memory.roomsOfHubs.join() === opened.roomsOfHubs.join() && sql.roomsOfHubs.join() === opened.roomsOfHubs.join() && sql.memberships === memory.memberships;
  out.push('');
  out.push(
    `Cross-check: LevelDB, Map/Set and sqlite agree on the hub users' rooms (${opened.roomsOfHubs.join(', ')}; expected ${q.roomsOfTenth}, ${q.roomsOfHundredth}) and sqlite/Map on ${num(memory.memberships)} memberships: ${consistent ? 'yes' : 'NO'}`,
  );

  head('Targets (issue 5)', 'measured', 'target', '');
  const target = (label: string, measured: string, goal: string, met: boolean) => row(label, measured, goal, met ? 'met' : 'MISSED');
  target('cold replay, member events/s', num(memberRate(big.cold)), '≥ 60,000', memberRate(big.cold) >= 60_000);
  target('cold replay, share of the LevelDB ceiling', `${num((rate(big.cold) / ceilingEventsPerS) * 100)}%`, '≥ 70%', rate(big.cold) / ceilingEventsPerS >= 0.7);
  target('re-run, events/s', num(rate(big.rerun)), '≥ 150,000', rate(big.rerun) >= 150_000);
  target('vs better-sqlite3', ratio(rate(big.cold), rate(sql.run)), '≥ 3×', rate(big.cold) / rate(sql.run) >= 3);
  target(`vs SimpleFs at ${num(simpleLast.at)} events`, ratio(rate(big.cold), simpleLast.eventsPerS), '≥ 300×', rate(big.cold) / simpleLast.eventsPerS >= 300);
  target(`roomsOf (${q.roomsOfTenth} rooms) p99`, `${num(query('roomsOf', 2).p99, 3)} ms`, '< 2 ms', query('roomsOf', 2).p99 < 2);
  target('peak RSS at 1M events', `${num(big.rssAfterColdMb, 0)} MB`, '< 200 MB', big.rssAfterColdMb < 200);
  target('open-to-ready at 1M events', `${num(opened.openToReadyMs, 0)} ms`, '< 1,000 ms', opened.openToReadyMs < 1000);
  target('longest stall while pruning', `${num(pruneStall, 0)} ms`, '≤ 100 ms', pruneStall <= 100);
  return out.join('\n');
}
