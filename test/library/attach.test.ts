import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import { openRoomkeeper, type ProcessResult, type Roomkeeper } from '../../src/index.js';
import { attachClient } from '../../src/matrix/attach.js';
import { memoryLogger } from '../support/memory-log.js';
import { AutojoinRoomsMixin, LogLevel, LogService, MatrixClient, MemoryStorageProvider, SimpleFsStorageProvider } from '../../src/matrix/sdk-exports.js';
import { startFakeHomeserver, type FakeHomeserver, type JsonObject } from '../support/fake-homeserver.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';
import { caughtUp, enter, expectedShape, recordOf } from './record.js';

// The SDK's own info lines ("Client stop requested", …) are noise here.
LogService.setLevel(LogLevel.WARN);

const dirs = new TempDirs();
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await dirs.cleanup();
});

interface Bot {
  client: MatrixClient;
  keeper: Roomkeeper;
  storage: MemoryStorageProvider | SimpleFsStorageProvider;
  commits: ProcessResult[];
}

/** A plain matrix-bot-sdk bot as a developer writes one, with roomkeeper attached. */
async function bot(
  hs: FakeHomeserver,
  dataDir: string,
  storage: MemoryStorageProvider | SimpleFsStorageProvider = new MemoryStorageProvider(),
  { attach = true }: { attach?: boolean } = {},
): Promise<Bot> {
  const client = new MatrixClient(hs.url, hs.botToken, storage);
  // Short long-polls, so that a stopped client's last request ends soon.
  client.syncingTimeout = 200;
  AutojoinRoomsMixin.setupOnClient(client);
  const keeper = await openRoomkeeper({ dataDir, botUserId: hs.botUserId });
  const commits: ProcessResult[] = [];
  if (attach) keeper.attach(client, { onCommit: (r) => void commits.push(r) });
  cleanups.push(async () => {
    client.stop();
    await keeper.close();
  });
  return { client, keeper, storage, commits };
}

describe('keeper.attach(client) on a plain MatrixClient', () => {
  it('records invites, joins, kicks and a kick followed by a re-invite as the server has them', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const { client, keeper } = await bot(hs, await dirs.make());
    await client.start();

    const [alice, bob, carol, dave, erin] = ['alice', 'bob', 'carol', 'dave', 'erin'].map((u) => hs.userId(u)) as [string, string, string, string, string];
    const roomId = hs.createRoom(alice, { name: 'Garden' });
    hs.invite(roomId, alice, hs.botUserId);
    // The SDK's autojoin mixin answers the invite.
    await hs.waitFor(() => hs.membership(roomId, hs.botUserId) === 'join', 10_000, 'the bot joined');
    for (const u of [bob, carol, dave]) {
      hs.invite(roomId, alice, u);
      hs.join(roomId, u);
    }
    hs.invite(roomId, alice, erin);
    await caughtUp(hs);
    hs.kick(roomId, alice, carol, { reason: 'spam' });
    await caughtUp(hs);
    // Kicked and invited back within one response, then joined in the next.
    hs.kick(roomId, alice, dave);
    hs.invite(roomId, alice, dave);
    await caughtUp(hs);
    hs.join(roomId, dave);
    await caughtUp(hs);

    expect(await recordOf(keeper)).toEqual(expectedShape(hs));
    expect((await keeper.rooms.membersOf(roomId)).map((m) => m.userId)).toEqual([alice, bob, dave, hs.botUserId].sort());
    expect(await keeper.rooms.isMember(roomId, carol)).toBe(false);
    expect(await keeper.rooms.roomsOf(erin)).toEqual([]);
    expect((await keeper.rooms.info(roomId))?.name).toBe('Garden');
  });

  it('fires the bot’s own room.message handler once per message, after the body is committed', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const { client, keeper, storage } = await bot(hs, await dirs.make());
    const alice = hs.userId('alice');
    const bob = hs.userId('bob');
    const roomId = hs.createRoom(alice, { name: 'Garden' });
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);

    const seen: { eventId: string; senderIsMember?: boolean; keeperToken?: string | undefined; sdkToken?: string | null }[] = [];
    client.on('room.message', (room: string, event: JsonObject) => {
      // In emit order, then the answers (handlers of one body run interleaved).
      const entry: (typeof seen)[number] = { eventId: event['event_id'] as string };
      seen.push(entry);
      const sdkToken = storage.getSyncToken();
      void Promise.all([keeper.rooms.isMember(room, event['sender'] as string), keeper.syncToken()]).then(([member, token]) => {
        Object.assign(entry, { senderIsMember: member, keeperToken: token, sdkToken });
      });
    });
    await client.start();
    await caughtUp(hs);

    // Bob's join and his first words arrive in one response: the handler already sees him in.
    hs.invite(roomId, alice, bob);
    hs.join(roomId, bob);
    const first = hs.sendMessage(roomId, bob, 'hello');
    await caughtUp(hs);
    const more = [hs.sendMessage(roomId, alice, 'one'), hs.sendMessage(roomId, bob, 'two')];
    await caughtUp(hs);
    await hs.waitFor(() => seen.length >= 3 && seen.every((e) => e.senderIsMember !== undefined), 5000, 'three messages handled');

    const ids = [first, ...more].map((e) => e.event['event_id'] as string);
    expect(seen.map((s) => s.eventId)).toEqual(ids);
    expect(seen.every((s) => s.senderIsMember)).toBe(true);
    // Roomkeeper committed the body's token before the handler ran; the SDK had not saved it yet.
    const bodyOf = (eventId: string) =>
      hs.syncs.find((s) => JSON.stringify(s.response ?? {}).includes(eventId))?.response?.['next_batch'];
    for (const s of seen) {
      expect(s.keeperToken).toBe(bodyOf(s.eventId));
      expect(s.sdkToken).not.toBe(s.keeperToken);
    }
    // And saved it after: the SDK's token never runs ahead of the record.
    expect(await Promise.resolve(storage.getSyncToken())).toBe(await keeper.syncToken());
  });

  it('fires room.join, room.event and room.leave after the commit: each handler sees its own response', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const { client, keeper } = await bot(hs, await dirs.make());
    const alice = hs.userId('alice');
    const seen: string[] = [];
    client.on('room.join', (roomId: string) => {
      void keeper.rooms.isMember(roomId, hs.botUserId).then((m) => seen.push(`join ${String(m)}`));
    });
    client.on('room.event', (roomId: string, event: JsonObject) => {
      if (event['type'] !== 'm.room.member' || event['state_key'] !== hs.userId('bob')) return;
      void keeper.rooms.isMember(roomId, hs.userId('bob')).then((m) => seen.push(`bob ${String((event['content'] as JsonObject)['membership'])} ${String(m)}`));
    });
    client.on('room.leave', (roomId: string) => {
      void keeper.rooms.info(roomId).then((info) => seen.push(`leave ${info === undefined ? 'forgotten' : 'still tracked'}`));
    });
    await client.start();
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    await hs.waitFor(() => seen.includes('join true'), 10_000, 'room.join handled');
    hs.invite(roomId, alice, hs.userId('bob'));
    hs.join(roomId, hs.userId('bob'));
    await hs.waitFor(() => seen.includes('bob join true'), 5000, 'bob seen');
    hs.kick(roomId, alice, hs.botUserId);
    await hs.waitFor(() => seen.some((s) => s.startsWith('leave')), 5000, 'room.leave handled');
    expect(seen.filter((s) => s.startsWith('join') || s.startsWith('leave'))).toEqual(['join true', 'leave forgotten']);
    // Bob's invite and join came in one response: both handlers see the state after all of it.
    expect(seen).toContain('bob invite true');
  });

  it('hands onCommit each new event once, before the SDK emits that body', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const { client, commits } = await bot(hs, await dirs.make());
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);
    const order: string[] = [];
    client.on('room.message', (_room: string, event: JsonObject) => order.push(`message ${String(event['event_id'])}`));
    await client.start();
    await caughtUp(hs);
    const sent = hs.sendMessage(roomId, alice, 'hi');
    await caughtUp(hs);
    const id = sent.event['event_id'] as string;
    const commit = commits.find((c) => c.fresh.some((f) => f.event.eventId === id));
    expect(commit).toBeDefined();
    expect(order).toEqual([`message ${id}`]);
    expect(commits.flatMap((c) => c.fresh.map((f) => f.event.eventId)).filter((e) => e === id)).toHaveLength(1);
  });

  it('resumes after a restart without losing or re-applying an event, from a file storage provider', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const dataDir = await dirs.make();
    const storageFile = join(await dirs.make(), 'bot.json');
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);

    const first = await bot(hs, dataDir, new SimpleFsStorageProvider(storageFile));
    await first.client.start();
    enter(hs, roomId, alice, 'bob');
    await caughtUp(hs);
    first.client.stop();
    await first.keeper.close();
    cleanups.pop();

    // While the bot is away.
    enter(hs, roomId, alice, 'carol');
    hs.leave(roomId, hs.userId('bob'));

    const second = await bot(hs, dataDir, new SimpleFsStorageProvider(storageFile));
    await second.client.start();
    await caughtUp(hs);
    expect(await recordOf(second.keeper)).toEqual(expectedShape(hs));
    const freshIds = [...first.commits, ...second.commits].flatMap((c) => c.fresh.map((f) => f.event.eventId));
    expect(new Set(freshIds).size).toBe(freshIds.length);
    expect(second.keeper.totals.applied).toBeGreaterThan(0);
  });

  it('starts from an initial sync when the record is empty but the bot’s storage has a token', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice, { name: 'Before' });
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);
    enter(hs, roomId, alice, 'bob');
    const storage = new MemoryStorageProvider();
    // The bot synced on its own before roomkeeper came along.
    storage.setSyncToken(await initialToken(hs));

    const { client, keeper } = await bot(hs, await dirs.make(), storage);
    await client.start();
    await caughtUp(hs);
    expect(await recordOf(keeper)).toEqual(expectedShape(hs));
  });

  it('covers the bodies a client already syncing receives once attached', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const alice = hs.userId('alice');
    const { client, keeper } = await bot(hs, await dirs.make(), new MemoryStorageProvider(), { attach: false });
    await client.start();
    await hs.waitForSyncPast(hs.position);
    keeper.attach(client);
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    await hs.waitFor(() => hs.membership(roomId, hs.botUserId) === 'join', 10_000, 'the bot joined');
    enter(hs, roomId, alice, 'bob');
    await caughtUp(hs);
    expect(await recordOf(keeper)).toEqual(expectedShape(hs));
  });

  it('detach() gives the client back: its handlers fire, roomkeeper sees nothing more', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);
    const { client, keeper } = await bot(hs, await dirs.make());
    const messages: string[] = [];
    client.on('room.message', (_r: string, e: JsonObject) => messages.push(String((e['content'] as JsonObject)['body'])));
    await client.start();
    await caughtUp(hs);
    await keeper.detach();
    const responses = keeper.totals.responses;
    enter(hs, roomId, alice, 'bob');
    hs.sendMessage(roomId, alice, 'after detach');
    await caughtUp(hs);
    expect(messages).toEqual(['after detach']);
    expect(keeper.totals.responses).toBe(responses);
    expect(await keeper.rooms.isMember(roomId, hs.userId('bob'))).toBe(false);
    // Attachable again.
    keeper.attach(client);
    enter(hs, roomId, alice, 'carol');
    await caughtUp(hs);
    expect(await keeper.rooms.isMember(roomId, hs.userId('carol'))).toBe(true);
  });

  it('refuses to start with a filter that lazy-loads members', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const { client } = await bot(hs, await dirs.make());
    await expect(client.start({ room: { state: { lazy_load_members: true } } })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(hs.syncs).toEqual([]);
  });

  it('stops the client when a commit fails, before any event of that body fires or its token is saved', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);
    const storage = new MemoryStorageProvider();
    const client = new MatrixClient(hs.url, hs.botToken, storage);
    client.syncingTimeout = 200;
    cleanups.push(() => Promise.resolve(client.stop()));
    const messages: string[] = [];
    client.on('room.message', (_r: string, e: JsonObject) => messages.push(e['event_id'] as string));
    let failing = false;
    const fatal: unknown[] = [];
    const { log, lines } = memoryLogger('info');
    attachClient(client, {
      log,
      syncToken: () => Promise.resolve(undefined),
      commit: () => (failing ? Promise.reject(new Error('disk full')) : Promise.resolve()),
      onFatal: (err) => fatal.push(err),
    });
    await client.start();
    await caughtUp(hs);
    const token = await Promise.resolve(storage.getSyncToken());
    failing = true;
    hs.sendMessage(roomId, alice, 'lost?');
    await hs.waitFor(() => fatal.length > 0, 5000, 'onFatal');
    await new Promise((r) => setTimeout(r, 300));
    expect(messages).toEqual([]);
    expect(await Promise.resolve(storage.getSyncToken())).toBe(token);
    expect(String(fatal[0])).toContain('disk full');
    expect(lines().find((l) => l.msg === 'committing a sync response failed; the client was stopped')).toBeDefined();
    // Stopped: no further request after the one in flight.
    const n = hs.syncs.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(hs.syncs.length).toBeLessThanOrEqual(n + 1);
  });

  it('once closed, refuses the client’s next body: nothing of it fires and its token is not saved', async () => {
    const hs = await startFakeHomeserver();
    cleanups.push(() => hs.close());
    const alice = hs.userId('alice');
    const roomId = hs.createRoom(alice);
    hs.invite(roomId, alice, hs.botUserId);
    hs.join(roomId, hs.botUserId);
    const { client, keeper, storage } = await bot(hs, await dirs.make());
    const messages: string[] = [];
    client.on('room.message', (_r: string, e: JsonObject) => messages.push(e['event_id'] as string));
    await client.start();
    await caughtUp(hs);
    const token = await Promise.resolve(storage.getSyncToken());
    await keeper.close();
    hs.sendMessage(roomId, alice, 'too late');
    await hs.waitFor(() => hs.syncs.at(-1)?.response !== undefined && JSON.stringify(hs.syncs.at(-1)?.response).includes('too late'), 5000, 'the body was sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(messages).toEqual([]);
    expect(await Promise.resolve(storage.getSyncToken())).toBe(token);
    expect(() => keeper.attach(client)).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
  });
});

/** A token from an initial sync of the bot, taken outside roomkeeper. */
async function initialToken(hs: FakeHomeserver): Promise<string> {
  const res = await fetch(`${hs.url}/_matrix/client/v3/sync`, { headers: { authorization: `Bearer ${hs.botToken}` } });
  return ((await res.json()) as { next_batch: string }).next_batch;
}

describe('keeper.process and the queries', () => {
  it('commits concurrent process() calls one at a time, in the order they were made', async () => {
    const keeper = await openRoomkeeper({ dataDir: await dirs.make(), botUserId: '@bot:example.org' });
    cleanups.push(() => keeper.close());
    const b = new SyncBuilder();
    const room = '!r:example.org';
    const bodies = [
      b.response({ [room]: { state: [b.member('@alice:example.org', 'join')], timeline: [b.member('@bot:example.org', 'join')] } }),
      ...Array.from({ length: 20 }, (_, i) => b.response({ [room]: { timeline: [b.member(`@u${i}:example.org`, 'join')] } })),
    ];
    await Promise.all(bodies.map((body) => keeper.process(body)));
    expect(await keeper.rooms.memberCount(room)).toBe(22);
    expect(await keeper.syncToken()).toBe((bodies.at(-1) as { next_batch: string }).next_batch);
  });

  it('takes plain string ids and answers a malformed one with BAD_ID', async () => {
    const keeper = await openRoomkeeper({ dataDir: await dirs.make(), botUserId: '@bot:example.org' });
    cleanups.push(() => keeper.close());
    expect(await keeper.rooms.roomsOf('@alice:example.org')).toEqual([]);
    for (const call of [
      () => keeper.rooms.roomsOf('alice'),
      () => keeper.rooms.membersOf('#alias:example.org'),
      () => keeper.rooms.sharedRooms('@alice:example.org', ''),
      () => keeper.rooms.isMember('!r:example.org', 'bob@example.org'),
    ]) {
      const err: unknown = await call().catch((e: unknown) => e);
      expect(isRoomkeeperError(err, 'BAD_ID'), String(err)).toBe(true);
    }
    await expect(openRoomkeeper({ dataDir: await dirs.make(), botUserId: 'bot' })).rejects.toMatchObject({ code: 'BAD_ID' });
  });

  it('rejects process() after close() with STORE_CLOSED', async () => {
    const keeper = await openRoomkeeper({ dataDir: await dirs.make(), botUserId: '@bot:example.org' });
    await keeper.close();
    await expect(keeper.process({ next_batch: 's1' })).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
