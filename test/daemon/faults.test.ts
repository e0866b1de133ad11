import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncToken, type Fault, type RouteMatcher } from '../support/fake-homeserver.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { memoryLogger } from '../support/memory-log.js';
import { FAST_RETRY, Harness } from './harness.js';

/** One of each: 500, 429 with retry_after_ms, a dropped connection, a proxy's 502 page. */
const FAULTS: Fault[] = [
  { status: 500 },
  { status: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 30 },
  { drop: true },
  { status: 502, rawBody: '<html>Bad Gateway</html>' },
];

describe('daemon under homeserver faults', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  function arm(matcher: RouteMatcher): void {
    for (const f of FAULTS) h.hs.failNext(matcher, f);
  }

  /** Alice's room with bob and carol; bob leaves, dave joins, the room is renamed. */
  async function story(): Promise<string> {
    const { hs } = h;
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((u) => hs.userId(u)) as [string, string, string, string];
    const room = hs.createRoom(alice, { name: 'Faulty', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, bob);
    hs.join(room, carol);
    await h.joined(room);
    hs.leave(room, bob);
    hs.join(room, dave);
    hs.setName(room, alice, 'Faultier');
    await h.caughtUp();
    return room;
  }

  async function expectRightEndState(): Promise<void> {
    await h.stop();
    expect(h.hs.pendingFaults).toBe(0);
    expect(h.hs.internalErrors).toEqual([]);
    expect(await h.inspect()).toEqual(h.expected());
  }

  it('ends in the right state when syncs fail with 500, 429, 502 and dropped connections', async () => {
    await h.start();
    arm('sync');
    await story();
    arm('sync');
    h.hs.sendMessage(h.hs.joinedRooms(h.hs.botUserId)[0]!, h.hs.userId('alice'), 'after more faults');
    await h.caughtUp();
    const retries = h.logged('homeserver request failed, retrying').filter((l) => l['path'] === '/_matrix/client/v3/sync');
    expect(retries).toHaveLength(FAULTS.length * 2);
    await expectRightEndState();
  });

  it('waits the retry_after_ms the server asks for when a sync is rate-limited', async () => {
    await h.start();
    h.hs.failNext('sync', { status: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 300 });
    const room = h.hs.createRoom(h.hs.userId('alice'), { invite: [h.hs.botUserId] });
    await h.joined(room);
    const syncs = h.hs.requests.filter((r) => r.route === 'sync');
    const limited = syncs.findIndex((r) => r.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    expect(syncs[limited + 1]!.time - syncs[limited]!.time).toBeGreaterThanOrEqual(280);
    await expectRightEndState();
  });

  it('joins in the end when joining fails with 500, 429, 502 and dropped connections', async () => {
    await h.start();
    arm('join');
    await story();
    expect(h.hs.requests.filter((r) => r.route === 'join' && r.status === 200)).toHaveLength(1);
    await expectRightEndState();
  });

  it('snapshots the room in the end when reading its state fails', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { name: 'Stateful', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, hs.userId('bob'));
    hs.join(room, hs.botUserId);
    // A store with a token but not the room: reconciliation snapshots it from /state.
    await h.withStore((s) => s.commit({ marks: [], ops: [], now: 1, syncToken: syncToken(hs.position) }));
    arm('state');
    arm('joined_rooms');
    await h.start();
    await hs.waitFor(() => h.logged('reconciled rooms with the homeserver').length > 0, 5000, 'reconciled');
    expect(h.hs.requests.filter((r) => r.route === 'state' && r.status === 200)).toHaveLength(1);
    await expectRightEndState();
  });

  it('sends a command reply exactly once when sending it fails with 500, 429, 502 and dropped connections', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const dm = hs.createRoom(alice, { isDirect: true, invite: [hs.botUserId] });
    await h.start();
    await h.joined(dm);
    await hs.waitFor(() => hs.accountDataOf(hs.botUserId).get('m.direct'), 5000, 'm.direct set');
    arm('send');
    hs.sendMessage(dm, alice, '!help');
    await hs.waitForSent((e) => e['type'] === 'm.room.message', 10_000);
    await h.caughtUp();
    await sleep(100);
    expect(hs.sent(dm).filter((e) => e['type'] === 'm.room.message')).toHaveLength(1);
    expect(h.logged('reply could not be sent')).toEqual([]);
    await expectRightEndState();
  });

  it('keeps retrying and does not fail when the homeserver is down at start-up, then works once it is up', async () => {
    const { hs } = h;
    const room = hs.createRoom(hs.userId('alice'), { name: 'Later', invite: [hs.botUserId] });
    await hs.down();
    let settled = false;
    const starting = h.launch().finally(() => (settled = true));
    await hs.waitFor(() => (h.logs?.() ?? []).filter((l) => l.msg === 'homeserver request failed, retrying' && l['path'] === '/_matrix/client/v3/account/whoami').length >= 3, 5000, 'whoami retries');
    expect(settled).toBe(false);
    await hs.up();
    await starting;
    await h.joined(room);
    await expectRightEndState();
  });

  it('answers /readyz with a JSON reason and /livez with 200 while the homeserver is down at start-up', async () => {
    const { hs } = h;
    await hs.down();
    const starting = h.launch({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    const listening = await hs.waitFor(() => (h.logs?.() ?? []).find((l) => l.msg === 'http endpoint listening'), 5000, 'the http endpoint');
    const url = String(listening['url']);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'starting: waiting for the homeserver' });
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/livez`)).status).toBe(200);

    await hs.up();
    await starting;
    await h.caughtUp();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('ends start-up and closes the data dir when start-up is abandoned while the homeserver is down', async () => {
    const { hs } = h;
    await hs.down();
    const abandon = new AbortController();
    const { log, lines } = memoryLogger('debug');
    const starting = startDaemon({ config: h.config(), log, version: 'test', retry: FAST_RETRY, signal: abandon.signal });
    const outcome = starting.then(
      () => 'started',
      (err: unknown) => err,
    );
    await hs.waitFor(() => lines().filter((l) => l.msg === 'homeserver request failed, retrying' && l['path'] === '/_matrix/client/v3/account/whoami').length >= 2, 5000, 'whoami retries');
    const t = Date.now();
    abandon.abort();
    expect(await outcome).toBeInstanceOf(Error);
    expect(Date.now() - t).toBeLessThan(1000);
    // The store was closed: the data dir opens again.
    expect(await h.inspect()).toEqual({ rooms: [], users: [] });
  });

  it('catches up when the homeserver goes down mid-run and comes back', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = await (async () => {
      await h.start();
      return story();
    })();
    await hs.down();
    hs.join(room, hs.userId('erin'));
    hs.setTopic(room, alice, 'while you were away');
    await sleep(300);
    await hs.up();
    await h.caughtUp();
    await expectRightEndState();
  });
});
