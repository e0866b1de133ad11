import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { parseUserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { finished, runCli, startCli } from '../support/cli.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** A data directory whose `inspect --json` document is several megabytes. */
async function bigStore(rooms: number, membersPerRoom: number): Promise<string> {
  const dataDir = await dirs.make();
  const store = await Store.open(dataDir);
  try {
    const pipeline = new Pipeline(store, { botUserId: parseUserId(BOT)!, log: createLogger({ level: 'silent' }) });
    const s = new SyncBuilder();
    for (let first = 0; first < rooms; first += 200) {
      const join: Record<string, { timeline: Record<string, unknown>[] }> = {};
      for (let r = first; r < Math.min(rooms, first + 200); r++) {
        const members = Array.from({ length: membersPerRoom }, (_, m) => s.member(`@member-with-a-rather-long-name-${m}:example.org`, 'join'));
        join[`!room-number-${String(r).padStart(6, '0')}:example.org`] = { timeline: [s.member(BOT, 'join'), ...members] };
      }
      await pipeline.process(s.response(join));
    }
  } finally {
    await store.close();
  }
  return dataDir;
}

describe('roomkeeper output', () => {
  it('writes the whole inspect --json document through a pipe read slowly by another process', async () => {
    const dataDir = await bigStore(2000, 40);
    const child = startCli(['inspect', '--data-dir', dataDir, '--json']);
    // A reader that is not ready yet: the pipe's 64 KiB buffer fills while the CLI is writing.
    child.stdout?.pause();
    const done = finished(child);
    await sleep(300);
    child.stdout?.resume();
    const r = await done;

    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(4e6);
    const doc = JSON.parse(r.stdout) as { rooms: { members: string[] }[]; users: unknown[] };
    expect(doc.rooms).toHaveLength(2000);
    expect(doc.rooms.every((room) => room.members.length === 41)).toBe(true);
    expect(doc.users).toHaveLength(41);
  }, 60_000);

  it('fails fast with one line and exit 2 when the data directory is on /proc, is a file, or is missing for inspect', async () => {
    const fileDir = join(await dirs.make(), 'a-file');
    await writeFile(fileDir, '');
    const input = join(await dirs.make(), 'in.jsonl');
    await writeFile(input, '{}\n');
    const cases: [string[], string][] = [
      [['replay', '--data-dir', '/proc/self/roomkeeper-data', '--user-id', BOT, input], 'proc file system'],
      [['inspect', '--data-dir', '/proc/self', '--json'], 'proc file system'],
      [['replay', '--data-dir', fileDir, '--user-id', BOT, input], `${fileDir} is not a directory`],
      [['prune', '--data-dir', join(fileDir, 'below'), '--older-than', '30d'], `${fileDir} is not a directory`],
      [['inspect', '--data-dir', join(await dirs.make(), 'typo')], 'no roomkeeper data directory at'],
    ];
    for (const [args, fragment] of cases) {
      const started = Date.now();
      const r = await runCli(args);
      expect(Date.now() - started, args.join(' ')).toBeLessThan(10_000);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^roomkeeper: /);
      expect(r.stderr).toContain(fragment);
    }
  }, 60_000);
});
