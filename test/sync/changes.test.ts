import { afterEach, describe, expect, it } from 'vitest';
import type { Change } from '../../src/state/changes.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { SyncBuilder, type RawEvent } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const ALICE = '@alice:x';
const R = '!r:x';
const dirs = new TempDirs();
const stores: Store[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await dirs.cleanup();
});

async function setup() {
  const dir = await dirs.make();
  const store = await Store.open(dir, { create: true });
  stores.push(store);
  let now = 1_000;
  const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger().log, now: () => now++ });
  const all = () => store.changes.after(undefined);
  return { dir, store, pipeline, all, s: new SyncBuilder() };
}

/** An event of a kind the builder has no helper for. */
function raw(s: SyncBuilder, type: string, sender: string, content: Record<string, unknown>, stateKey?: string): RawEvent {
  const e: RawEvent = { event_id: s.id(), type, sender, content, origin_server_ts: 1_700_000_100_000 };
  if (stateKey !== undefined) e['state_key'] = stateKey;
  return e;
}

const brief = (c: Change) => {
  switch (c.kind) {
    case 'room':
      return `${c.kind} ${c.field} ${c.from ?? '-'}→${c.to ?? '-'} (${c.cause})`;
    case 'rebuilt':
      return `${c.kind} +${c.joined} -${c.left} ~${c.other} (${c.cause})${c.purged ? ' purged' : ''}`;
    case 'profile':
      return `${c.kind} ${c.userId} ${c.displayName?.from ?? '-'}→${c.displayName?.to ?? '-'} (${c.cause})`;
    default:
      return `${c.kind} ${c.userId} ${c.from}→${c.to} by ${c.sender}${c.reason ? ` "${c.reason}"` : ''}${c.purged ? ' purged' : ''} (${c.cause})`;
  }
};

describe('change log', () => {
  it('logs the bot joining and the room it rebuilt, with the diff of memberships', async () => {
    const { pipeline, all, s } = await setup();
    const r = await pipeline.process(s.response({ [R]: { state: [s.name(ALICE, 'Garden'), s.member(ALICE, 'join')], timeline: [s.member(BOT, 'join', { sender: ALICE, prev: 'invite' })] } }));
    expect((await all()).map(brief)).toEqual([`joined ${BOT} invite→join by ${ALICE} (event)`, 'rebuilt +1 -0 ~0 (snapshot)']);
    expect(r.changes.map((c) => c.cursor)).toEqual((await all()).map((c) => c.cursor));
    const [, rebuilt] = await all();
    // The bot's own join is its own change, not part of the diff as well.
    expect(rebuilt).toMatchObject({ kind: 'rebuilt', members: [{ userId: ALICE, from: 'none', to: 'join' }] });
  });

  it('tells kicks from leaves, bans from unbans, rejected from withdrawn invites, and logs knocks', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    const before = (await all()).length;
    const kick = s.member('@carol:x', 'leave', { sender: ALICE });
    (kick['content'] as Record<string, unknown>)['reason'] = 'spam';
    await pipeline.process(
      s.response({
        [R]: {
          timeline: [
            s.member('@bob:x', 'join'),
            s.member('@bob:x', 'leave'),
            s.member('@carol:x', 'join'),
            kick,
            s.member('@dave:x', 'ban', { sender: ALICE }),
            s.member('@dave:x', 'leave', { sender: ALICE }),
            s.member('@erin:x', 'invite', { sender: ALICE }),
            s.member('@erin:x', 'leave'),
            s.member('@frank:x', 'invite', { sender: ALICE }),
            s.member('@frank:x', 'leave', { sender: ALICE }),
            s.member('@gina:x', 'knock'),
          ],
        },
      }),
    );
    expect((await all()).slice(before).map(brief)).toEqual([
      'joined @bob:x none→join by @bob:x (event)',
      'left @bob:x join→leave by @bob:x (event)',
      'joined @carol:x none→join by @carol:x (event)',
      `kicked @carol:x join→leave by ${ALICE} "spam" (event)`,
      `banned @dave:x none→ban by ${ALICE} (event)`,
      `unbanned @dave:x ban→leave by ${ALICE} (event)`,
      `invited @erin:x none→invite by ${ALICE} (event)`,
      'invite-rejected @erin:x invite→leave by @erin:x (event)',
      `invited @frank:x none→invite by ${ALICE} (event)`,
      `invite-withdrawn @frank:x invite→leave by ${ALICE} (event)`,
      'knocked @gina:x none→knock by @gina:x (event)',
    ]);
  });

  it('reads the membership before an event from the store across responses', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    await pipeline.process(s.response({ [R]: { timeline: [s.member(ALICE, 'ban', { sender: BOT })] } }));
    expect((await all()).at(-1)).toMatchObject({ kind: 'banned', from: 'join', to: 'ban', userId: ALICE, sender: BOT });
  });

  it('logs no power-levels change for the same levels sent with their keys in another order', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    await pipeline.process(s.response({ [R]: { timeline: [raw(s, 'm.room.power_levels', ALICE, { users: { [ALICE]: 100, [BOT]: 50 }, ban: 50, kick: 50 }, '')] } }));
    const before = (await all()).length;
    await pipeline.process(s.response({ [R]: { timeline: [raw(s, 'm.room.power_levels', ALICE, { kick: 50, ban: 50, users: { [BOT]: 50, [ALICE]: 100 } }, '')] } }));
    expect((await all()).slice(before)).toEqual([]);
    await pipeline.process(s.response({ [R]: { timeline: [raw(s, 'm.room.power_levels', ALICE, { kick: 50, ban: 50, users: { [BOT]: 50, [ALICE]: 100, '@bob:x': 10 } }, '')] } }));
    expect((await all()).slice(before).map(brief)).toEqual(['room power-levels -→- (event)']);
  });

  it('does not rewrite a room whose summary says what the store holds already', async () => {
    const { pipeline, store, s } = await setup();
    const summary = { 'm.heroes': [ALICE], 'm.joined_member_count': 2, 'm.invited_member_count': 0 };
    await pipeline.process(s.response({ [R]: { summary, timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    const written = (await store.rooms.info(R as RoomId))!.updatedAt;
    await pipeline.process(s.response({ [R]: { summary, timeline: [s.message(ALICE, 'hi')] } }));
    expect((await store.rooms.info(R as RoomId))!.updatedAt).toBe(written);
    await pipeline.process(s.response({ [R]: { summary: { ...summary, 'm.joined_member_count': 3 }, timeline: [s.message(ALICE, 'hi')] } }));
    expect((await store.rooms.info(R as RoomId))).toMatchObject({ joinedCount: 3 });
  });

  it('logs profile and room changes, and what a redaction of current state takes away', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    const before = (await all()).length;
    const named = s.member(ALICE, 'join', { displayname: 'Alice' });
    const name = s.name(ALICE, 'Garden');
    await pipeline.process(s.response({ [R]: { timeline: [named, name, s.topic(ALICE, 'roses'), s.encryption(ALICE)] } }));
    await pipeline.process(s.response({ [R]: { timeline: [raw(s, 'm.room.power_levels', ALICE, { users: { [ALICE]: 100 } }, '')] } }));
    await pipeline.process(
      s.response({ [R]: { timeline: [raw(s, 'm.room.redaction', ALICE, { redacts: name['event_id'] }), raw(s, 'm.room.redaction', ALICE, { redacts: named['event_id'] })] } }),
    );
    const changes = (await all()).slice(before);
    expect(changes.map(brief)).toEqual([
      `profile ${ALICE} -→Alice (event)`,
      'room name -→Garden (event)',
      'room topic -→roses (event)',
      'room encryption -→encrypted (event)',
      'room power-levels -→- (event)',
      'room name Garden→- (redaction)',
      `profile ${ALICE} Alice→- (redaction)`,
    ]);
    expect(changes[4]).toMatchObject({ users: { [ALICE]: [null, 100] } });
  });

  it('logs nothing for a response delivered again', async () => {
    const { pipeline, all, s } = await setup();
    const first = s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } });
    const second = s.response({ [R]: { timeline: [s.member('@bob:x', 'join'), s.name(ALICE, 'Garden'), s.member(ALICE, 'leave')] } });
    await pipeline.process(first);
    await pipeline.process(second);
    const logged = (await all()).length;
    expect((await pipeline.process(second)).changes).toEqual([]);
    expect((await pipeline.process(first)).changes).toEqual([]);
    expect(await all()).toHaveLength(logged);
  });

  it('logs a state reset that moves a member, with its cause', async () => {
    const { pipeline, all, s } = await setup();
    const aliceJoin = s.member(ALICE, 'join');
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), aliceJoin] } }));
    await pipeline.process(s.response({ [R]: { timeline: [s.member(ALICE, 'leave')] } }));
    // The server's resolved state moves back to the old join: a state reset.
    await pipeline.process(s.response({ [R]: { state: [aliceJoin], timeline: [s.message(ALICE, 'hi')], limited: true } }));
    expect((await all()).at(-1)).toMatchObject({ kind: 'joined', userId: ALICE, from: 'leave', cause: 'state-reset' });
  });

  it('logs the bot being kicked as a removal that purged the room', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    await pipeline.process(s.response({}, { [R]: { timeline: [s.member(BOT, 'leave', { sender: ALICE })] } }));
    expect(brief((await all()).at(-1)!)).toBe(`kicked ${BOT} join→leave by ${ALICE} purged (event)`);
  });

  it('logs a rejoin whose leave was never seen as a rebuild with the diff against the record', async () => {
    const { pipeline, all, s } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join'), s.member('@bob:x', 'join')] } }));
    const before = (await all()).length;
    // Kicked and re-invited while away: the server says the bot was not joined before.
    await pipeline.process(
      s.response({ [R]: { state: [s.member(ALICE, 'join'), s.member('@carol:x', 'join'), s.name(ALICE, 'Back')], timeline: [s.member(BOT, 'join', { prev: 'invite' })] } }),
    );
    const changes = (await all()).slice(before);
    expect(changes.map(brief)).toEqual([`joined ${BOT} invite→join by ${BOT} (event)`, 'rebuilt +1 -1 ~0 (snapshot)', 'room name -→Back (snapshot)']);
    expect(changes[1]).toMatchObject({ members: [{ userId: '@bob:x', from: 'join', to: 'none' }, { userId: '@carol:x', from: 'none', to: 'join' }] });
  });

  it('logs a reconciliation rebuild only when it moved a membership', async () => {
    const { pipeline, all, s } = await setup();
    const state = [s.member(BOT, 'join'), s.member(ALICE, 'join')];
    await pipeline.process(s.response({ [R]: { timeline: state } }));
    const before = (await all()).length;
    await pipeline.snapshotRoom(R as RoomId, state);
    expect(await all()).toHaveLength(before);
    await pipeline.snapshotRoom(R as RoomId, [...state, s.member('@bob:x', 'join')]);
    expect(brief((await all()).at(-1)!)).toBe('rebuilt +1 -0 ~0 (reconcile)');
    await pipeline.forgetRoom(R as RoomId);
    expect(brief((await all()).at(-1)!)).toBe('rebuilt +0 -3 ~0 (reconcile) purged');
  });

  it('writes neither the change nor the state of a commit that fails', async () => {
    const { store, all } = await setup();
    const roomId = R as RoomId;
    const draft = { roomId, ts: 1, cause: 'event' as const, kind: 'joined' as const, userId: ALICE as UserId, from: 'none' as const, to: 'join' as const, sender: ALICE as UserId, eventId: '$j' as never };
    const failing = () => {
      throw new Error('value failed');
    };
    await expect(
      store.commit({
        marks: [],
        ops: [{ op: 'put-member', roomId, userId: ALICE as UserId, member: { membership: 'join' } }],
        now: 1,
        changes: [draft],
        meta: [{ key: 'pending-invites', value: failing }],
      }),
    ).rejects.toThrow('value failed');
    expect(await all()).toEqual([]);
    expect(await store.rooms.isMember(roomId, ALICE as UserId)).toBe(false);
    // The next commit lands, after every cursor handed out before.
    const { changes } = await store.commit({ marks: [], ops: [], now: 2, changes: [draft] });
    expect(await all()).toEqual(changes);
  });

  it('keeps sequence numbers monotone across a reopen', async () => {
    const { dir, store, pipeline, s } = await setup();
    const first = await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join'), s.member(ALICE, 'join')] } }));
    await store.close();
    stores.length = 0;
    const again = await Store.open(dir);
    stores.push(again);
    const second = await new Pipeline(again, { botUserId: BOT as UserId, log: memoryLogger().log }).process(s.response({ [R]: { timeline: [s.member('@bob:x', 'join')] } }));
    expect(second.changes[0]!.cursor > first.changes.at(-1)!.cursor).toBe(true);
    expect((await again.changes.after(first.changes.at(-1)!.cursor)).map((c) => c.cursor)).toEqual([second.changes[0]!.cursor]);
  });

  it('stores one response\'s changes as one page: at most one key per change, and cursors inside a page read on exactly', async () => {
    const { store, pipeline, all, s, dir } = await setup();
    await pipeline.process(s.response({ [R]: { timeline: [s.member(BOT, 'join')] }, '!q:x': { timeline: [s.member(BOT, 'join')] } }));
    const before = (await all()).length;
    const users = ['@a:x', '@b:x', '@c:x', '@d:x', '@e:x'];
    const r = await pipeline.process(
      s.response({ [R]: { timeline: users.slice(0, 4).map((u) => s.member(u, 'join')) }, '!q:x': { timeline: [s.member(users[4]!, 'join')] } }),
    );
    expect(r.changes).toHaveLength(5);
    const cursors = (await all()).map((c) => c.cursor);
    expect(cursors.slice(before)).toEqual(r.changes.map((c) => c.cursor));
    // After a cursor in the middle of the page: the rest of that page, no more, no less.
    expect((await store.changes.after(r.changes[1]!.cursor)).map((c) => c.cursor)).toEqual(r.changes.slice(2).map((c) => c.cursor));
    expect((await store.changes.after(r.changes[1]!.cursor, 2)).map((c) => c.cursor)).toEqual(r.changes.slice(2, 4).map((c) => c.cursor));
    // History before a cursor in the middle of the page, per room and per user.
    const older = await store.changes.history({ room: R as RoomId, before: r.changes[2]!.cursor, limit: 3 });
    expect(older.map((c) => c.cursor)).toEqual([r.changes[1]!.cursor, r.changes[0]!.cursor, cursors[0]]);
    expect((await store.changes.history({ user: '@b:x' as UserId })).map((c) => c.cursor)).toEqual([r.changes[1]!.cursor]);
    expect(await store.changes.history({ user: '@b:x' as UserId, before: r.changes[1]!.cursor })).toEqual([]);
    await store.close();
    stores.length = 0;
    // On disk: one page, two room entries, five user entries — seven keys for five changes, plus meta.
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel<string, string>(`${dir}/leveldb`);
    const count = async (name: string) => (await db.sublevel(name).keys().all()).length;
    try {
      const pagesBefore = 1;
      expect(await count('changes')).toBe(pagesBefore + 1);
      expect(await count('changes-by-room')).toBe(2 + 2);
      expect(await count('changes-by-user')).toBe(1 + 5);
    } finally {
      await db.close();
    }
  });
});
