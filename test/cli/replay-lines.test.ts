import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { runCli } from '../support/cli.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function inspect(dataDir: string): Promise<{ rooms: { roomId: string; members: string[] }[] }> {
  const r = await runCli(['inspect', '--data-dir', dataDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { rooms: { roomId: string; members: string[] }[] };
}

describe('roomkeeper replay, line by line', () => {
  it('skips a line longer than the maximum with its line number and applies the lines after it', async () => {
    const s = new SyncBuilder();
    const long = JSON.stringify(s.response({ '!long:x': { timeline: [s.member(BOT, 'join'), s.message('@a:x', 'x'.repeat(8192))] } }));
    const after = JSON.stringify(s.response({ '!after:x': { timeline: [s.member(BOT, 'join')] } }));
    const dataDir = await dirs.make();

    const r = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '--json', '--max-line-length', '4KiB', '-'], `{}\n${long}\n${after}\n`);

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ responses: 2, longLines: 1, badLines: 0 });
    expect(logLines(r.stderr)).toContainEqual(
      expect.objectContaining({ level: 40, line: 2, bytes: Buffer.byteLength(long), maxBytes: 4096, msg: 'line is longer than the maximum; skipped' }),
    );
    expect((await inspect(dataDir)).rooms.map((room) => room.roomId)).toEqual(['!after:x']);
  });

  it('streams a line of many megabytes past without keeping it, with the default maximum lowered', async () => {
    const s = new SyncBuilder();
    const file = join(await dirs.make(), 'big.jsonl');
    // A valid body of ~24 MB: over the 1 MiB maximum, so it is counted and dropped as it streams.
    const big = JSON.stringify(s.response({ '!big:x': { timeline: [s.member(BOT, 'join'), s.message('@a:x', 'y'.repeat(24e6))] } }));
    const after = JSON.stringify(s.response({ '!after:x': { timeline: [s.member(BOT, 'join')] } }));
    await writeFile(file, `${big}\n${after}`);
    const dataDir = await dirs.make();

    const r = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '--json', '--max-line-length', '1MiB', file]);

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ responses: 1, longLines: 1 });
    expect(logLines(r.stderr)).toContainEqual(expect.objectContaining({ line: 1, msg: 'line is longer than the maximum; skipped' }));
    expect((await inspect(dataDir)).rooms.map((room) => room.roomId)).toEqual(['!after:x']);
  });

  it('counts a line that is a JSON array once, as one line that is not a JSON object', async () => {
    const s = new SyncBuilder();
    const body = s.response({ '!a:x': { timeline: [s.member(BOT, 'join')] } });
    const r = await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, '--json', '-'], `${JSON.stringify([body, body, body])}\n"text"\n`);

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ responses: 0, applied: 0, duplicates: 0, invalid: 0, badLines: 2, longLines: 0 });
    expect(logLines(r.stderr).map((l) => [l.line, l.type, l.msg])).toEqual([
      [1, 'array', 'line is not a JSON object; skipped'],
      [2, 'string', 'line is not a JSON object; skipped'],
    ]);
  });

  it('names the input line in every warning the pipeline logs', async () => {
    const s = new SyncBuilder();
    const good = s.response({ '!a:x': { timeline: [s.member(BOT, 'join')] } });
    const badEvent = s.response({ '!a:x': { timeline: [{ ...s.member('@m:x', 'join'), content: 'join' }] } });
    const badRoom = { next_batch: 'n', rooms: { join: { '!b:x': 'not a room' } } };
    const input = [good, badEvent, good, badRoom].map((b) => JSON.stringify(b)).join('\n');

    const r = await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, '-'], input);

    expect(r.code, r.stderr).toBe(0);
    const warnings = logLines(r.stderr).filter((l) => l.level === 40);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings.find((l) => l.msg === 'invalid event skipped')).toMatchObject({ line: 2 });
    for (const w of warnings) expect(w.line, JSON.stringify(w)).toEqual(expect.any(Number));
    expect(warnings.at(-1)).toMatchObject({ line: 4 });
  });

  it('on a terminal, starts every log line at the beginning of a line, never after the progress bar', async () => {
    const s = new SyncBuilder();
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(JSON.stringify(s.response({ [`!r${i}:x`]: { timeline: [s.member(BOT, 'join')] } })));
      lines.push('not json');
    }
    const file = join(await dirs.make(), 'tty.jsonl');
    await writeFile(file, lines.join('\n'));
    let stderr = '';
    const tty = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          stderr += chunk.toString();
          done();
        },
      }),
      { isTTY: true },
    );
    const stdout = new Writable({ write: (_chunk, _encoding, done) => done() });

    const code = await main(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, file], { stdout, stderr: tty, stdin: Readable.from([]) });

    expect(code).toBe(0);
    expect(stderr).toContain('%');
    const logs = stderr.split('\n').filter((l) => l.includes('"msg"'));
    expect(logs).toHaveLength(40);
    // What a terminal shows of each: the text after the last carriage return and line erase.
    for (const l of logs) expect(l.split('\r\x1b[K').at(-1)).toMatch(/^\{"level":40/);
  });
});
