import { mkdir, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import type { EventId, RoomId, UserId } from '../../src/state/ids.js';
import type { StoreOp } from '../../src/state/reduce.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const run = promisify(execFile);
const dirs = new TempDirs();
const open: Store[] = [];

async function openStore(dir?: string): Promise<Store> {
  const store = await Store.open(dir ?? (await dirs.make()), { create: true });
  open.push(store);
  return store;
}

async function closeStore(store: Store): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await dirs.cleanup();
});

const room = (s: string) => s as RoomId;
const user = (s: string) => s as UserId;
/** The guard's view of some events of one room. */
const events = (r: string, ...ids: string[]) => ({ roomId: room(r), eventIds: ids as EventId[] });

function joins(pairs: [string, string][], now = 1): StoreOp[] {
  const rooms = new Set(pairs.map(([r]) => r));
  return [
    ...pairs.map(([r, u]): StoreOp => ({ op: 'put-member', roomId: room(r), userId: user(u), member: { membership: 'join' } })),
    ...[...rooms].map((r): StoreOp => ({ op: 'put-info', info: { roomId: room(r), encrypted: false, updatedAt: now } })),
  ];
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('Store', () => {
  describe('open', () => {
    it('fails with STORE_LOCKED naming the directory when the same process opens it twice', async () => {
      const dir = await dirs.make();
      await openStore(dir);
      const err = await errorOf(Store.open(dir, { create: true }));
      expect(isRoomkeeperError(err, 'STORE_LOCKED')).toBe(true);
      expect((err as Error).message).toContain(dir);
      expect((err as Error).message).toContain('in use');
    });

    it('fails with STORE_LOCKED naming the directory when another process opens it', async () => {
      const dir = await dirs.make();
      await openStore(dir);
      const storeModule = new URL('../../dist/store/store.js', import.meta.url).href;
      const script = `
        const { Store } = await import(${JSON.stringify(storeModule)});
        try { await Store.open(process.argv[1], { create: true }); console.log(JSON.stringify({ opened: true })); }
        catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, dir]);
      const result = JSON.parse(stdout) as { code?: string; message?: string };
      expect(result.code).toBe('STORE_LOCKED');
      expect(result.message).toContain(dir);
    });

    it('opens the directory again when the first holder has closed it', async () => {
      const dir = await dirs.make();
      const first = await openStore(dir);
      await first.commit({ marks: [], ops: joins([['!r:x', '@a:x']]), now: 1 });
      await closeStore(first);
      const second = await openStore(dir);
      expect(await second.rooms.roomsOf(user('@a:x'))).toEqual(['!r:x']);
    });

    it('refuses with STORE_SCHEMA_TOO_NEW when a newer roomkeeper wrote the directory', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      await store.meta.put('schema-version', '3');
      await closeStore(store);
      const err = await errorOf(Store.open(dir, { create: true }));
      expect(isRoomkeeperError(err, 'STORE_SCHEMA_TOO_NEW')).toBe(true);
      expect((err as Error).message).toContain(dir);
      // The refused open released the database: a retry fails the same way, not with STORE_LOCKED.
      expect(isRoomkeeperError(await errorOf(Store.open(dir, { create: true })), 'STORE_SCHEMA_TOO_NEW')).toBe(true);
    });
  });

  // What every SyncStore does (guard answers, commits, purges, the sync token) is in suite.ts.
  describe('Guard', () => {
    it('counts guard entries across commits and reopens', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      expect(store.guard.count()).toBe(0);
      await store.commit({ marks: [events('!r:x', '$1', '$2')], ops: [], now: 1 });
      await store.commit({ marks: [events('!r:x', '$3')], ops: [], now: 2 });
      expect(store.guard.count()).toBe(3);
      await closeStore(store);
      expect((await openStore(dir)).guard.count()).toBe(3);
    });

    it('removes only entries older than the cutoff and returns how many when pruned', async () => {
      const store = await openStore();
      await store.commit({ marks: [events('!r:x', '$1', '$2')], ops: [], now: 1000 });
      await store.commit({ marks: [events('!r:x', '$3')], ops: [], now: 2000 });
      await store.commit({ marks: [events('!r:x', '$4'), events('!s:x', '$5')], ops: [], now: 3000 });
      expect(await store.guard.prune(2000)).toBe(2);
      expect(await store.guard.has([events('!r:x', '$1', '$2', '$3', '$4'), events('!s:x', '$5')])).toEqual([[false, false, true, true], [true]]);
      expect(store.guard.count()).toBe(3);
      expect(await store.guard.prune(2000)).toBe(0);
      expect(await store.guard.prune(3001)).toBe(3);
      expect(store.guard.count()).toBe(0);
    });

    it('keeps the pruned count after a reopen', async () => {
      const dir = await dirs.make();
      const store = await openStore(dir);
      await store.commit({ marks: [events('!r:x', '$1')], ops: [], now: 1000 });
      await store.commit({ marks: [events('!r:x', '$2')], ops: [], now: 3000 });
      await store.guard.prune(2000);
      await closeStore(store);
      expect((await openStore(dir)).guard.count()).toBe(1);
    });

    it('prunes every entry when there are more than one prune chunk of them', async () => {
      const store = await openStore();
      const ids = Array.from({ length: 10_000 }, (_, i) => `$${i}`);
      for (let i = 0; i < ids.length; i += 1000) await store.commit({ marks: [events('!r:x', ...ids.slice(i, i + 1000))], ops: [], now: 1000 + i });
      expect(await store.guard.prune(100_000)).toBe(10_000);
      expect(store.guard.count()).toBe(0);
      expect((await store.guard.has([events('!r:x', ...ids)]))[0]!.some(Boolean)).toBe(false);
    });

    it('processes an event again when it is re-delivered after being pruned', async () => {
      const store = await openStore();
      let now = 1000;
      const pipeline = new Pipeline(store, { botUserId: user('@bot:x'), log: memoryLogger().log, now: () => now });
      const s = new SyncBuilder();
      const botJoin = s.member('@bot:x', 'join');
      const aliceJoin = s.member('@alice:x', 'join');
      const aliceLeave = s.member('@alice:x', 'leave', { prev: 'join' });
      await pipeline.process(s.response({ '!r:x': { timeline: [botJoin, aliceJoin, aliceLeave] } }));
      expect((await pipeline.process(s.response({ '!r:x': { timeline: [aliceLeave] } }))).applied).toBe(0);
      expect(await store.rooms.roomsOf(user('@alice:x'))).toEqual([]);

      now = 5000;
      expect(await store.guard.prune(2000)).toBe(3);
      const again = await pipeline.process(s.response({ '!r:x': { timeline: [aliceLeave] } }));
      expect(again.applied).toBe(1);
      expect(again.fresh.map((f) => f.event.eventId)).toEqual([aliceLeave.event_id]);
      expect(await store.rooms.roomsOf(user('@alice:x'))).toEqual([]);
      expect(store.guard.count()).toBe(1);
    });
  });

  describe('Rooms', () => {
    it('keeps rooms apart when one room id is a prefix of another', async () => {
      const store = await openStore();
      await store.commit({ marks: [], ops: joins([['!a:x', '@u1:x'], ['!a:xy', '@u2:x'], ['!a:x0', '@u3:x']]), now: 1 });
      expect((await store.rooms.membersOf(room('!a:x'))).map((m) => m.userId)).toEqual(['@u1:x']);
      expect((await store.rooms.membersOf(room('!a:xy'))).map((m) => m.userId)).toEqual(['@u2:x']);
      expect(await store.rooms.memberCount(room('!a:x'))).toBe(1);
    });

    it('keeps users apart when one user id is a prefix of another', async () => {
      const store = await openStore();
      await store.commit({ marks: [], ops: joins([['!r1:x', '@al:x'], ['!r2:x', '@alice:x'], ['!r3:x', '@al:xy']]), now: 1 });
      expect(await store.rooms.roomsOf(user('@al:x'))).toEqual(['!r1:x']);
      expect(await store.rooms.roomsOf(user('@alice:x'))).toEqual(['!r2:x']);
      expect(await store.rooms.roomsOf(user('@al:xy'))).toEqual(['!r3:x']);
      expect(await store.rooms.isMember(room('!r1:x'), user('@al:x'))).toBe(true);
      expect(await store.rooms.isMember(room('!r2:x'), user('@al:x'))).toBe(false);
    });

    it('lists members sorted with display names when members join in any order', async () => {
      const store = await openStore();
      await store.commit({
        marks: [],
        ops: [
          { op: 'put-member', roomId: room('!r:x'), userId: user('@zed:x'), member: { membership: 'join' } },
          { op: 'put-member', roomId: room('!r:x'), userId: user('@amy:x'), member: { membership: 'join', displayName: 'Amy' } },
          { op: 'put-member', roomId: room('!r:x'), userId: user('@amy:xy'), member: { membership: 'join' } },
        ],
        now: 1,
      });
      expect(await store.rooms.membersOf(room('!r:x'))).toEqual([
        { userId: '@amy:x', membership: 'join', displayName: 'Amy' },
        { userId: '@amy:xy', membership: 'join' },
        { userId: '@zed:x', membership: 'join' },
      ]);
    });

    it('keeps every membership kind per room with its profile and event, and lists only joins among a user\'s rooms', async () => {
      const store = await openStore();
      const put = (u: string, membership: 'join' | 'invite' | 'ban' | 'leave' | 'knock', displayName?: string): StoreOp => ({
        op: 'put-member',
        roomId: room('!r:x'),
        userId: user(u),
        member: { membership, eventId: `$${u.slice(1, 3)}` as EventId, ...(displayName === undefined ? {} : { displayName }), avatarUrl: 'mxc://x/a' },
      });
      await store.commit({
        marks: [],
        ops: [put('@a:x', 'join', 'Amy'), put('@b:x', 'invite'), put('@c:x', 'invite'), put('@d:x', 'ban'), put('@e:x', 'knock'), put('@f:x', 'join'), put('@f:x', 'leave')],
        now: 1,
      });
      expect(await store.rooms.memberCounts(room('!r:x'))).toEqual({ join: 1, invite: 2, ban: 1, knock: 1, leave: 1 });
      expect(await store.rooms.memberCount(room('!r:x'))).toBe(1);
      expect((await store.rooms.membersOf(room('!r:x'), { membership: 'invite' })).map((m) => m.userId)).toEqual(['@b:x', '@c:x']);
      expect(await store.rooms.membersOf(room('!r:x'))).toEqual([{ userId: '@a:x', membership: 'join', eventId: '$a:', displayName: 'Amy', avatarUrl: 'mxc://x/a' }]);
      expect(await store.rooms.roomsOf(user('@f:x'))).toEqual([]);
      expect(await store.rooms.roomsOf(user('@b:x'))).toEqual([]);
      expect(await store.rooms.member(room('!r:x'), user('@d:x'))).toMatchObject({ membership: 'ban' });
      expect((await store.rooms.membersOf(room('!r:x'), { membership: 'all' })).length).toBe(6);
    });

    it('returns the rooms two users share when they are in some of the same rooms', async () => {
      const store = await openStore();
      await store.commit({
        marks: [],
        ops: joins([
          ['!a:x', '@al:x'],
          ['!a:x', '@alice:x'],
          ['!b:x', '@al:x'],
          ['!c:x', '@alice:x'],
          ['!d:x', '@al:x'],
          ['!d:x', '@alice:x'],
        ]),
        now: 1,
      });
      expect(await store.rooms.sharedRooms(user('@al:x'), user('@alice:x'))).toEqual(['!a:x', '!d:x']);
      expect(await store.rooms.sharedRooms(user('@al:x'), user('@nobody:x'))).toEqual([]);
    });

    it('lists every tracked room sorted when rooms were added in any order', async () => {
      const store = await openStore();
      expect(await store.rooms.allRooms()).toEqual([]);
      await store.commit({ marks: [], ops: joins([['!b:x', '@u:x'], ['!a:xy', '@u:x'], ['!a:x', '@u:x']]), now: 1 });
      expect(await store.rooms.allRooms()).toEqual(['!a:x', '!a:xy', '!b:x']);
    });

    it('returns the stored RoomInfo, and undefined for a room it does not track', async () => {
      const store = await openStore();
      const info = { roomId: room('!r:x'), name: 'Lobby', canonicalAlias: '#l:x', topic: 't', encrypted: true, joinedAt: 7, updatedAt: 9 };
      await store.commit({ marks: [], ops: [{ op: 'put-info', info }], now: 9 });
      expect(await store.rooms.info(room('!r:x'))).toEqual(info);
      expect(await store.rooms.info(room('!r:xy'))).toBeUndefined();
      expect(await store.rooms.infos([room('!nope:x'), room('!r:x')])).toEqual([undefined, info]);
    });

    it('lists users sorted by id with their rooms when user ids are prefixes of each other', async () => {
      const store = await openStore();
      await store.commit({ marks: [], ops: joins([['!r1:x', '@al:xy'], ['!r1:x', '@al:x'], ['!r2:x', '@al:x'], ['!r2:x', '@al:x0']]), now: 1 });
      expect(await store.rooms.allUsers()).toEqual([
        { userId: '@al:x', rooms: ['!r1:x', '!r2:x'] },
        { userId: '@al:x0', rooms: ['!r2:x'] },
        { userId: '@al:xy', rooms: ['!r1:x'] },
      ]);
      expect(await store.rooms.userCount()).toBe(3);
    });
  });
});

describe('Store under other spellings, restarts and close', () => {
  it('gives STORE_LOCKED when this process opens the same data dir under another spelling of its path', async () => {
    const base = await dirs.make();
    const dir = join(base, 'dl');
    const store = await openStore(dir);
    await mkdir(join(base, 'x'));
    await symlink(dir, join(base, 'link'));
    const spellings = [join(base, 'x', '..', 'dl'), `${base}//dl`, `${dir}/`, join(base, 'link'), relative(process.cwd(), dir)];
    for (const spelling of spellings) {
      const err = await errorOf(Store.open(spelling, { create: true }));
      expect(isRoomkeeperError(err, 'STORE_LOCKED'), `${spelling}: ${String(err)}`).toBe(true);
    }
    await closeStore(store);
    // Closed, it may be opened under any of them.
    await closeStore(await openStore(join(base, 'link')));
  });

  it('keeps two runs’ time-index entries apart when they commit in the same millisecond', async () => {
    const dir = await dirs.make();
    for (const [i, ids] of [['$a1', '$a2'], ['$b1', '$b2']].entries()) {
      const store = await openStore(dir);
      // The same `now` in both runs: the clock was set back between them.
      await store.commit({ marks: [events('!r:x', ...ids)], ops: [], now: 5000 });
      await closeStore(store);
      expect(i).toBeLessThan(2);
    }
    const store = await openStore(dir);
    // Every mark is reachable from the time index: the prune removes all four.
    expect(await store.guard.prune(6000)).toBe(4);
    expect(await store.guard.has([events('!r:x', '$a1', '$a2', '$b1', '$b2')])).toEqual([[false, false, false, false]]);
  });

  it('gives STORE_CLOSED, never a LEVEL_ error, for every call after close', async () => {
    const store = await openStore();
    await closeStore(store);
    const calls: [string, () => Promise<unknown>][] = [
      ['commit', () => store.commit({ marks: [events('!r:x', '$e')], ops: [], now: 1 })],
      ['syncToken', () => store.syncToken()],
      ['guard.has', () => store.guard.has([events('!r:x', '$e')])],
      ['guard.prune', () => store.guard.prune(10)],
      ['rooms.membersOf', () => store.rooms.membersOf(room('!r:x'))],
      ['rooms.infos', () => store.rooms.infos([room('!r:x')])],
      ['rooms.allUsers', () => store.rooms.allUsers()],
      ['meta.put', () => store.meta.put('sdk-kv:x', '1')],
    ];
    for (const [name, call] of calls) {
      const err = await errorOf(call());
      expect(isRoomkeeperError(err, 'STORE_CLOSED'), `${name}: ${String(err)}`).toBe(true);
    }
    // A second close is harmless.
    await store.close();
  });
});
