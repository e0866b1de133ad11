import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createLogger, type Logger } from '../src/log.js';
import type { Pipeline } from '../src/sync/pipeline.js';
import type { Delivery } from './workload.js';

/** A logger that drops everything: the benchmarks measure the pipeline, not pino. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}

export interface Throughput {
  responses: number;
  events: number;
  memberEvents: number;
  /** Time spent inside `Pipeline.process`: the pipeline's own throughput. */
  ms: number;
  /** JSON.parse of the bodies, when they came from a file. */
  parseMs: number;
  /** Everything: reading or generating the bodies, parsing and processing them. */
  wallMs: number;
  /**
   * CPU time of the whole process over the same span (all threads: LevelDB's writer and
   * compaction included). Unlike the rates, it barely moves when other work shares the machine.
   */
  cpuMs: number;
  /** Garbage-collection pauses of the main thread over the same span (perf_hooks 'gc' entries). */
  gcMs: number;
  applied: number;
  duplicates: number;
  invalid: number;
}

/** Feeds a stream through a pipeline one response at a time, timing `process` on its own. */
export async function drive(
  pipeline: Pipeline,
  stream: Iterable<Delivery & { parseMs?: number }> | AsyncIterable<Delivery & { parseMs?: number }>,
  onResponse?: (t: Throughput) => void,
): Promise<Throughput> {
  const t: Throughput = { responses: 0, events: 0, memberEvents: 0, ms: 0, parseMs: 0, wallMs: 0, cpuMs: 0, gcMs: 0, applied: 0, duplicates: 0, invalid: 0 };
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) t.gcMs += entry.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for await (const d of stream) {
    const t0 = performance.now();
    const r = await pipeline.process(d.body);
    t.ms += performance.now() - t0;
    t.parseMs += d.parseMs ?? 0;
    t.responses++;
    t.events += d.events;
    t.memberEvents += d.memberEvents;
    t.applied += r.applied;
    t.duplicates += r.duplicates;
    t.invalid += r.invalid;
    onResponse?.(t);
  }
  t.wallMs = performance.now() - start;
  gc.disconnect();
  const cpu = process.cpuUsage(cpu0);
  t.cpuMs = (cpu.user + cpu.system) / 1000;
  return t;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** Size of the answer (rooms or members), to show the query did what it says. */
  size: number;
}

/** Times `fn` `n` times after `warmup` untimed calls; milliseconds. */
export async function latency(fn: () => Promise<unknown[]>, n: number, warmup = Math.ceil(n / 10)): Promise<Latency> {
  let size = 0;
  for (let i = 0; i < warmup; i++) size = (await fn()).length;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { n, p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1)!, size };
}

/** Bytes of every file under `dir`. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

export interface MemoryBreakdown {
  rssMb: number;
  /** Anonymous memory: V8 heap, LevelDB memtables and caches, allocator slack. */
  anonMb: number;
  /** File-backed: the node binary and LevelDB's table files, which LevelDB reads through mmap. */
  fileMb: number;
  heapTotalMb: number;
}

/** What the resident set is made of right now (Linux /proc; undefined elsewhere). */
export function memoryBreakdown(): MemoryBreakdown | undefined {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: the breakdown is extra detail, the peak RSS is still reported.
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: kb('VmRSS'), anonMb: kb('RssAnon'), fileMb: kb('RssFile'), heapTotalMb: process.memoryUsage().heapTotal / (1024 * 1024) };
}

/** Peak resident set size of this process so far, MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** Collects garbage when node runs with --expose-gc, so that one phase's garbage is not billed to the next. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
