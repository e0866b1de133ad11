import { afterEach, describe, expect, it } from 'vitest';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { SyncBuilder, type RawEvent } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

/** Room state through the real pipeline and store: redactions, state resets, MSC4222, summaries. */

const BOT = '@bot:x';
const ROOM = '!r:x' as RoomId;
const dirs = new TempDirs();
const stores: Store[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await dirs.cleanup();
});

async function setup() {
  const store = await Store.open(await dirs.make(), { create: true });
  stores.push(store);
  const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger('warn').log, now: () => 1_000 });
  const s = new SyncBuilder();
  const state = (type: string, content: Record<string, unknown>, stateKey = ''): RawEvent => ({
    event_id: s.id(),
    type,
    sender: '@alice:x',
    state_key: stateKey,
    content,
    origin_server_ts: Date.now(),
  });
  const redact = (target: RawEvent, where: 'content' | 'top' = 'content'): RawEvent => ({
    event_id: s.id(),
    type: 'm.room.redaction',
    sender: '@alice:x',
    content: where === 'content' ? { redacts: target.event_id } : {},
    ...(where === 'top' ? { redacts: target.event_id } : {}),
    origin_server_ts: Date.now(),
  });
  return { store, pipeline, s, state, redact, info: () => store.rooms.info(ROOM), member: (u: string) => store.rooms.member(ROOM, u as UserId) };
}

describe('room state through the pipeline', () => {
  it('clears the name and topic when their current events are redacted, and keeps an old redacted name out', async () => {
    const { pipeline, s, state, redact, info } = await setup();
    const oldName = s.name('@alice:x', 'Before');
    const name = s.name('@alice:x', 'Secret plans');
    const topic = s.topic('@alice:x', 'do not read');
    await pipeline.process(s.response({ [ROOM]: { state: [s.member('@alice:x', 'join'), oldName], timeline: [s.member(BOT, 'join'), name, topic] } }));
    await pipeline.process(s.response({ [ROOM]: { timeline: [redact(oldName)] } }));
    expect(await info()).toMatchObject({ name: 'Secret plans', topic: 'do not read' });
    await pipeline.process(s.response({ [ROOM]: { timeline: [redact(name), redact(topic, 'top')] } }));
    const after = await info();
    expect(after?.name).toBeUndefined();
    expect(after?.topic).toBeUndefined();
    void state;
  });

  it('keeps the membership of a redacted member event but drops the display name and avatar', async () => {
    const { pipeline, s, redact, member, store } = await setup();
    const alice = s.member('@alice:x', 'join', { displayname: 'Alice' });
    await pipeline.process(s.response({ [ROOM]: { timeline: [s.member(BOT, 'join'), alice] } }));
    await pipeline.process(s.response({ [ROOM]: { timeline: [redact(alice)] } }));
    expect(await member('@alice:x')).toEqual({ membership: 'join', eventId: alice.event_id, ts: alice.origin_server_ts });
    expect(await store.rooms.roomsOf('@alice:x' as UserId)).toEqual([ROOM]);
  });

  it('still calls a room encrypted after its m.room.encryption is redacted', async () => {
    const { pipeline, s, redact, info } = await setup();
    const enc = s.encryption('@alice:x');
    await pipeline.process(s.response({ [ROOM]: { timeline: [s.member(BOT, 'join'), enc] } }));
    await pipeline.process(s.response({ [ROOM]: { timeline: [redact(enc)] } }));
    expect((await info())?.encrypted).toBe(true);
  });

  it('records version, creators, power levels, rules, lineage and space from state events', async () => {
    const { pipeline, s, state, info, store } = await setup();
    await pipeline.process(
      s.response({
        [ROOM]: {
          state: [
            state('m.room.create', { room_version: '12', additional_creators: ['@bob:x'], predecessor: { room_id: '!old:x' } }),
            state('m.room.power_levels', { users: { '@carol:x': 50 } }),
            state('m.room.join_rules', { join_rule: 'invite' }),
            state('m.room.history_visibility', { history_visibility: 'joined' }),
            state('m.room.guest_access', { guest_access: 'forbidden' }),
            state('m.space.parent', { via: ['x'] }, '!space:x'),
            s.member('@alice:x', 'join'),
          ],
          timeline: [s.member(BOT, 'join'), state('m.room.tombstone', { replacement_room: '!new:x', body: 'upgraded' })],
        },
      }),
    );
    expect(await info()).toMatchObject({
      version: '12',
      creators: ['@alice:x', '@bob:x'],
      predecessor: { roomId: '!old:x' },
      successor: { roomId: '!new:x', body: 'upgraded' },
      joinRule: 'invite',
      historyVisibility: 'joined',
      guestAccess: 'forbidden',
      spaceParents: ['!space:x'],
      powerLevels: { users: { '@carol:x': 50 } },
    });
    expect(await store.rooms.lineage(ROOM)).toEqual(['!old:x', ROOM, '!new:x']);
  });

  it('follows a state reset from a gappy sync and counts it, and does not count an ordinary gappy change', async () => {
    const { pipeline, s, info } = await setup();
    const before = s.name('@alice:x', 'Before');
    const after = s.name('@alice:x', 'After');
    await pipeline.process(s.response({ [ROOM]: { timeline: [s.member(BOT, 'join'), before, after] } }));
    const gap = await pipeline.process(s.response({ [ROOM]: { limited: true, state: [s.topic('@alice:x', 'new in the gap')], timeline: [s.message('@alice:x', 'hi')] } }));
    expect(gap.stateResets).toBe(0);
    const reset = await pipeline.process(s.response({ [ROOM]: { limited: true, state: [before], timeline: [s.message('@alice:x', 'hi')] } }));
    expect(reset.stateResets).toBe(1);
    expect(reset.applied).toBe(1);
    expect((await info())?.name).toBe('Before');
    expect(pipeline.totals.stateResets).toBe(1);
  });

  it('ignores a forged copy of a state reset\'s event (same id, other content) in the timeline: the reset is still followed', async () => {
    const { pipeline, s, info } = await setup();
    const before = s.name('@alice:x', 'Before');
    const after = s.name('@alice:x', 'After');
    await pipeline.process(s.response({ [ROOM]: { timeline: [s.member(BOT, 'join'), before, after] } }));
    const forged = { ...before, content: { name: 'Forged' } };
    const reset = await pipeline.process(s.response({ [ROOM]: { limited: true, state: [before], timeline: [s.message('@alice:x', 'hi'), forged] } }));
    expect((await info())?.name).toBe('Before');
    expect(reset.stateResets).toBe(1);
    expect(reset.invalid).toBe(1);
  });

  it('takes MSC4222 state_after as the room state: timeline state that it does not hold is not applied', async () => {
    const { pipeline, s, store, info } = await setup();
    const join = s.member(BOT, 'join');
    const alice = s.member('@alice:x', 'join');
    const rejected = s.name('@mallory:x', 'Rejected by state resolution');
    const r = await pipeline.process(
      s.response({
        [ROOM]: {
          timeline: [join, alice, rejected, s.message('@alice:x', 'hi')],
        },
      }),
    );
    expect((await info())?.name).toBe('Rejected by state resolution');
    void r;

    // A second room, with state_after (unstable name) that omits the rejected name.
    const room2 = '!r2:x';
    const body = s.response({ [room2]: { timeline: [s.member(BOT, 'join')] } }) as { rooms: { join: Record<string, Record<string, unknown>> } };
    const join2 = (body.rooms.join[room2]!.timeline as { events: RawEvent[] }).events[0]!;
    const bob = s.member('@bob:x', 'join');
    const bad = s.name('@mallory:x', 'Rejected');
    const good = s.name('@alice:x', 'Resolved');
    body.rooms.join[room2] = {
      timeline: { events: [join2, bob, bad], limited: false },
      'org.matrix.msc4222.state_after': { events: [join2, bob, good] },
    };
    const r2 = await pipeline.process(body);
    expect(r2.applied).toBe(4);
    expect(r2.duplicates).toBe(0);
    expect(r2.fresh.map((f) => f.event.eventId)).toEqual([join2.event_id, bob.event_id, bad.event_id, good.event_id]);
    expect((await store.rooms.info(room2 as RoomId))?.name).toBe('Resolved');
    expect((await store.rooms.membersOf(room2 as RoomId)).map((m) => m.userId)).toEqual(['@bob:x', BOT]);
    // Read again, nothing is fresh and nothing changes.
    const again = await pipeline.process(body);
    expect(again.applied).toBe(0);
    expect(again.duplicates).toBe(4);
  });

  it('keeps the server summary and names the room from its heroes', async () => {
    const { pipeline, s, store } = await setup();
    const body = s.response({ [ROOM]: { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join', { displayname: 'Alice' })] } }) as {
      rooms: { join: Record<string, Record<string, unknown>> };
    };
    body.rooms.join[ROOM]!.summary = { 'm.heroes': ['@alice:x', '@bob:x'], 'm.joined_member_count': 7, 'm.invited_member_count': 0 };
    await pipeline.process(body);
    expect(await store.rooms.info(ROOM)).toMatchObject({ heroes: ['@alice:x', '@bob:x'], joinedCount: 7, invitedCount: 0 });
    expect(await store.rooms.displayName(ROOM, BOT as UserId)).toBe('Alice, @bob:x and 4 others');
  });
});
