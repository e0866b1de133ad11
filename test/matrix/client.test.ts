import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import { createRoomkeeperClient, SYNC_FILTER, type RoomkeeperClient, type RoomkeeperClientOptions } from '../../src/matrix/client.js';
import { routeSdkLogs } from '../../src/matrix/sdk-log.js';
import { MetaStorageProvider } from '../../src/matrix/storage.js';
import { parseSyncToken, startFakeHomeserver, type FakeHomeserver, type JsonObject } from '../support/fake-homeserver.js';
import { memoryLogger } from '../support/memory-log.js';
import { MemoryKeyValue } from './memory-kv.js';

const FAST = { baseMs: 5, capMs: 20, maxAttempts: 4, random: () => 0.5 };

interface Harness {
  hs: FakeHomeserver;
  client: RoomkeeperClient;
  kv: MemoryKeyValue;
  bodies: JsonObject[];
  log: ReturnType<typeof memoryLogger>;
}

let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A pipeline stand-in: records each body, then commits its next_batch under sync-token. */
function committingSink(kv: MemoryKeyValue, bodies: JsonObject[]) {
  return async (body: unknown): Promise<void> => {
    const b = body as JsonObject;
    bodies.push(b);
    await kv.put('sync-token', b['next_batch'] as string);
  };
}

async function harness(options: Partial<RoomkeeperClientOptions> & { hs?: FakeHomeserver; kv?: MemoryKeyValue } = {}): Promise<Harness> {
  const hs = options.hs ?? (await startFakeHomeserver());
  const log = memoryLogger('trace');
  routeSdkLogs(log.log);
  const kv = options.kv ?? new MemoryKeyValue();
  const storage = new MetaStorageProvider(kv, log.log);
  const bodies: JsonObject[] = [];
  const client = createRoomkeeperClient({
    homeserverUrl: hs.url,
    accessToken: hs.botToken,
    storage,
    syncTokens: storage,
    log: log.log,
    onSync: committingSink(kv, bodies),
    retry: FAST,
    ...options,
  });
  cleanups.push(async () => {
    await client.stopAndDrain();
    await hs.close();
  });
  return { hs, client, kv, bodies, log };
}

function roomWithBot(hs: FakeHomeserver): { roomId: string; alice: string } {
  const alice = hs.userId('alice');
  const roomId = hs.createRoom(alice, { name: 'Ops' });
  hs.invite(roomId, alice, hs.botUserId);
  hs.join(roomId, hs.botUserId);
  return { roomId, alice };
}

const sinceOf = (body: JsonObject): number | undefined => parseSyncToken(body['next_batch'] as string);

describe('RoomkeeperClient', () => {
  it('hands the whole body, state block and limited included, to the sink when a sync is gappy', async () => {
    const hs = await startFakeHomeserver();
    const { roomId, alice } = roomWithBot(hs);
    const bob = hs.userId('bob');
    hs.invite(roomId, alice, bob);
    hs.join(roomId, bob);
    for (let i = 0; i < 5; i++) hs.sendMessage(roomId, alice, `message ${i}`);
    const filter = { room: { state: { lazy_load_members: false }, timeline: { limit: 2, lazy_load_members: false } } };
    const { client, bodies } = await harness({ hs, syncFilter: filter });

    await client.start();
    await hs.waitFor(() => bodies.length >= 1);

    expect(bodies[0]).toEqual(hs.syncs[0]!.response);
    const room = (bodies[0]!['rooms'] as { join: Record<string, { state: { events: JsonObject[] }; timeline: { limited: boolean } }> }).join[roomId]!;
    expect(room.timeline.limited).toBe(true);
    const members = room.state.events.filter((e) => e['type'] === 'm.room.member').map((e) => e['state_key']);
    expect(members).toEqual(expect.arrayContaining([alice, bob, hs.botUserId]));
  });

  it('hands the leave section to the sink when the bot is kicked', async () => {
    const hs = await startFakeHomeserver();
    const { roomId, alice } = roomWithBot(hs);
    const { client, bodies } = await harness({ hs });
    await client.start();
    await hs.waitForSyncPast();

    hs.kick(roomId, alice, hs.botUserId, { reason: 'bye' });
    await hs.waitFor(() => bodies.length >= 2);

    expect(bodies[1]).toEqual(hs.syncs[1]!.response);
    expect(Object.keys((bodies[1]!['rooms'] as { leave: object }).leave)).toEqual([roomId]);
  });

  it('sends the filter without lazy-loaded members when it starts', async () => {
    const { hs, client } = await harness();
    await client.start();
    await hs.waitFor(() => hs.syncs.length >= 1);

    expect([...hs.filters.values()].map((f) => f.filter)).toEqual([SYNC_FILTER]);
    expect(hs.syncs[0]!.filter).toEqual(SYNC_FILTER);
    expect(hs.syncs[0]!.filterParam).toBe([...hs.filters.keys()][0]);
  });

  it('reuses the stored filter when it starts again with the same store', async () => {
    const hs = await startFakeHomeserver();
    const kv = new MemoryKeyValue();
    const first = await harness({ hs, kv });
    await first.client.start();
    await hs.waitFor(() => hs.syncs.length >= 1);
    await first.client.stopAndDrain();

    const second = await harness({ hs, kv });
    await second.client.start();
    await hs.waitFor(() => hs.syncs.length >= 2);

    expect(hs.requests.filter((r) => r.route === 'filter' && r.method === 'POST')).toHaveLength(1);
    expect(hs.syncs[1]!.filterParam).toBe(hs.syncs[0]!.filterParam);
  });

  it('resumes from the committed token when the sink has committed one', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    const kv = new MemoryKeyValue();
    await kv.put('sync-token', `s${hs.position}`);
    const { client } = await harness({ hs, kv });

    await client.start();
    await hs.waitFor(() => hs.syncs.length >= 1);

    expect(hs.syncs[0]!.since).toBe(hs.position);
  });

  it('syncs from the next_batch of a body only once the sink has finished it', async () => {
    const hs = await startFakeHomeserver();
    const { roomId, alice } = roomWithBot(hs);
    const kv = new MemoryKeyValue();
    const bodies: JsonObject[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const commit = committingSink(kv, bodies);
    const onSync = async (body: unknown): Promise<void> => {
      if (bodies.length === 1) await held;
      await commit(body);
    };
    const { client } = await harness({ hs, kv, onSync });
    await client.start();
    await hs.waitForSyncPast();

    hs.sendMessage(roomId, alice, 'second body');
    await hs.waitFor(() => hs.syncs[1]?.response !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    // The second body is in the sink, not finished: no request may use its token yet.
    expect(hs.syncs).toHaveLength(2);

    release();
    await hs.waitFor(() => hs.syncs.length >= 3);
    expect(hs.syncs.map((s) => s.since)).toEqual([undefined, sinceOf(bodies[0]!), sinceOf(bodies[1]!)]);
    expect(kv.map.get('sync-token')).toBe(bodies[1]!['next_batch']);
  });

  it('gives the same body to the sink again when the sink throws', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    const seen: unknown[] = [];
    const kv = new MemoryKeyValue();
    const commit = committingSink(kv, []);
    const onSync = vi.fn(async (body: unknown) => {
      seen.push(body);
      if (seen.length === 1) throw new Error('disk full');
      await commit(body);
    });
    const { client, log } = await harness({ hs, kv, onSync });

    await client.start();
    await hs.waitFor(() => hs.syncs.length >= 2);

    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    expect(hs.syncs[1]!.since).toBe(sinceOf(seen[0] as JsonObject));
    const failure = log.lines().find((l) => l.msg === 'committing a sync response failed, retrying');
    expect(failure).toMatchObject({ level: 40, attempt: 1, reason: 'disk full', retryInMs: expect.any(Number) });
    expect(failure).not.toHaveProperty('err');
  });

  it('retries a sync after retry_after_ms when the server answers 429', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    hs.failNext('sync', { status: 429, retryAfterMs: 60 });
    const { client, bodies, log } = await harness({ hs });

    const started = Date.now();
    await client.start();
    await hs.waitFor(() => bodies.length >= 1);

    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    const [limited, retried] = hs.requests.filter((r) => r.route === 'sync');
    expect(limited!.status).toBe(429);
    expect(retried!.status).toBe(200);
    const retry = log.lines().find((l) => l.msg === 'homeserver request failed, retrying');
    expect(retry).toMatchObject({ level: 40, method: 'GET', path: '/_matrix/client/v3/sync', attempt: 1, retryInMs: 60, reason: 'HTTP 429 M_LIMIT_EXCEEDED' });
  });

  it('syncs the same response again, never past it, when the sink returns without committing it', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    const kv = new MemoryKeyValue();
    const commit = committingSink(kv, []);
    const seen: unknown[] = [];
    // Like a pipeline that skipped a body it could not read: no error, and no token committed.
    const onSync = async (body: unknown): Promise<void> => {
      seen.push(body);
      if (seen.length > 1) await commit(body);
    };
    const { client, log } = await harness({ hs, kv, onSync });

    await client.start();
    await hs.waitFor(() => hs.syncs.length >= 2);

    expect(seen[1]).toBe(seen[0]);
    expect(hs.syncs[1]!.since).toBe(sinceOf(seen[0] as JsonObject));
    expect(await kv.get('sync-token')).toBe((seen[0] as JsonObject)['next_batch']);
    expect(log.lines().find((l) => l.msg === 'committing a sync response failed, retrying')).toMatchObject({ reason: 'the sync response was not committed' });
  });

  it('retries when the server answers 500 or drops the connection', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    hs.failNext('sync', { status: 500 });
    hs.failNext('sync', { drop: true });
    hs.failNext('sync', { status: 502, rawBody: '<html>Bad Gateway</html>' });
    const { client, bodies } = await harness({ hs });

    await client.start();
    await hs.waitFor(() => bodies.length >= 1);

    expect(hs.pendingFaults).toBe(0);
    expect(bodies[0]).toEqual(hs.syncs.find((s) => s.response !== undefined)!.response);
  });

  it('retries a reply when sending it fails with 500', async () => {
    const hs = await startFakeHomeserver();
    const { roomId } = roomWithBot(hs);
    const { client } = await harness({ hs });
    hs.failNext('send', { status: 500 });

    await client.sendText(roomId, 'pong');

    expect(hs.sent(roomId).map((e) => (e['content'] as JsonObject)['body'])).toEqual(['pong']);
  });

  it('throws a HomeserverError at once when a request is forbidden', async () => {
    const hs = await startFakeHomeserver();
    const { client } = await harness({ hs });
    hs.failNext('join', { status: 403, errcode: 'M_FORBIDDEN' });

    const err: unknown = await client.joinRoom('!nope:fake.test').catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'HOMESERVER_ERROR', errcode: 'M_FORBIDDEN', statusCode: 403 });
    expect(hs.requests.filter((r) => r.route === 'join')).toHaveLength(1);
  });

  it('throws TOKEN_INVALID at once when whoami answers 401', async () => {
    const hs = await startFakeHomeserver();
    const { client } = await harness({ hs, accessToken: 'not-a-token' });

    const err: unknown = await client.whoAmIOrFail().catch((e: unknown) => e);

    expect(isRoomkeeperError(err, 'TOKEN_INVALID')).toBe(true);
    expect((err as Error).message).toBe(`the access token was rejected by ${hs.url}: M_UNKNOWN_TOKEN`);
    expect(hs.requests.filter((r) => r.route === 'whoami')).toHaveLength(1);
  });

  it('throws TOKEN_INVALID when whoami answers M_FORBIDDEN', async () => {
    const { hs, client } = await harness();
    hs.failNext('whoami', { status: 403, errcode: 'M_FORBIDDEN' });

    await expect(client.whoAmIOrFail()).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('keeps retrying whoami when the homeserver is down at start-up', async () => {
    const hs = await startFakeHomeserver();
    await hs.down();
    const { client, log } = await harness({ hs });

    const whoami = client.whoAmIOrFail();
    await new Promise((r) => setTimeout(r, 150));
    await hs.up();

    await expect(whoami).resolves.toMatchObject({ user_id: hs.botUserId });
    expect(log.lines().some((l) => l.msg === 'homeserver request failed, retrying' && l['path'] === '/_matrix/client/v3/account/whoami')).toBe(true);
  });

  it('starts syncing once the homeserver comes up when it is down at start-up', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    await hs.down();
    const { client, bodies } = await harness({ hs });

    const started = client.start();
    await new Promise((r) => setTimeout(r, 250));
    await hs.up();
    await started;
    await hs.waitFor(() => bodies.length >= 1);

    expect(bodies[0]).toEqual(hs.syncs[0]!.response);
  });

  it('stops syncing and reports TOKEN_INVALID when the token is revoked mid-run', async () => {
    const hs = await startFakeHomeserver();
    const { roomId, alice } = roomWithBot(hs);
    const onFatal = vi.fn();
    const { client } = await harness({ hs, onFatal });
    await client.start();
    await hs.waitForSyncPast();

    hs.revokeToken(hs.botToken);
    hs.sendMessage(roomId, alice, 'wake the long-poll');
    await hs.waitFor(() => onFatal.mock.calls.length > 0);

    expect(onFatal.mock.calls[0]![0]).toMatchObject({ code: 'TOKEN_INVALID' });
    const syncs = hs.syncs.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(hs.syncs).toHaveLength(syncs);
  });

  it('finishes the batch in flight when stopAndDrain is called', async () => {
    const hs = await startFakeHomeserver();
    roomWithBot(hs);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    let committed = false;
    const onSync = async (): Promise<void> => {
      entered = true;
      await held;
      committed = true;
    };
    const { client } = await harness({ hs, onSync });
    await client.start();
    await hs.waitFor(() => entered);

    let drained = false;
    const draining = client.stopAndDrain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toBe(false);

    release();
    await draining;
    expect(committed).toBe(true);
    expect(hs.syncs).toHaveLength(1);
  });

  it('stops promptly when a long-poll is pending', async () => {
    const { hs, client } = await harness();
    await client.start();
    await hs.waitForSyncPast(0);

    const t0 = Date.now();
    await client.stopAndDrain();

    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('never logs the access token when the SDK logs at trace level', async () => {
    const hs = await startFakeHomeserver();
    const { roomId } = roomWithBot(hs);
    hs.failNext('sync', { status: 502, rawBody: 'Bad Gateway' });
    hs.failNext('send', { status: 429, retryAfterMs: 5 });
    const { client, log } = await harness({ hs });
    await client.start();
    await hs.waitForSyncPast();
    await client.sendText(roomId, 'hello');

    expect(log.lines().some((l) => l.mod === 'matrix-bot-sdk')).toBe(true);
    expect(log.text()).not.toContain(hs.botToken);
  });
});
