import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RoomId } from '../../src/state/ids.js';
import { parseSyncToken, syncToken } from '../support/fake-homeserver.js';
import { Harness } from './harness.js';

const METRICS = { ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' };

describe('daemon restart', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  it('resumes from the committed token and applies no event twice when restarted after changes', async () => {
    const { hs } = h;
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((u) => hs.userId(u)) as [string, string, string];
    const room = hs.createRoom(alice, { name: 'Team', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, bob);
    await h.start(METRICS);
    await h.joined(room);
    hs.sendMessage(room, bob, 'hello');
    await h.caughtUp();
    const appliedBefore = await h.metric('roomkeeper_events_applied_total');
    await h.stop();
    const committed = await h.withStore((s) => s.syncToken());
    expect(committed).toBeDefined();

    hs.leave(room, bob);
    hs.join(room, carol);
    hs.setName(room, alice, 'Team 2');
    for (let i = 0; i < 5; i++) hs.sendMessage(room, alice, `message ${i}`);
    const syncsBefore = hs.syncs.length;
    await h.start(METRICS);
    const appliedAfter = await h.metric('roomkeeper_events_applied_total');
    const duplicatesAfter = await h.metric('roomkeeper_events_duplicate_total');
    await h.stop();

    const firstSync = hs.syncs.slice(syncsBefore).find((s) => s.userId === hs.botUserId);
    expect(firstSync?.since).toBe(parseSyncToken(committed!));
    expect(await h.inspect()).toEqual(h.expected());
    expect((await h.inspect()).rooms[0]?.members).toEqual([alice, carol, hs.botUserId].sort());
    // Every event the server delivered was applied exactly once over the two runs.
    const delivered = new Set(h.deliveredEventIds());
    expect(appliedBefore + appliedAfter).toBe(delivered.size);
    expect(duplicatesAfter).toBe(0);
    expect(await h.withStore((s) => Promise.resolve(s.guard.count()))).toBe(delivered.size);
  });

  it('syncs from the start and ends in the same state when restarted with nothing new', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { invite: [hs.botUserId] });
    await h.start();
    await h.joined(room);
    await h.stop();
    const before = await h.inspect();
    await h.start();
    await h.stop();
    expect(await h.inspect()).toEqual(before);
    expect(before).toEqual(h.expected());
  });
});

describe('reconciliation at start-up', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  function reconciledCounts(): unknown {
    const line = h.logs?.().find((l) => l.msg === 'reconciled rooms with the homeserver');
    expect(line?.level).toBe(30);
    return { purged: line?.['purged'], snapshotted: line?.['snapshotted'], unchanged: line?.['unchanged'] };
  }

  it('purges a room the bot was kicked from while the daemon was down', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const kept = hs.createRoom(alice, { name: 'Kept', invite: [hs.botUserId] });
    const gone = hs.createRoom(alice, { name: 'Gone', invite: [hs.botUserId] });
    await h.start();
    await h.joined(kept);
    await h.joined(gone);
    await h.stop();
    hs.kick(gone, alice, hs.botUserId);
    await h.start();
    await h.stop();
    // The sync's leave section purged it before the reconciliation.
    expect(reconciledCounts()).toEqual({ purged: 0, snapshotted: 0, unchanged: 1 });
    const doc = await h.inspect();
    expect(doc.rooms.map((r) => r.roomId)).toEqual([kept]);
    expect(doc).toEqual(h.expected());
  });

  it('purges a stored room the server does not list when the sync will never mention it', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { invite: [hs.botUserId] });
    await h.start();
    await h.joined(room);
    await h.stop();
    // A room from an older data dir that the current token's syncs never mention.
    const stray = '!stray:fake.test' as RoomId;
    await h.withStore((s) =>
      s.commit({
        marks: [],
        ops: [
          { op: 'put-member', roomId: stray, userId: hs.botUserId as never, member: { membership: 'join' } },
          { op: 'put-member', roomId: stray, userId: alice as never, member: { membership: 'join' } },
          { op: 'put-info', info: { roomId: stray, encrypted: false, updatedAt: 1 } },
        ],
        now: 1,
      }),
    );
    await h.start();
    await h.stop();
    expect(reconciledCounts()).toEqual({ purged: 1, snapshotted: 0, unchanged: 1 });
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('snapshots a room from its state when the store lost it', async () => {
    const { hs } = h;
    const [alice, bob] = [hs.userId('alice'), hs.userId('bob')];
    const room = hs.createRoom(alice, { name: 'Lost', topic: 'found again', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, bob);
    await h.start();
    await h.joined(room);
    await h.stop();
    await h.withStore((s) => s.commit({ marks: [], ops: [{ op: 'purge-room', roomId: room as RoomId }], now: 1 }));
    expect((await h.inspect()).rooms).toEqual([]);
    const requestsBefore = hs.requests.length;

    await h.start();
    await h.stop();
    expect(reconciledCounts()).toEqual({ purged: 0, snapshotted: 1, unchanged: 0 });
    expect(hs.requests.slice(requestsBefore).filter((r) => r.route === 'state').map((r) => r.path)).toEqual([
      `/_matrix/client/v3/rooms/${room}/state`,
    ]);
    const doc = await h.inspect();
    expect(doc).toEqual(h.expected());
    expect(doc.rooms[0]).toMatchObject({ name: 'Lost', topic: 'found again', members: [alice, bob, hs.botUserId].sort() });
  });

  it('snapshots every room the bot is in when a fresh data dir resumes from a token', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const rooms = [hs.createRoom(alice, { name: 'One' }), hs.createRoom(alice, { name: 'Two', encrypted: true })];
    for (const r of rooms) {
      hs.invite(r, alice, hs.botUserId);
      hs.join(r, hs.botUserId);
    }
    // A store that has the token but none of the rooms (e.g. restored from an older backup).
    await h.withStore((s) => s.commit({ marks: [], ops: [], now: 1, syncToken: syncToken(hs.position) }));
    await h.start();
    await h.stop();
    expect(reconciledCounts()).toEqual({ purged: 0, snapshotted: 2, unchanged: 0 });
    const debug = h.logged('reconcile: rebuilt a room from its current state').map((l) => l['roomId']);
    expect(debug.sort()).toEqual([...rooms].sort());
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('ends with every room whole when the data dir is fresh and the bot is already in rooms', async () => {
    const { hs } = h;
    const [alice, bob] = [hs.userId('alice'), hs.userId('bob')];
    const rooms = [hs.createRoom(alice, { name: 'One', joinRule: 'public' }), hs.createRoom(alice, { name: 'Two' })];
    for (const r of rooms) {
      hs.invite(r, alice, hs.botUserId);
      hs.join(r, hs.botUserId);
    }
    hs.join(rooms[0]!, bob);
    hs.leave(rooms[0]!, bob);
    await h.start();
    await h.stop();
    expect(reconciledCounts()).toEqual({ purged: 0, snapshotted: 0, unchanged: 2 });
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('ends with the right members when the store lost a room in which members came and went', async () => {
    const { hs } = h;
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((u) => hs.userId(u)) as [string, string, string];
    const room = hs.createRoom(alice, { joinRule: 'public', invite: [hs.botUserId] });
    await h.start();
    await h.joined(room);
    await h.stop();
    await h.withStore((s) => s.commit({ marks: [], ops: [{ op: 'purge-room', roomId: room as RoomId }], now: 1 }));
    hs.join(room, bob);
    hs.leave(room, bob);
    hs.join(room, carol);
    await h.start();
    await h.stop();
    expect(reconciledCounts()).toEqual({ purged: 0, snapshotted: 1, unchanged: 0 });
    expect(await h.inspect()).toEqual(h.expected());
  });
});
