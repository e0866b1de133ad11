import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRoomkeeper, type Change } from '../../src/index.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { exited, spawnBotProcess } from '../support/bot-process.js';
import { TempDirs } from '../support/temp-dir.js';
import { enter } from './record.js';

const dirs = new TempDirs();
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await dirs.cleanup();
});

function spawnConsumer(hs: FakeHomeserver, dataDir: string): ChildProcess {
  return spawnBotProcess('test/library/fixtures/change-consumer.ts', hs, dataDir);
}

describe('keeper.changes() for a consumer that stores its cursor', () => {
  it('hands over every change exactly once across SIGKILLs of the process', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const dataDir = await dirs.make();
    const alice = hs.userId('alice');
    const garden = hs.createRoom(alice, { name: 'Garden' });
    hs.invite(garden, alice, hs.botUserId);
    let n = 0;
    const people = Array.from({ length: 6 }, (_, i) => hs.userId(`p${i}`));
    const step = () => {
      const who = people[n++ % people.length]!;
      const m = hs.membership(garden, who);
      if (m === 'join' && n % 3 === 0) hs.kick(garden, alice, who);
      else if (m === 'join') hs.leave(garden, who);
      else enter(hs, garden, alice, who.slice(1, who.indexOf(':')));
      if (n % 7 === 0) hs.setName(garden, alice, `Garden ${n}`);
    };
    for (let round = 0; round < 5; round++) {
      const child = spawnConsumer(hs, dataDir);
      await hs.waitFor(() => hs.membership(garden, hs.botUserId) === 'join', 20_000, 'the bot joined');
      await hs.waitForSyncPast(hs.position, 20_000);
      for (let i = 0; i < 8 + round * 3; i++) {
        step();
        await sleep(3 + ((round * 7 + i) % 11));
      }
      child.kill('SIGKILL');
      await exited(child);
      for (let i = 0; i < 3; i++) step();
    }
    const last = spawnConsumer(hs, dataDir);
    await hs.waitForSyncPast(hs.position, 20_000);
    // Caught up with the server, then give the consumer a moment to write out the last changes.
    await sleep(300);
    last.kill('SIGTERM');
    await exited(last);

    const lines = (await readFile(join(dataDir, 'changes.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { cursor: string });
    const keeper = await openRoomkeeper({ dataDir: join(dataDir, 'roomkeeper'), botUserId: hs.botUserId });
    const logged: Change[] = [];
    try {
      for (let page = await keeper.history({ limit: 1000 }); page.length > 0; page = await keeper.history({ limit: 1000, before: page.at(-1)!.cursor })) logged.push(...page);
    } finally {
      await keeper.close();
    }
    logged.reverse();
    expect(logged.length).toBeGreaterThan(30);
    // Every change of the log, once each, in order.
    expect(lines.map((l) => l.cursor)).toEqual(logged.map((c) => c.cursor));
    // And the log holds each of the server's membership events once.
    const eventIds = logged.flatMap((c) => ('eventId' in c && c.kind !== 'profile' ? [c.eventId] : []));
    expect(new Set(eventIds).size).toBe(eventIds.length);
  }, 60_000);
});
