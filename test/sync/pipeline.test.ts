import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { PendingInvites } from '../../src/daemon/pending-invites.js';
import { Pipeline, type Invite } from '../../src/sync/pipeline.js';
import { memoryLogger, WARN } from '../support/memory-log.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const dirs = new TempDirs();
const stores: Store[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await dirs.cleanup();
});

async function setup(options: { maxBatchKeys?: number } = {}) {
  const store = await Store.open(await dirs.make(), { create: true });
  stores.push(store);
  const { log, lines } = memoryLogger();
  const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log, now: () => 1_000, ...options });
  const members = async (roomId: string) => (await store.rooms.membersOf(roomId as RoomId)).map((m) => m.userId);
  const roomsOf = (userId: string) => store.rooms.roomsOf(userId as UserId);
  const warnings = () => lines().filter((l) => l.level === WARN);
  return { store, pipeline, members, roomsOf, warnings, s: new SyncBuilder() };
}

describe('Pipeline', () => {
  it('applies an event once when it is in both the state block and the timeline of one response', async () => {
    const { pipeline, members, s } = await setup();
    const alice = s.member('@alice:x', 'join');
    const r = await pipeline.process(s.response({ '!r:x': { state: [s.member(BOT, 'join'), alice], timeline: [alice, alice] } }));
    expect(r.applied).toBe(2);
    expect(r.duplicates).toBe(2);
    expect(await members('!r:x')).toEqual(['@alice:x', BOT]);
  });

  it('applies an event once when a later response delivers it again', async () => {
    const { pipeline, members, s } = await setup();
    const join = s.member('@alice:x', 'join');
    const leave = s.member('@alice:x', 'leave', { prev: 'join' });
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), join, leave] } }));
    // The join arriving again must not bring alice back.
    const r = await pipeline.process(s.response({ '!r:x': { timeline: [join] } }));
    expect(r).toMatchObject({ applied: 0, duplicates: 1 });
    expect(await members('!r:x')).toEqual([BOT]);
    expect(pipeline.totals).toMatchObject({ responses: 2, applied: 3, duplicates: 1, invalid: 0 });
  });

  it('applies state changes from the state block when the timeline is limited (gappy sync)', async () => {
    const { pipeline, members, store, s } = await setup();
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    const r = await pipeline.process(
      s.response({
        '!r:x': {
          limited: true,
          state: [s.member('@alice:x', 'leave', { prev: 'join' }), s.member('@bob:x', 'join'), s.name('@bob:x', 'Renamed in the gap')],
          timeline: [s.message('@bob:x', 'hi')],
        },
      }),
    );
    expect(r.gappy).toEqual(['!r:x']);
    expect(await members('!r:x')).toEqual(['@bob:x', BOT]);
    expect((await store.rooms.info('!r:x' as RoomId))?.name).toBe('Renamed in the gap');
  });

  it('logs a malformed event at warn with its room and event id and processes the rest of the response', async () => {
    const { pipeline, members, warnings, s } = await setup();
    const bad: Record<string, unknown> = { ...s.member('@mallory:x', 'join'), content: 'join' };
    const r = await pipeline.process(
      s.response({
        '!r:x': { timeline: [s.member(BOT, 'join'), bad, s.member('@alice:x', 'join')] },
        '!other:x': { timeline: [s.member(BOT, 'join')] },
      }),
    );
    expect(r.invalid).toBe(1);
    expect(await members('!r:x')).toEqual(['@alice:x', BOT]);
    expect(await members('!other:x')).toEqual([BOT]);
    const w = warnings();
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ roomId: '!r:x', eventId: bad.event_id, type: 'm.room.member', mod: 'pipeline' });
    expect(String(w[0]?.reason)).toContain('content');
  });

  it('logs an event without an event id at warn with its room and skips only that event', async () => {
    const { pipeline, members, warnings, s } = await setup();
    const noId = s.member('@mallory:x', 'join');
    delete noId.event_id;
    const r = await pipeline.process(s.response({ '!r:x': { state: [s.member(BOT, 'join'), noId], timeline: [s.member('@alice:x', 'join')] } }));
    expect(r.invalid).toBe(1);
    expect(await members('!r:x')).toEqual(['@alice:x', BOT]);
    expect(warnings()[0]).toMatchObject({ roomId: '!r:x', reason: expect.stringContaining('event_id') });
  });

  it('logs a malformed room at warn with its room id and processes the other rooms', async () => {
    const { pipeline, members, store, warnings, s } = await setup();
    const body = s.response({ '!good:x': { timeline: [s.member(BOT, 'join')] } });
    const join = (body.rooms as { join: Record<string, unknown> }).join;
    join['!bad:x'] = { timeline: { events: 'not a list' } };
    join['not-a-room-id'] = { timeline: { events: [s.member(BOT, 'join')] } };
    const r = await pipeline.process(body);
    expect(r.invalid).toBe(2);
    expect(await members('!good:x')).toEqual([BOT]);
    expect(await store.rooms.allRooms()).toEqual(['!good:x']);
    expect(warnings().map((w) => w.roomId).sort()).toEqual(['!bad:x', 'not-a-room-id']);
  });

  it('logs at warn and changes nothing when the body is not a /sync response', async () => {
    const { pipeline, store, warnings } = await setup();
    for (const body of [null, 'text', [1, 2], { rooms: { join: [] } }]) {
      expect((await pipeline.process(body)).invalid).toBe(1);
    }
    expect(warnings()).toHaveLength(4);
    expect(await store.rooms.allRooms()).toEqual([]);
    expect(store.guard.count()).toBe(0);
  });

  it('ends with the right members when the bot is kicked and the rejoin state holds only already-seen events', async () => {
    const { pipeline, members, roomsOf, store, s } = await setup();
    const botJoin = s.member(BOT, 'join');
    const alice = s.member('@alice:x', 'join', { displayname: 'Alice' });
    const bob = s.member('@bob:x', 'join');
    const carol = s.member('@carol:x', 'join');
    const name = s.name('@alice:x', 'Lobby');
    await pipeline.process(s.response({ '!r:x': { state: [alice, bob, name], timeline: [botJoin, carol] } }));
    const carolLeaves = s.member('@carol:x', 'leave', { prev: 'join' });
    await pipeline.process(s.response({ '!r:x': { timeline: [carolLeaves] } }));

    const kick = s.member(BOT, 'leave', { sender: '@alice:x', prev: 'join' });
    await pipeline.process(s.response({}, { '!r:x': { timeline: [kick] } }));
    expect(await store.rooms.allRooms()).toEqual([]);
    expect(await roomsOf('@alice:x')).toEqual([]);

    // The room's current state again, every event of it seen before; only the invite and join are new.
    const invite = s.member(BOT, 'invite', { sender: '@alice:x', prev: 'leave' });
    const rejoin = s.member(BOT, 'join', { prev: 'invite' });
    const r = await pipeline.process(s.response({ '!r:x': { state: [alice, kick, bob, name, carolLeaves], timeline: [invite, rejoin] } }));
    expect(r.snapshots).toEqual(['!r:x']);
    expect(r.applied).toBe(2);
    expect(await store.rooms.membersOf('!r:x' as RoomId)).toEqual([
      { userId: '@alice:x', membership: 'join', eventId: alice.event_id, displayName: 'Alice', ts: alice.origin_server_ts },
      { userId: '@bob:x', membership: 'join', eventId: bob.event_id, ts: bob.origin_server_ts },
      { userId: BOT, membership: 'join', eventId: rejoin.event_id, ts: rejoin.origin_server_ts },
    ]);
    // Carol's leave is kept as her membership, not as a member of the room.
    expect(await store.rooms.memberCounts('!r:x' as RoomId)).toMatchObject({ join: 3, leave: 1 });
    expect(await roomsOf('@alice:x')).toEqual(['!r:x']);
    expect(await roomsOf('@carol:x')).toEqual([]);
    expect((await store.rooms.info('!r:x' as RoomId))?.name).toBe('Lobby');
    expect(await members('!r:x')).toEqual(['@alice:x', '@bob:x', BOT]);
  });

  it('ends with the right members when the bot is banned, then unbanned and rejoins', async () => {
    const { pipeline, members, store, s } = await setup();
    const alice = s.member('@alice:x', 'join');
    await pipeline.process(s.response({ '!r:x': { state: [alice], timeline: [s.member(BOT, 'join')] } }));
    await pipeline.process(s.response({}, { '!r:x': { timeline: [s.member(BOT, 'ban', { sender: '@alice:x', prev: 'join' })] } }));
    expect(await store.rooms.allRooms()).toEqual([]);

    const bob = s.member('@bob:x', 'join');
    const unban = s.member(BOT, 'leave', { sender: '@alice:x', prev: 'ban' });
    const invite = s.member(BOT, 'invite', { sender: '@alice:x', prev: 'leave' });
    await pipeline.process(s.response({ '!r:x': { state: [unban, alice, bob, invite], timeline: [s.member(BOT, 'join', { prev: 'invite' })] } }));
    expect(await members('!r:x')).toEqual(['@alice:x', '@bob:x', BOT]);
  });

  it('keeps a user out of the room when they are banned, and lets them back in when unbanned and rejoined', async () => {
    const { pipeline, roomsOf, s } = await setup();
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@eve:x', 'join')] } }));
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member('@eve:x', 'ban', { sender: BOT, prev: 'join' })] } }));
    expect(await roomsOf('@eve:x')).toEqual([]);
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member('@eve:x', 'leave', { sender: BOT, prev: 'ban' })] } }));
    expect(await roomsOf('@eve:x')).toEqual([]);
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member('@eve:x', 'join', { prev: 'leave' })] } }));
    expect(await roomsOf('@eve:x')).toEqual(['!r:x']);
  });

  it('treats invite and knock as not in the room when a user is invited or knocks', async () => {
    const { pipeline, members, s } = await setup();
    await pipeline.process(
      s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@inv:x', 'invite', { sender: BOT }), s.member('@knock:x', 'knock')] } }),
    );
    expect(await members('!r:x')).toEqual([BOT]);
  });

  it('keeps the room and its members when the bot changes its own display name', async () => {
    const { pipeline, members, store, s } = await setup();
    await pipeline.process(s.response({ '!r:x': { state: [s.member('@alice:x', 'join')], timeline: [s.member(BOT, 'join')] } }));
    // An incremental response: its state block is partial, and must not replace the room.
    const r = await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join', { displayname: 'Keeper', prev: 'join' })] } }));
    expect(r.snapshots).toEqual([]);
    expect(await members('!r:x')).toEqual(['@alice:x', BOT]);
    expect((await store.rooms.membersOf('!r:x' as RoomId)).find((m) => m.userId === BOT)?.displayName).toBe('Keeper');
  });

  it('reports the bot invites of a response with their inviter', async () => {
    const { pipeline, store, s } = await setup();
    const body = s.response();
    (body.rooms as Record<string, unknown>).invite = {
      '!dm:x': { invite_state: { events: [{ type: 'm.room.member', state_key: BOT, sender: '@alice:x', content: { membership: 'invite', is_direct: true } }] } },
    };
    const r = await pipeline.process(body);
    expect(r.invites).toEqual([{ roomId: '!dm:x', inviter: '@alice:x', isDirect: true }]);
    expect(await store.rooms.allRooms()).toEqual([]);
  });

  it('stores the sync token with the last batch when a response is split into several', async () => {
    const { pipeline, store, s } = await setup({ maxBatchKeys: 10 });
    const commit = vi.spyOn(store, 'commit');
    const rooms = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`!r${i}:x`, { timeline: [s.member(BOT, 'join'), s.member('@a:x', 'join'), s.member('@b:x', 'join')] }]),
    );
    await pipeline.process(s.response(rooms, {}, 'token-1'));
    expect(commit.mock.calls.length).toBeGreaterThan(1);
    expect(commit.mock.calls.map(([plan]) => plan.syncToken)).toEqual([...Array<undefined>(commit.mock.calls.length - 1), 'token-1']);
    expect(await store.syncToken()).toBe('token-1');
  });

  it('stores the sync token of the latest response when responses are processed in order', async () => {
    const { pipeline, store, s } = await setup();
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join')] } }, {}, 'a'));
    await pipeline.process(s.response({}, {}, 'b'));
    expect(await store.syncToken()).toBe('b');
  });

  it('ends in the same state when a huge response is committed in several batches as in one', async () => {
    const build = () => {
      const s = new SyncBuilder();
      const join: Record<string, { state: Record<string, unknown>[]; timeline: Record<string, unknown>[] }> = {};
      for (let r = 0; r < 40; r++) {
        const state = Array.from({ length: 1 + (r % 7) }, (_, u) => s.member(`@u${u}:x`, 'join'));
        const timeline = [s.member(BOT, 'join'), s.name('@u0:x', `room ${r}`), s.member(`@u${r % 5}:x`, 'leave', { prev: 'join' })];
        join[`!r${r}:x`] = { state, timeline };
      }
      const leave = { '!r3:x': { timeline: [s.member(BOT, 'leave', { prev: 'join' })] } };
      return [s.response(join), s.response({ '!r4:x': { timeline: [s.member('@late:x', 'join')] } }, leave)];
    };
    const one = await setup();
    const many = await setup({ maxBatchKeys: 8 });
    const commit = vi.spyOn(many.store, 'commit');
    for (const body of build()) await one.pipeline.process(body);
    for (const body of build()) await many.pipeline.process(body);
    expect(commit.mock.calls.length).toBeGreaterThan(10);
    const expected = await inspectAll(one.store);
    expect(expected.rooms).toHaveLength(39);
    expect(await inspectAll(many.store)).toEqual(expected);
    expect(many.store.guard.count()).toBe(one.store.guard.count());
  });

  describe('pending invites', () => {
    const withInvite = (s: SyncBuilder, token: string) => {
      const body = s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }, {}, token);
      (body.rooms as Record<string, unknown>).invite = {
        '!dm:x': { invite_state: { events: [{ type: 'm.room.member', state_key: BOT, sender: '@alice:x', content: { membership: 'invite', is_direct: true } }] } },
      };
      return body;
    };
    const reopen = async (dataDir: string) => {
      const store = await Store.open(dataDir, { create: true });
      stores.push(store);
      return { store, invites: await new PendingInvites(store.meta, memoryLogger().log).load() };
    };

    it('are written in the same batch as the sync token of the response that brought them', async () => {
      const { pipeline, store, s } = await setup();
      const pending = new PendingInvites(store.meta, memoryLogger().log);
      const commit = vi.spyOn(store, 'commit');
      await pipeline.process(withInvite(s, 'token-1'), { metaWithToken: (invites) => pending.record(invites) });
      expect(commit).toHaveBeenCalledTimes(1);
      expect(commit.mock.calls[0]![0].meta?.map((w) => w.key)).toEqual(['pending-invites', 'bot-user-id']);
      await store.close();
      const after = await reopen(store.dataDir);
      expect(await after.store.syncToken()).toBe('token-1');
      expect(after.invites).toEqual([{ roomId: '!dm:x', inviter: '@alice:x', isDirect: true }]);
    });

    it('and the token are both missing when that batch fails', async () => {
      const { pipeline, store, s } = await setup();
      const pending = new PendingInvites(store.meta, memoryLogger().log);
      const failing = (invites: readonly Invite[]) => [
        ...pending.record(invites),
        {
          key: 'sync-token' as const,
          value: () => {
            throw new Error('disk full');
          },
        },
      ];
      await expect(pipeline.process(withInvite(s, 'token-1'), { metaWithToken: failing })).rejects.toThrow('disk full');
      await store.close();
      const after = await reopen(store.dataDir);
      expect(await after.store.syncToken()).toBeUndefined();
      expect(after.invites).toEqual([]);
      expect(await after.store.rooms.allRooms()).toEqual([]);
    });

    it('are kept when an invalid response brings them', async () => {
      const { pipeline, store, s } = await setup();
      const pending = new PendingInvites(store.meta, memoryLogger().log);
      const body = { ...withInvite(s, 'token-1'), next_batch: 7 };
      const r = await pipeline.process(body, { metaWithToken: (invites) => pending.record(invites) });
      expect(r.invalid).toBe(1);
      expect(r.invites).toHaveLength(1);
      await store.close();
      const after = await reopen(store.dataDir);
      expect(after.invites).toHaveLength(1);
      expect(await after.store.syncToken()).toBeUndefined();
    });
  });

  it('returns the m.direct account data of a response', async () => {
    const { pipeline, s } = await setup();
    const body = { ...s.response({}), account_data: { events: [{ type: 'm.push_rules', content: {} }, { type: 'm.direct', content: { '@alice:x': ['!dm:x'] } }] } };
    expect((await pipeline.process(body)).direct).toEqual({ '@alice:x': ['!dm:x'] });
    expect((await pipeline.process(s.response({}))).direct).toBeUndefined();
  });
});

describe('Pipeline with malformed parts of a response', () => {
  it.each([
    ['rooms.invite is an array', (b: Record<string, unknown>) => ((b.rooms as Record<string, unknown>).invite = [])],
    ['rooms.invite is a string', (b: Record<string, unknown>) => ((b.rooms as Record<string, unknown>).invite = 'junk')],
    ['rooms.leave is null', (b: Record<string, unknown>) => ((b.rooms as Record<string, unknown>).leave = null)],
    ['next_batch is a number', (b: Record<string, unknown>) => (b.next_batch = 123)],
    ['account_data is a string', (b: Record<string, unknown>) => (b.account_data = 'junk')],
    ['rooms.knock is junk', (b: Record<string, unknown>) => ((b.rooms as Record<string, unknown>).knock = 7)],
  ])('applies the valid join rooms when %s', async (_, spoil) => {
    const { pipeline, members, s } = await setup();
    const body = s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join'), s.member('@carol:x', 'join')] } });
    spoil(body);
    const r = await pipeline.process(body);
    expect(r.applied).toBe(3);
    expect(await members('!r:x')).toEqual(['@alice:x', BOT, '@carol:x']);
  });

  it('logs each malformed section with its path and counts it once', async () => {
    const { pipeline, warnings, s } = await setup();
    const body = s.response({ '!r:x': { timeline: [s.member(BOT, 'join')] } });
    Object.assign(body.rooms as Record<string, unknown>, { invite: [], leave: null });
    const r = await pipeline.process(body);
    expect(r.invalid).toBe(2);
    expect(warnings().map((w) => w.path).sort()).toEqual(['rooms.invite', 'rooms.leave']);
  });

  it('applies a body without a usable next_batch but does not move the token, and says so', async () => {
    const { pipeline, store, members, s } = await setup();
    const first = await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join')] } }, {}, 'tok1'));
    expect(first.tokenCommitted).toBe(true);
    for (const next of [123, '', null, undefined]) {
      const body = s.response({ '!r:x': { timeline: [s.member(`@u${String(next)}:x`, 'join')] } });
      body.next_batch = next;
      const r = await pipeline.process(body);
      expect(r.tokenCommitted).toBe(false);
      expect(r.applied).toBe(1);
    }
    expect(await store.syncToken()).toBe('tok1');
    expect(await members('!r:x')).toHaveLength(5);
  });

  it('keeps the timeline of a room whose state block is malformed, and the other rooms', async () => {
    const { pipeline, members, s } = await setup();
    const body = s.response({ '!a:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] }, '!b:x': { timeline: [s.member(BOT, 'join')] } });
    ((body.rooms as { join: Record<string, Record<string, unknown>> }).join['!a:x']!).state = 'junk';
    const r = await pipeline.process(body);
    expect(r.invalid).toBe(1);
    expect(await members('!a:x')).toEqual(['@alice:x', BOT]);
    expect(await members('!b:x')).toEqual([BOT]);
  });

  it('marks a room of unknown membership when one of its member events does not decode, and clears it on a clean rebuild', async () => {
    const { pipeline, store, members, s } = await setup();
    await pipeline.process(s.response({ '!dm:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    expect(await store.rooms.membershipUncertain('!dm:x' as RoomId)).toBe(false);
    const stranger = s.member('@stranger:x', 'join');
    stranger.state_key = '@str\u0000anger:x';
    await pipeline.process(s.response({ '!dm:x': { timeline: [stranger] } }));
    // What we store is still the bot and alice, but that is not known to be all.
    expect(await members('!dm:x')).toEqual(['@alice:x', BOT]);
    expect(await store.rooms.membershipUncertain('!dm:x' as RoomId)).toBe(true);
    // A later clean response keeps the flag: the lost member is still unaccounted for.
    await pipeline.process(s.response({ '!dm:x': { timeline: [s.message('@alice:x', 'hi')] } }));
    expect(await store.rooms.membershipUncertain('!dm:x' as RoomId)).toBe(true);
    await pipeline.snapshotRoom('!dm:x' as RoomId, [s.member(BOT, 'join'), s.member('@alice:x', 'join'), s.member('@stranger:x', 'join')]);
    expect(await store.rooms.membershipUncertain('!dm:x' as RoomId)).toBe(false);
    expect(await members('!dm:x')).toEqual(['@alice:x', BOT, '@stranger:x']);
  });

  it('marks a tracked room of unknown membership when its room entry is not an object', async () => {
    const { pipeline, store, s } = await setup();
    await pipeline.process(s.response({ '!dm:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    await pipeline.process({ next_batch: 'n', rooms: { join: { '!dm:x': 'junk' } } });
    expect(await store.rooms.membershipUncertain('!dm:x' as RoomId)).toBe(true);
  });

  it('does not create a room from a leave section of a room the store never tracked', async () => {
    const { pipeline, store, roomsOf, s } = await setup();
    const r = await pipeline.process(s.response({}, { '!gone:x': { timeline: [s.member('@alice:x', 'join'), s.name('@alice:x', 'Left room')] } }));
    expect(r.applied).toBe(2);
    expect(await store.rooms.allRooms()).toEqual([]);
    expect(await roomsOf('@alice:x')).toEqual([]);
    // Its events are still marked: they are not applied again.
    expect((await pipeline.process(s.response({}, { '!gone:x': { timeline: [] } }))).applied).toBe(0);
  });

  it('keeps the members of the leave timeline when the bot is kicked and re-joins within one response', async () => {
    const { pipeline, members, store, s } = await setup();
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    const body = s.response(
      // The join section's state lists only what changed since the invite (lazy-loaded members).
      { '!r:x': { state: [s.name('@alice:x', 'Back')], timeline: [s.member(BOT, 'join', { prev: 'invite' })] } },
      { '!r:x': { timeline: [s.member('@bob:x', 'join'), s.member(BOT, 'leave', { sender: '@alice:x', prev: 'join' }), s.member(BOT, 'invite', { sender: '@alice:x', prev: 'leave' })] } },
    );
    const r = await pipeline.process(body);
    expect(await members('!r:x')).toEqual(['@bob:x', BOT]);
    expect((await store.rooms.info('!r:x' as RoomId))?.name).toBe('Back');
    expect(r.fresh.map((f) => f.section)).toEqual(['leave', 'leave', 'leave', 'join', 'join']);
  });
});
