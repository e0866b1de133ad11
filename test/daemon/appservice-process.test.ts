import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { expectedInspect } from '../support/expected-state.js';
import { startFakeHomeserver, type AppservicePusher, type FakeHomeserver } from '../support/fake-homeserver.js';
import { TempDirs } from '../support/temp-dir.js';
import { AS_TOKEN, HS_TOKEN } from './appservice-harness.js';

let hs: FakeHomeserver;
let pusher: AppservicePusher;
let dirs: TempDirs;
let dataDir: string;
let configFile: string;
const children: DaemonProcess[] = [];

/** A port free now, for a listener that must keep its port across restarts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeEach(async () => {
  hs = await startFakeHomeserver();
  dirs = new TempDirs();
  dataDir = await dirs.make();
  const port = await freePort();
  configFile = join(await dirs.make('roomkeeper-config-'), 'config.yaml');
  await writeFile(configFile, `mode: appservice\nappservice:\n  port: ${port}\n`);
  pusher = hs.pushToAppservice({ hsToken: HS_TOKEN, asToken: AS_TOKEN, url: `http://127.0.0.1:${port}`, retryMs: 50 });
});

afterEach(async () => {
  for (const c of children.splice(0)) await c.stop('SIGKILL');
  await hs.close();
  await dirs.cleanup();
});

function run(): DaemonProcess {
  const p = new DaemonProcess(
    {
      ROOMKEEPER_HOMESERVER_URL: hs.url,
      ROOMKEEPER_APPSERVICE_HS_TOKEN: HS_TOKEN,
      ROOMKEEPER_APPSERVICE_AS_TOKEN: AS_TOKEN,
      ROOMKEEPER_DATA_DIR: dataDir,
      ROOMKEEPER_LOG_LEVEL: 'debug',
    },
    ['--config', configFile],
  );
  children.push(p);
  return p;
}

async function inspectJson(): Promise<unknown> {
  const r = await runCli(['inspect', '--data-dir', dataDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('roomkeeper run in appservice mode under SIGKILL', () => {
  it('applies a transaction killed before its commit once, when the homeserver sends it again', async () => {
    const first = run();
    await hs.waitFor(() => first.logs().some((l) => l.msg === 'receiving appservice transactions'), 15_000, 'listener up');
    const alice = hs.userId('alice');
    // The bot's join waits on /state: the transaction carrying it is in flight, uncommitted.
    hs.failNext('state', { delayMs: 60_000 });
    const bob = hs.userId('bob');
    const room = hs.createRoom(alice, { name: 'Killed', invite: [bob, hs.botUserId] });
    hs.join(room, bob);
    await hs.waitFor(() => hs.requests.some((r) => r.route === 'state' && r.method === 'GET'), 15_000, 'state read in flight');
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    const joinTxn = pusher.transactions.find((t) => JSON.stringify(t.events).includes(`"state_key":"${hs.botUserId}","sender":"${hs.botUserId}"`));
    expect(joinTxn?.done).toBe(false);

    const second = run();
    await hs.waitFor(() => joinTxn!.done, 15_000, 'the join transaction acknowledged');
    await pusher.drained(15_000);
    expect(second.logs().filter((l) => l.msg === 'appservice transaction already committed; acknowledged again')).toEqual([]);
    expect((await second.stop('SIGTERM')).code).toBe(0);
    expect(await inspectJson()).toEqual(expectedInspect(hs, hs.botUserId));
  });

  it('applies a transaction killed after its commit once, and answers its command once', async () => {
    const first = run();
    await hs.waitFor(() => first.logs().some((l) => l.msg === 'receiving appservice transactions'), 15_000, 'listener up');
    const alice = hs.userId('alice');
    const dm = hs.createRoom(alice, { isDirect: true, invite: [hs.botUserId] });
    await hs.waitFor(() => hs.membership(dm, hs.botUserId) === 'join', 15_000, 'bot joined the DM');
    await pusher.drained(15_000);

    // Committed, but its answer never reaches the homeserver: the process dies right after.
    pusher.loseNextAck();
    hs.sendMessage(dm, alice, '!rooms');
    const txn = await hs.waitFor(() => pusher.transactions.find((t) => t.attempts.some((a) => a.error === 'answer lost on purpose')), 15_000, 'the answer lost');
    await hs.waitFor(() => hs.sent(dm).length === 1, 15_000, 'the reply');
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    const second = run();
    pusher.resume();
    await hs.waitFor(() => txn.done, 15_000, 'the retry acknowledged');
    await pusher.drained(15_000);
    expect(second.logs().filter((l) => l.msg === 'appservice transaction already committed; acknowledged again')).toHaveLength(1);
    expect((await second.stop('SIGTERM')).code).toBe(0);
    // One reply: the retry applied nothing and answered nothing.
    expect(hs.sent(dm)).toHaveLength(1);
    expect(await inspectJson()).toEqual(expectedInspect(hs, hs.botUserId));
  });
});
