import { afterEach, describe, expect, it } from 'vitest';
import type { EventId, RoomId, UserId } from '../../src/state/ids.js';
import type { StoreOp } from '../../src/state/reduce.js';
import type { RoomEvents, SyncStore } from '../../src/store/sync-store.js';

/** A store under test, with the reads the suite checks its commits by. */
export interface SuiteStore {
  store: SyncStore;
  /** Joined members of the room, sorted. */
  membersOf(roomId: RoomId): Promise<string[]>;
  /** Rooms of the user, sorted. */
  roomsOf(userId: UserId): Promise<string[]>;
  /** A meta entry as committed (the sync token is under `sync-token`). */
  meta(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

const room = (s: string) => s as RoomId;
const user = (s: string) => s as UserId;
const events = (r: string, ...ids: string[]): RoomEvents => ({ roomId: room(r), eventIds: ids as EventId[] });
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `$e${from + i}`);

function joins(pairs: [string, string][], now = 1): StoreOp[] {
  const rooms = new Set(pairs.map(([r]) => r));
  return [
    ...pairs.map(([r, u]): StoreOp => ({ op: 'put-member', roomId: room(r), userId: user(u), member: { membership: 'join' } })),
    ...[...rooms].map((r): StoreOp => ({ op: 'put-info', info: { roomId: room(r), encrypted: false, updatedAt: now } })),
  ];
}

/**
 * What every store the pipeline runs over must do (SyncStore): the same guard answers, the same
 * memberships after the same commits, and each commit whole or not at all.
 */
export function syncStoreSuite(name: string, open: () => Promise<SuiteStore>): void {
  describe(`${name} as a SyncStore`, () => {
    const opened: SuiteStore[] = [];
    const fresh = async () => {
      const s = await open();
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe('guard', () => {
      it('answers true only for events a commit marked, and only in their own room', async () => {
        const { store } = await fresh();
        await store.commit({ marks: [events('!r:x', '$1', '$2')], ops: [], now: 1 });
        expect(await store.guard.has([events('!r:x', '$1', '$3', '$2'), events('!other:x', '$2'), events('!r:xy', '$1')])).toEqual([
          [true, false, true],
          [false],
          [false],
        ]);
      });

      it('answers nothing for no rooms and an empty list for a room asked about no events', async () => {
        const { store } = await fresh();
        expect(await store.guard.has([])).toEqual([]);
        expect(await store.guard.has([events('!r:x')])).toEqual([[]]);
      });

      it('answers every event of a room asked about many at once, whatever the room already holds', async () => {
        const { store } = await fresh();
        // A room new to the store, one with a little history and one with a long history.
        await store.commit({ marks: [events('!some:x', ...ids(10)), events('!long:x', ...ids(500))], ops: [], now: 1 });
        const asked = ids(60, 490);
        const answers = await store.guard.has([events('!new:x', ...asked), events('!some:x', ...ids(60)), events('!long:x', ...asked)]);
        expect(answers[0]).toEqual(asked.map(() => false));
        expect(answers[1]).toEqual(ids(60).map((_, i) => i < 10));
        expect(answers[2]).toEqual(asked.map((_, i) => 490 + i < 500));
      });

      it('answers the same room twice in one read when it is asked about twice', async () => {
        const { store } = await fresh();
        await store.commit({ marks: [events('!r:x', '$1')], ops: [], now: 1 });
        expect(await store.guard.has([events('!r:x', '$1'), events('!r:x', '$2', '$1')])).toEqual([[true], [false, true]]);
      });
    });

    describe('commit', () => {
      it('stores members and RoomInfo, and drops a member that leaves', async () => {
        const s = await fresh();
        await s.store.commit({ marks: [], ops: joins([['!r:x', '@a:x'], ['!r:x', '@b:x'], ['!q:x', '@a:x']]), now: 5 });
        await s.store.commit({ marks: [], ops: [{ op: 'put-member', roomId: room('!r:x'), userId: user('@b:x'), member: { membership: 'leave' } }], now: 6 });
        expect(await s.membersOf(room('!r:x'))).toEqual(['@a:x']);
        expect(await s.roomsOf(user('@a:x'))).toEqual(['!q:x', '!r:x']);
        expect(await s.roomsOf(user('@b:x'))).toEqual([]);
        expect(await s.store.rooms.infos([room('!r:x'), room('!none:x')])).toEqual([{ roomId: '!r:x', encrypted: false, updatedAt: 1 }, undefined]);
      });

      it('removes members added earlier in the same batch when a purge follows them', async () => {
        const s = await fresh();
        await s.store.commit({ marks: [], ops: joins([['!r:x', '@old:x']]), now: 1 });
        await s.store.commit({ marks: [], ops: [...joins([['!r:x', '@new:x']]), { op: 'purge-room', roomId: room('!r:x') }], now: 2 });
        expect(await s.membersOf(room('!r:x'))).toEqual([]);
        expect(await s.roomsOf(user('@new:x'))).toEqual([]);
        expect(await s.roomsOf(user('@old:x'))).toEqual([]);
        expect(await s.store.rooms.infos([room('!r:x')])).toEqual([undefined]);
      });

      it('purges only the given room when another room shares its members', async () => {
        const s = await fresh();
        await s.store.commit({ marks: [], ops: joins([['!a:x', '@u:x'], ['!a:xy', '@u:x']]), now: 1 });
        await s.store.commit({ marks: [], ops: [{ op: 'purge-room', roomId: room('!a:x') }], now: 2 });
        expect(await s.roomsOf(user('@u:x'))).toEqual(['!a:xy']);
        expect(await s.membersOf(room('!a:xy'))).toEqual(['@u:x']);
      });

      it('keeps the last sync token committed, and commits without one leave it', async () => {
        const s = await fresh();
        expect(await s.meta('sync-token')).toBeUndefined();
        await s.store.commit({ marks: [events('!r:x', '$1')], ops: [], now: 1, syncToken: 's1' });
        await s.store.commit({ marks: [], ops: joins([['!r:x', '@a:x']]), now: 2 });
        expect(await s.meta('sync-token')).toBe('s1');
        await s.store.commit({ marks: [], ops: [], now: 3, syncToken: 's2' });
        expect(await s.meta('sync-token')).toBe('s2');
      });

      it('writes the meta entries a commit carries along with it', async () => {
        const s = await fresh();
        await s.store.commit({ marks: [], ops: [], now: 1, syncToken: 's1', meta: [{ key: 'pending-invites', value: () => '[1]' }] });
        expect(await s.meta('pending-invites')).toBe('[1]');
        expect(await s.meta('sync-token')).toBe('s1');
      });

      it('writes nothing of a commit that fails while it is being filled', async () => {
        const s = await fresh();
        const failing = () => {
          throw new Error('value failed');
        };
        await expect(
          s.store.commit({ marks: [events('!r:x', '$1')], ops: joins([['!r:x', '@a:x']]), now: 1, syncToken: 's1', meta: [{ key: 'pending-invites', value: failing }] }),
        ).rejects.toThrow('value failed');
        expect(await s.store.guard.has([events('!r:x', '$1')])).toEqual([[false]]);
        expect(await s.membersOf(room('!r:x'))).toEqual([]);
        expect(await s.meta('sync-token')).toBeUndefined();
        expect(await s.meta('pending-invites')).toBeUndefined();
        // And the store goes on: the next commit lands.
        await s.store.commit({ marks: [events('!r:x', '$1')], ops: [], now: 2, syncToken: 's2' });
        expect(await s.meta('sync-token')).toBe('s2');
      });

      it('lands commits in the order they were asked for when they are not awaited one by one', async () => {
        const s = await fresh();
        await Promise.all([
          s.store.commit({ marks: [events('!r:x', '$1')], ops: joins([['!r:x', '@a:x']]), now: 1, syncToken: 's1' }),
          s.store.commit({ marks: [events('!r:x', '$2')], ops: [{ op: 'purge-room', roomId: room('!r:x') }], now: 2, syncToken: 's2' }),
          s.store.commit({ marks: [events('!r:x', '$3')], ops: joins([['!r:x', '@b:x']]), now: 3, syncToken: 's3' }),
        ]);
        expect(await s.meta('sync-token')).toBe('s3');
        expect(await s.membersOf(room('!r:x'))).toEqual(['@b:x']);
        expect(await s.store.guard.has([events('!r:x', '$1', '$2', '$3')])).toEqual([[true, true, true]]);
      });
    });
  });
}
