import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import type { Delivery } from './workload.js';

/** What a workload file holds, kept beside it (`<file>.json`): the bodies carry no counts. */
export interface WorkloadTotals {
  responses: number;
  events: number;
  memberEvents: number;
  bytes: number;
  /** [events, member events] of each line. */
  perResponse: [number, number][];
}

/** A delivery read back from a file, with what JSON.parse cost. */
export interface ReadDelivery extends Delivery {
  parseMs: number;
}

/**
 * Writes a stream as JSON lines, one /sync body a line: the format `roomkeeper replay` reads,
 * so a workload file can be replayed by hand too.
 */
export async function writeWorkload(path: string, stream: Iterable<Delivery>): Promise<WorkloadTotals> {
  const totals: WorkloadTotals = { responses: 0, events: 0, memberEvents: 0, bytes: 0, perResponse: [] };
  const out = createWriteStream(path);
  for (const d of stream) {
    const line = JSON.stringify(d.body) + '\n';
    totals.responses++;
    totals.events += d.events;
    totals.memberEvents += d.memberEvents;
    totals.bytes += Buffer.byteLength(line);
    totals.perResponse.push([d.events, d.memberEvents]);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await writeFile(`${path}.json`, JSON.stringify(totals));
  return totals;
}

export async function readTotals(path: string): Promise<WorkloadTotals> {
  return JSON.parse(await readFile(`${path}.json`, 'utf8')) as WorkloadTotals;
}

/**
 * Reads a workload file back a line at a time, as `roomkeeper replay` does. A plain chunked
 * reader rather than node:readline, whose async iterator queues lines ahead of a slow consumer
 * and would put hundreds of MB of pending lines into the RSS being measured.
 */
export async function* readWorkload(path: string): AsyncGenerator<ReadDelivery> {
  const { perResponse } = await readTotals(path);
  const file = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(4 << 20);
    let start = 0;
    let end = 0;
    let i = 0;
    for (;;) {
      if (end === buf.length) {
        // The line is longer than the buffer: keep its start, grow or compact.
        const next = start === 0 ? Buffer.allocUnsafe(buf.length * 2) : buf;
        buf.copy(next, 0, start, end);
        end -= start;
        start = 0;
        buf = next;
      }
      const { bytesRead } = await file.read(buf, end, buf.length - end, null);
      end += bytesRead;
      for (let nl = buf.indexOf(10, start); nl !== -1 && nl < end; nl = buf.indexOf(10, start)) {
        const line = buf.toString('utf8', start, nl);
        start = nl + 1;
        const t0 = performance.now();
        const body = JSON.parse(line) as Record<string, unknown>;
        const parseMs = performance.now() - t0;
        const [events, memberEvents] = perResponse[i++]!;
        yield { body, events, memberEvents, parseMs };
      }
      if (bytesRead === 0) return;
      if (start > 0 && start === end) start = end = 0;
    }
  } finally {
    await file.close();
  }
}
