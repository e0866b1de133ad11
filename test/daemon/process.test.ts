import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { loadConfig } from '../../src/config/index.js';
import { Store } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { expectedInspect } from '../support/expected-state.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { memoryLogger } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';
import { FAST_RETRY } from './harness.js';

let hs: FakeHomeserver;
let dirs: TempDirs;
let dataDir: string;
const children: DaemonProcess[] = [];

beforeEach(async () => {
  hs = await startFakeHomeserver();
  dirs = new TempDirs();
  dataDir = await dirs.make();
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.stop('SIGKILL');
  await hs.close();
  await dirs.cleanup();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ROOMKEEPER_HOMESERVER_URL: hs.url,
    ROOMKEEPER_ACCESS_TOKEN: hs.botToken,
    ROOMKEEPER_DATA_DIR: dataDir,
    ROOMKEEPER_LOG_LEVEL: 'info',
    ...extra,
  };
}

function run(extra: Record<string, string> = {}, args: string[] = []): DaemonProcess {
  const p = new DaemonProcess(env(extra), args);
  children.push(p);
  return p;
}

async function inspectJson(dir = dataDir): Promise<unknown> {
  const r = await runCli(['inspect', '--data-dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function stderrLines(stderr: string): string[] {
  return stderr.trimEnd().split('\n');
}

describe('roomkeeper run', () => {
  it('exits 2 with one line saying the token is invalid, without retrying, when whoami answers 401', async () => {
    const r = await run({ ROOMKEEPER_ACCESS_TOKEN: 'not-a-token' }).exited;
    expect(r.code).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^roomkeeper: .*access token.*(invalid|rejected)/);
    expect(lines[0]).not.toContain('not-a-token');
    expect(r.stdout).not.toContain('not-a-token');
    expect(hs.requests.filter((q) => q.route === 'whoami').length).toBeLessThanOrEqual(2);
    expect(hs.requests.filter((q) => q.route === 'sync')).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops syncing, exits 0 within 5 s and leaves a usable data dir when sent %s', async (signal) => {
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { name: 'Signals', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, hs.userId('bob'));
    const p = run();
    await hs.waitFor(() => hs.membership(room, hs.botUserId) === 'join', 15_000, 'bot joined');
    await hs.waitForSyncPast(hs.position, 10_000);
    const r = await p.stop(signal);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.stderr).toBe('');
    expect(p.logs().map((l) => l.msg)).toContain('stopped');
    const syncs = hs.syncs.length;
    await sleep(200);
    expect(hs.syncs.length).toBe(syncs);
    expect(await inspectJson()).toEqual(expectedInspect(hs, hs.botUserId));
  });

  it('exits 0 within 5 s when sent SIGTERM while the homeserver is down at start-up', async () => {
    await hs.down();
    const p = run();
    await hs.waitFor(() => p.logs().filter((l) => /retrying/.test(l.msg)).length >= 2 || p.result, 15_000, 'whoami retried');
    expect(p.result).toBeUndefined();
    const r = await p.stop('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(p.logs().map((l) => l.msg)).toContain('stopping before start-up finished');
  });

  it('refuses to start with exit 2 and one line when another roomkeeper runs on the same data dir', async () => {
    const first = run();
    await hs.waitForSyncPast(hs.position, 15_000);
    const second = await run().exited;
    expect(second.code).toBe(2);
    const lines = stderrLines(second.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^roomkeeper: data directory .* is in use by another roomkeeper process$/);
    expect(first.result).toBeUndefined();
    expect((await first.stop('SIGTERM')).code).toBe(0);
  });

  it.each([
    ['a URL that is not one', { ROOMKEEPER_HOMESERVER_URL: 'not a url' }, /homeserverUrl|ROOMKEEPER_HOMESERVER_URL/],
    ['an unknown ROOMKEEPER_ variable', { ROOMKEEPER_AUTOJOIN: 'all' }, /ROOMKEEPER_AUTOJOIN/],
    ['a log level that does not exist', { ROOMKEEPER_LOG_LEVEL: 'loud' }, /log\.level|ROOMKEEPER_LOG_LEVEL/],
  ])('exits 2 with one line naming the field when the config has %s', async (_what, extra, field) => {
    const r = await run(extra).exited;
    expect(r.code).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines[0]).toMatch(/^roomkeeper: /);
    expect(r.stderr).toMatch(field);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(hs.requests).toEqual([]);
  });

  it('exits 2 with a line naming the field when the config file has an unknown field', async () => {
    const file = join(await dirs.make(), 'config.yaml');
    await writeFile(file, 'reconcile:\n  afterGapySync: true\n');
    const r = await run({}, ['--config', file]).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^roomkeeper: /);
    expect(r.stderr).toContain('afterGapySync');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('roomkeeper run killed while joining', () => {
  it('joins the room after a restart when it was killed while the join was being retried', async () => {
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { name: 'Pending' });
    const first = run();
    await hs.waitForSyncPast(hs.position, 15_000);
    // The join is rate-limited for longer than the daemon lives.
    hs.failNext('join', { status: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 30_000 });
    hs.invite(room, alice, hs.botUserId);
    await hs.waitForRequest('join', 10_000);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(hs.membership(room, hs.botUserId)).toBe('invite');

    const second = run();
    await hs.waitFor(() => hs.membership(room, hs.botUserId) === 'join', 10_000, 'the bot joined after the restart');
    await hs.waitForSyncPast(hs.position, 10_000);
    expect((await second.stop('SIGTERM')).code).toBe(0);
    expect(await inspectJson()).toEqual(expectedInspect(hs, hs.botUserId));
  });
});

/** A seeded PRNG (mulberry32), so that a failing story can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stream of membership changes in a few rooms: joins, leaves, kicks, bans, renames, display
 * names, bursts of messages that make gappy syncs, and the bot kicked, banned and re-invited.
 */
function storyTeller(fake: FakeHomeserver, random: () => number): { rooms: string[]; step: () => void } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const alice = fake.userId('alice');
  const users = ['bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan'].map((u) => fake.userId(u));
  const rooms = ['Red', 'Green', 'Blue'].map((name) => fake.createRoom(alice, { name, joinRule: 'public', invite: [fake.botUserId] }));
  const bot = fake.botUserId;
  const step = (): void => {
    const room = pick(rooms);
    const user = pick(users);
    const m = fake.membership(room, user);
    const r = random();
    if (r < 0.3) {
      if (m !== 'join' && m !== 'ban') fake.join(room, user);
      else if (m === 'join') fake.leave(room, user);
    } else if (r < 0.4) {
      if (m === 'join') fake.kick(room, alice, user);
    } else if (r < 0.45) {
      if (m === 'ban') fake.unban(room, alice, user);
      else fake.ban(room, alice, user);
    } else if (r < 0.5) {
      if (m === 'join') fake.setDisplayName(room, user, `${user.slice(1, 4)}-${Math.floor(random() * 100)}`);
    } else if (r < 0.55) {
      fake.setName(room, alice, `${pick(['Red', 'Green', 'Blue'])} ${Math.floor(random() * 1000)}`);
    } else if (r < 0.6) {
      fake.setTopic(room, alice, `topic ${Math.floor(random() * 1000)}`);
    } else if (r < 0.66) {
      const bm = fake.membership(room, bot);
      if (bm === 'join') {
        if (random() < 0.8) fake.kick(room, alice, bot);
        else fake.ban(room, alice, bot);
      } else if (bm === 'ban') {
        fake.unban(room, alice, bot);
      } else if (bm === 'leave') {
        fake.invite(room, alice, bot);
      }
    } else if (r < 0.7) {
      // A burst longer than the timeline limit: the next sync of this room is gappy.
      for (let i = 0; i < 60; i++) fake.sendMessage(room, alice, `burst ${i}`);
    } else {
      fake.sendMessage(room, alice, `chatter ${Math.floor(random() * 1e6)}`);
    }
  };
  return { rooms, step };
}

describe('roomkeeper run under SIGKILL', () => {
  it('ends in the same state as an uninterrupted run when killed at random moments of a stream of changes', async () => {
    const seed = Number(process.env['TEST_SEED'] ?? Date.now() % 1_000_000);
    const random = prng(seed);
    // The uninterrupted run: an in-process daemon with a token (and a filter) of its own.
    hs.addToken(hs.botUserId, 'reference-token', 'REFERENCE');
    const refDir = await dirs.make();
    const reference = await startDaemon({
      config: loadConfig({ env: { ...env({ ROOMKEEPER_ACCESS_TOKEN: 'reference-token', ROOMKEEPER_DATA_DIR: refDir }) } }),
      log: memoryLogger('warn').log,
      version: 'test',
      retry: FAST_RETRY,
    });
    // Stopped however the test ends: an in-process daemon left running would outlive the fake.
    onTestFinished(() => reference.stop());
    const refFilter = await hs.waitFor(() => hs.syncs.find((s) => s.filterParam !== undefined)?.filterParam, 5000, 'reference sync');
    const childSyncs = () => hs.syncs.filter((s) => s.filterParam !== refFilter);

    const story = storyTeller(hs, random);
    let telling = true;
    const teller = (async () => {
      while (telling) {
        const n = 1 + Math.floor(random() * 3);
        for (let i = 0; i < n; i++) story.step();
        await sleep(15);
      }
    })();

    const kills: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const before = childSyncs().length;
        const p = run({ ROOMKEEPER_LOG_LEVEL: 'warn' });
        if (i % 2 === 0) {
          // Somewhere in start-up or the first syncs.
          await sleep(300 + random() * 2000);
        } else {
          // While it syncs and commits.
          await hs.waitFor(() => childSyncs().length > before + 1 || p.result !== undefined, 15_000, 'child syncing');
          await sleep(random() * 400);
        }
        const r = await p.stop('SIGKILL');
        kills.push(r.signal === 'SIGKILL' ? `killed after ${childSyncs().length - before} syncs` : `exited ${r.code}: ${r.stderr}`);
        expect(r.signal, `seed ${seed}: ${r.stderr}`).toBe('SIGKILL');
      }
    } finally {
      telling = false;
      await teller;
    }

    // The clean run to the end: the story is over once nobody waits on an invite and both are caught up.
    const last = run({ ROOMKEEPER_LOG_LEVEL: 'warn' });
    const diagnose = () => {
      const lastSince = (xs: { since?: number }[]) => xs.at(-1)?.since;
      const bot = story.rooms.map((room) => `${room}: ${hs.membership(room, hs.botUserId)}`).join(', ');
      return `seed ${seed}, ${kills.join('; ')}; position ${hs.position}; bot ${bot}; reference at ${lastSince(hs.syncs.filter((x) => x.filterParam === refFilter))}, child at ${lastSince(childSyncs())}; child stderr ${last.stderr}`;
    };
    const invited = () => story.rooms.some((room) => hs.membership(room, hs.botUserId) === 'invite');
    for (let round = 0; ; round++) {
      expect(round, diagnose()).toBeLessThan(10);
      await hs.waitFor(() => !invited(), 15_000, 'invites answered').catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${diagnose()}`);
      });
      // Something both runs see, even when the bot is in no room: their next sync passes it.
      hs.setAccountData(hs.botUserId, 'org.example.test.marker', { round });
      const at = hs.position;
      const past = (x: { since?: number }) => x.since !== undefined && x.since >= at;
      await hs
        .waitFor(() => hs.syncs.some((x) => x.filterParam === refFilter && past(x)) && childSyncs().some(past), 15_000, 'both runs caught up')
        .catch((err: unknown) => {
          throw new Error(`${(err as Error).message}: ${diagnose()}`);
        });
      await sleep(100);
      if (hs.position === at && !invited()) break;
    }
    const r = await last.stop('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    await reference.stop();

    const expected = expectedInspect(hs, hs.botUserId);
    const store = await Store.open(refDir);
    const uninterrupted = await inspectAll(store).finally(() => store.close());
    expect(uninterrupted, `seed ${seed}`).toEqual(expected);
    expect(await inspectJson(), `seed ${seed}, ${kills.join('; ')}`).toEqual(uninterrupted);
  });
});
