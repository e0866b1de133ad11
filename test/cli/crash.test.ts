import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import { Store } from '../../src/store/store.js';
import { finished, runCli, startCli } from '../support/cli.js';
import { BOT, sampleStream } from '../support/sync-stream.js';
import { TempDirs } from '../support/temp-dir.js';
import { RoomModel } from '../sync/model.js';

const KILLS = 5;
const dirs = new TempDirs();
let file: string;
let lastToken: string;
/** `inspect --json` documents the store may hold after 0, 1, 2, … whole responses. */
let prefixes: Set<string>;

beforeAll(async () => {
  // Several hundred responses: rooms joined, left, kicked from and rejoined, gappy syncs, re-deliveries.
  const deliveries = sampleStream(20_240_601, 1500);
  const model = new RoomModel(BOT);
  prefixes = new Set([JSON.stringify(model.inspect())]);
  for (const { body } of deliveries) {
    model.process(body);
    prefixes.add(JSON.stringify(model.inspect()));
  }
  lastToken = String(deliveries.at(-1)?.body.next_batch);
  file = join(await dirs.make(), 'sync.jsonl');
  await writeFile(file, deliveries.map((d) => JSON.stringify(d.body)).join('\n') + '\n');
});

afterAll(() => dirs.cleanup());

async function replayToEnd(dataDir: string): Promise<void> {
  const r = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '--log-level', 'error', file]);
  expect(r.code, r.stderr).toBe(0);
}

async function inspectJson(dataDir: string): Promise<string> {
  const r = await runCli(['inspect', '--data-dir', dataDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trimEnd();
}

async function readStore(dataDir: string): Promise<{ doc: string; guardCount: number; syncToken: string | undefined }> {
  const store = await Store.open(dataDir, { create: true });
  try {
    return { doc: JSON.stringify(await inspectAll(store)), guardCount: store.guard.count(), syncToken: await store.syncToken() };
  } finally {
    await store.close();
  }
}

describe('roomkeeper replay under SIGKILL', () => {
  it('ends in the same state as a clean run when killed at random points and then run to the end', async () => {
    // Start-up (node, imports, opening LevelDB) is timed on an empty stream, then the whole clean run.
    const empty = join(await dirs.make(), 'empty.jsonl');
    await writeFile(empty, '');
    let t = Date.now();
    expect((await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, empty])).code).toBe(0);
    const startupMs = Date.now() - t;
    const clean = await dirs.make();
    t = Date.now();
    await replayToEnd(clean);
    const replayMs = Math.max(50, Date.now() - t - startupMs);
    const expected = await inspectJson(clean);
    expect(prefixes.has(expected)).toBe(true);
    const cleanStore = await readStore(clean);
    expect(JSON.parse(expected).rooms.length).toBeGreaterThan(0);

    const crashed = await dirs.make();
    const kills: { delayMs: number; outcome: string; midway: boolean }[] = [];
    for (let i = 0; i < KILLS; i++) {
      // A random point in the i-th of KILLS equal slices of a clean run's processing time: each run
      // re-reads the stream from the start, skipping what is done faster than it did it, so the
      // kills move on through the stream and land mid-response, mid-commit or between responses.
      const delayMs = Math.round(startupMs * 0.8 + (replayMs * (i + Math.random())) / KILLS);
      const child = startCli(['replay', '--data-dir', crashed, '--user-id', BOT, '--log-level', 'error', file]);
      const done = finished(child);
      await sleep(delayMs);
      child.kill('SIGKILL');
      const r = await done;
      // Each response is one atomic batch: what survives is the state after some whole number of responses.
      const after = await readStore(crashed);
      kills.push({ delayMs, outcome: r.signal ?? `exit ${r.code}`, midway: r.signal === 'SIGKILL' && after.guardCount < cleanStore.guardCount });
      expect(prefixes.has(after.doc), `state after kill ${i} (${JSON.stringify(kills)}) is not the state after any whole response`).toBe(true);
    }
    // At least one kill must have interrupted the replay part way, or the test proved nothing.
    expect(kills.some((k) => k.midway), JSON.stringify({ startupMs, replayMs, kills })).toBe(true);

    await replayToEnd(crashed);
    expect(await inspectJson(crashed), JSON.stringify(kills)).toBe(expected);
    const end = await readStore(crashed);
    expect(end.syncToken).toBe(lastToken);
    expect(end.guardCount).toBe(cleanStore.guardCount);
    // About 8 s on an idle machine; a dozen process start-ups take far longer when the CPUs are busy.
  }, 120_000);
});
