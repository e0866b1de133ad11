import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { E2eBot } from './support/bot.js';
import { registerUser } from './support/matrix.js';

const bots: E2eBot[] = [];

afterEach(async () => {
  for (const b of bots.splice(0)) await b.cleanup();
});

async function newBot(): Promise<E2eBot> {
  const bot = await E2eBot.create();
  bots.push(bot);
  return bot;
}

describe('roomkeeper run and doctor against a real Synapse', () => {
  it('exits 0 within 5 s on SIGTERM while syncing, and the data dir holds what the server says', async () => {
    const bot = await newBot();
    const alice = await registerUser('alice');
    const daemon = await bot.start();
    const room = await alice.createRoom({ name: 'Signals', invite: [bot.id] });
    await bot.joined(room);
    await bot.settle();
    const r = await daemon.stop('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.stderr).toBe('');
    expect(daemon.logs().map((l) => l.msg)).toContain('stopped');
    expect(await bot.inspect()).toEqual(await bot.truth());
  });

  it('exits 2 with one line when Synapse rejects the access token', async () => {
    const bot = await newBot();
    const daemon = new DaemonProcess(bot.env({ ROOMKEEPER_ACCESS_TOKEN: 'syt_not_a_real_token' }));
    const r = await daemon.exited;
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^roomkeeper: .*access token.*(invalid|rejected)/);
    expect(r.stderr + r.stdout).not.toContain('syt_not_a_real_token');
  });

  it('doctor reports the real server, the token\'s user and the data dir', async () => {
    const bot = await newBot();
    // One line per check: the status padded to 5, the name padded to 11, the detail.
    const statusOf = (stdout: string) =>
      Object.fromEntries(
        stdout
          .trimEnd()
          .split('\n')
          .map((l) => [l.slice(6, 17).trim(), l.slice(0, 5).trim()]),
      );
    // Before the first run the data dir holds no database, and doctor creates none.
    const before = await runCli(['doctor'], '', { env: bot.env() });
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect(statusOf(before.stdout)).toMatchObject({ config: 'OK', homeserver: 'OK', token: 'OK', 'data dir': 'OK', database: 'SKIP' });
    expect(readdirSync(bot.dataDir)).toEqual([]);

    const daemon = await bot.start();
    expect((await daemon.stop('SIGTERM')).code).toBe(0);
    const ok = await runCli(['doctor'], '', { env: bot.env() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(statusOf(ok.stdout)).toMatchObject({ config: 'OK', homeserver: 'OK', token: 'OK', 'data dir': 'OK', database: 'OK' });
    expect(ok.stdout).toContain(`token belongs to ${bot.id}`);

    const bad = await runCli(['doctor'], '', { env: bot.env({ ROOMKEEPER_ACCESS_TOKEN: 'syt_wrong' }) });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/^FAIL\s+token\s+.*M_UNKNOWN_TOKEN/m);
  });
});
