import { describe, expect, it } from 'vitest';
import { decodeEvent, type TrackedEvent } from '../../src/state/events.js';
import type { EventId, RoomId, UserId } from '../../src/state/ids.js';
import { planRoom, type RoomEntry, type StoreOp } from '../../src/state/reduce.js';
import type { RoomInfo } from '../../src/state/room-info.js';
import { SyncBuilder, type RawEvent } from '../support/sync-builder.js';

const ROOM = '!room:x' as RoomId;
const BOT = '@bot:x' as UserId;
const ALICE = '@alice:x' as UserId;
const BOB = '@bob:x' as UserId;
const NOW = 5_000;

function tracked(raw: RawEvent): TrackedEvent {
  const r = decodeEvent(raw, raw.state_key !== undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

const fresh = (raw: RawEvent): RoomEntry => ({ event: tracked(raw), seen: false });
const old = (raw: RawEvent): RoomEntry => ({ event: tracked(raw), seen: true });

const tracking: RoomInfo = { roomId: ROOM, encrypted: false, joinedAt: 100, updatedAt: 200 };

function plan(entries: RoomEntry[], info: RoomInfo | undefined = tracking) {
  return planRoom(ROOM, entries, { botUserId: BOT, info, now: NOW });
}

/** The members a room ends with when the ops are applied to `before`. */
function membersAfter(ops: readonly StoreOp[], before: readonly UserId[] = []): UserId[] {
  const members = new Set(before);
  for (const op of ops) {
    if (op.op === 'put-member' && op.member.membership === 'join') members.add(op.userId);
    else if (op.op === 'put-member') members.delete(op.userId);
    else if (op.op === 'purge-room') members.clear();
  }
  return [...members].sort();
}

function infoAfter(ops: readonly StoreOp[]): RoomInfo | undefined {
  let info: RoomInfo | undefined;
  for (const op of ops) {
    if (op.op === 'put-info') info = op.info;
    else if (op.op === 'purge-room') info = undefined;
  }
  return info;
}

describe('planRoom', () => {
  it('adds the user as a member with their display name when they join', () => {
    const s = new SyncBuilder();
    const join = s.member(ALICE, 'join', { displayname: 'Alice' });
    const { ops } = plan([fresh(join)]);
    expect(ops).toContainEqual({ op: 'put-member', roomId: ROOM, userId: ALICE, member: { membership: 'join', eventId: join.event_id, displayName: 'Alice', ts: join.origin_server_ts } });
    expect(membersAfter(ops, [BOT])).toEqual([ALICE, BOT]);
  });

  it('removes the user when they leave', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'leave', { prev: 'join' }))]);
    expect(membersAfter(ops, [ALICE, BOT])).toEqual([BOT]);
  });

  it('removes the user when someone else kicks them', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'leave', { sender: BOB, prev: 'join' }))]);
    expect(membersAfter(ops, [ALICE, BOB, BOT])).toEqual([BOB, BOT]);
  });

  it('removes the user when they are banned', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'ban', { sender: BOB, prev: 'join' }))]);
    expect(membersAfter(ops, [ALICE, BOB, BOT])).toEqual([BOB, BOT]);
  });

  it('keeps the user out when they are unbanned, and lets them back in when they rejoin', () => {
    const s = new SyncBuilder();
    const unban = plan([fresh(s.member(ALICE, 'leave', { sender: BOB, prev: 'ban' }))]);
    expect(membersAfter(unban.ops, [BOT])).toEqual([BOT]);
    const rejoin = plan([fresh(s.member(ALICE, 'join', { prev: 'leave' }))]);
    expect(membersAfter(rejoin.ops, [BOT])).toEqual([ALICE, BOT]);
  });

  it('does not count the user as a member when they are only invited', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'invite', { sender: BOB }))]);
    expect(membersAfter(ops, [BOT])).toEqual([BOT]);
  });

  it('does not count the user as a member when they knock', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'knock'))]);
    expect(membersAfter(ops, [BOT])).toEqual([BOT]);
  });

  it('updates the display name when a member changes it (join to join)', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'join', { displayname: 'Al', prev: 'join' }))]);
    expect(ops).toContainEqual(expect.objectContaining({ op: 'put-member', userId: ALICE, member: expect.objectContaining({ displayName: 'Al' }) }));
    expect(membersAfter(ops, [ALICE, BOT])).toEqual([ALICE, BOT]);
  });

  it('applies memberships of one user in order when the response holds several', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'join')), fresh(s.member(ALICE, 'leave', { prev: 'join' })), fresh(s.member(BOB, 'join'))]);
    expect(membersAfter(ops, [BOT])).toEqual([BOB, BOT]);
  });

  it('purges the room when the bot leaves it', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(ALICE, 'join')), fresh(s.member(BOT, 'leave', { prev: 'join' }))]);
    expect(ops.at(-1)).toEqual({ op: 'purge-room', roomId: ROOM });
    expect(infoAfter(ops)).toBeUndefined();
    expect(membersAfter(ops, [ALICE, BOT])).toEqual([]);
  });

  it('purges the room when the bot is kicked', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(BOT, 'leave', { sender: ALICE, prev: 'join' }))]);
    expect(ops).toEqual([{ op: 'purge-room', roomId: ROOM }]);
  });

  it('purges the room when the bot is banned', () => {
    const s = new SyncBuilder();
    const { ops } = plan([fresh(s.member(BOT, 'ban', { sender: ALICE, prev: 'join' }))]);
    expect(ops).toEqual([{ op: 'purge-room', roomId: ROOM }]);
  });

  it('snapshots the room from the response when the bot joins for the first time', () => {
    const s = new SyncBuilder();
    const r = plan(
      [fresh(s.member(ALICE, 'join')), fresh(s.name(ALICE, 'Lobby')), fresh(s.member(BOT, 'invite', { sender: ALICE })), fresh(s.member(BOT, 'join', { prev: 'invite' }))],
      undefined,
    );
    expect(r.snapshot).toBe(true);
    expect(membersAfter(r.ops)).toEqual([ALICE, BOT]);
    expect(infoAfter(r.ops)).toMatchObject({ roomId: ROOM, name: 'Lobby', encrypted: false, updatedAt: NOW });
  });

  it('records when the bot joined from its join event when it joins', () => {
    const s = new SyncBuilder();
    const join = s.member(BOT, 'join');
    const r = plan([fresh(join)], undefined);
    expect(infoAfter(r.ops)?.joinedAt).toBe(join.origin_server_ts);
  });

  it('applies already-seen state events when the bot rejoins a room it was kicked from', () => {
    const s = new SyncBuilder();
    const r = plan(
      [old(s.member(ALICE, 'join')), old(s.member(BOB, 'join')), old(s.topic(ALICE, 'old topic')), fresh(s.member(BOT, 'join', { prev: 'invite' }))],
      undefined,
    );
    expect(r.snapshot).toBe(true);
    expect(membersAfter(r.ops)).toEqual([ALICE, BOB, BOT]);
    expect(infoAfter(r.ops)?.topic).toBe('old topic');
    // Only the bot's join is new; the rest were applied but are not "fresh".
    expect(r.fresh.map((e) => e.eventId)).toHaveLength(1);
  });

  it('replaces what the store had when a tracked room is rejoined after a leave it never saw', () => {
    const s = new SyncBuilder();
    const r = plan([old(s.member(ALICE, 'join')), fresh(s.member(BOT, 'join', { prev: 'leave' }))], { ...tracking, name: 'stale' });
    expect(r.snapshot).toBe(true);
    expect(r.ops[0]).toEqual({ op: 'purge-room', roomId: ROOM });
    expect(membersAfter(r.ops, [BOB, ALICE, BOT])).toEqual([ALICE, BOT]);
    expect(infoAfter(r.ops)?.name).toBeUndefined();
  });

  it('keeps the other members when the bot rejoins and the response still holds its old kick', () => {
    // The state before a timeline of [invite, join] holds the kick; state blocks are unordered.
    const s = new SyncBuilder();
    const aliceJoin = s.member(ALICE, 'join');
    const bobJoin = s.member(BOB, 'join');
    const kick = s.member(BOT, 'leave', { sender: ALICE, prev: 'join' });
    const r = plan([old(aliceJoin), old(kick), old(bobJoin), fresh(s.member(BOT, 'invite', { sender: ALICE, prev: 'leave' })), fresh(s.member(BOT, 'join', { prev: 'invite' }))], undefined);
    expect(r.snapshot).toBe(true);
    expect(membersAfter(r.ops)).toEqual([ALICE, BOB, BOT]);
    expect(infoAfter(r.ops)).toBeDefined();
  });

  it('keeps the other members when the rejoin timeline starts with the bot being kicked', () => {
    const s = new SyncBuilder();
    const r = plan(
      [
        old(s.member(ALICE, 'join')),
        old(s.member(BOT, 'join')),
        old(s.member(BOT, 'leave', { sender: ALICE, prev: 'join' })),
        fresh(s.member(BOT, 'invite', { sender: ALICE, prev: 'leave' })),
        fresh(s.member(BOT, 'join', { prev: 'invite' })),
      ],
      undefined,
    );
    expect(membersAfter(r.ops)).toEqual([ALICE, BOT]);
  });

  it('purges the room when the bot joins and leaves again within one response', () => {
    const s = new SyncBuilder();
    const r = plan([fresh(s.member(ALICE, 'join')), fresh(s.member(BOT, 'join')), fresh(s.member(BOT, 'leave', { prev: 'join' }))], undefined);
    expect(membersAfter(r.ops)).toEqual([]);
    expect(infoAfter(r.ops)).toBeUndefined();
  });

  it('does not snapshot when the bot changes its own profile (join to join)', () => {
    const s = new SyncBuilder();
    const r = plan([old(s.member(ALICE, 'join')), fresh(s.member(BOT, 'join', { displayname: 'Keeper', prev: 'join' }))]);
    expect(r.snapshot).toBe(false);
    expect(r.ops.some((o) => o.op === 'purge-room')).toBe(false);
    expect(r.ops).toContainEqual(expect.objectContaining({ op: 'put-member', userId: BOT, member: expect.objectContaining({ displayName: 'Keeper' }) }));
    expect(infoAfter(r.ops)?.joinedAt).toBe(tracking.joinedAt);
  });

  it('does not snapshot when the bot join was seen before', () => {
    const s = new SyncBuilder();
    const join = s.member(BOT, 'join', { prev: 'invite' });
    const r = planRoom(ROOM, [old(join)], { botUserId: BOT, info: tracking, now: NOW, members: new Map([[BOT, { membership: 'join', eventId: join.event_id as EventId }]]) });
    expect(r.snapshot).toBe(false);
    expect(r.ops).toEqual([]);
  });

  it('skips seen events that are what the store holds as current', () => {
    const s = new SyncBuilder();
    const leave = s.member(ALICE, 'leave', { prev: 'join' });
    const name = s.name(ALICE, 'old');
    const info: RoomInfo = { ...tracking, name: 'old', stateIds: { 'm.room.name': name.event_id as EventId } };
    const r = planRoom(ROOM, [old(leave), old(name), fresh(s.member(BOB, 'join'))], {
      botUserId: BOT,
      info,
      now: NOW,
      members: new Map([[ALICE, { membership: 'leave', eventId: leave.event_id as EventId }]]),
    });
    expect(r.ops.filter((o) => o.op === 'put-member').map((o) => (o.op === 'put-member' ? o.userId : ''))).toEqual([BOB]);
    expect(r.fresh).toHaveLength(1);
    expect(r.stateResets).toBe(0);
  });

  it('writes nothing when every event was seen before and is current', () => {
    const s = new SyncBuilder();
    const join = s.member(ALICE, 'join');
    const topic = s.topic(ALICE, 't');
    const info: RoomInfo = { ...tracking, topic: 't', stateIds: { 'm.room.topic': topic.event_id as EventId } };
    const r = planRoom(ROOM, [old(join), old(topic)], {
      botUserId: BOT,
      info,
      now: NOW,
      members: new Map([[ALICE, { membership: 'join', eventId: join.event_id as EventId }]]),
    });
    expect(r).toEqual({ ops: [], fresh: [], snapshot: false, stateResets: 0, changes: [] });
  });

  it('follows a state reset: a seen state-block event that differs from the current one replaces it and is counted', () => {
    const s = new SyncBuilder();
    const oldName = s.name(ALICE, 'Before');
    const newName = s.name(ALICE, 'After');
    const aliceJoin = s.member(ALICE, 'join');
    const aliceLeave = s.member(ALICE, 'leave', { prev: 'join' });
    const info: RoomInfo = { ...tracking, name: 'After', stateIds: { 'm.room.name': newName.event_id as EventId } };
    const r = planRoom(ROOM, [old(oldName), old(aliceJoin)], {
      botUserId: BOT,
      info,
      now: NOW,
      members: new Map([[ALICE, { membership: 'leave', eventId: aliceLeave.event_id as EventId }]]),
    });
    expect(infoAfter(r.ops)?.name).toBe('Before');
    expect(membersAfter(r.ops, [BOT])).toEqual([ALICE, BOT]);
    expect(r.stateResets).toBe(2);
    expect(r.fresh).toEqual([]);
  });

  it('does not count a re-delivered response as a reset when its timeline brings the state back', () => {
    const s = new SyncBuilder();
    const before = s.topic(ALICE, 'one');
    const after = s.topic(ALICE, 'two');
    const info: RoomInfo = { ...tracking, topic: 'two', stateIds: { 'm.room.topic': after.event_id as EventId } };
    // With something new in it: a response read again in part (a crash between its batches).
    const r = plan([old(before), { ...old(after), timeline: true }, { ...fresh(s.message(ALICE, 'new')), timeline: true }], info);
    expect(infoAfter(r.ops)?.topic).toBe('two');
    expect(r.stateResets).toBe(0);
  });

  it('changes nothing when a response is read again whole (every event seen, timeline included)', () => {
    const s = new SyncBuilder();
    const before = s.topic(ALICE, 'one');
    const after = s.topic(ALICE, 'two');
    const info: RoomInfo = { ...tracking, topic: 'two', stateIds: { 'm.room.topic': after.event_id as EventId } };
    const r = plan([old(before), { ...old(s.message(ALICE, 'hi')), timeline: true }], info);
    expect(r).toEqual({ ops: [], fresh: [], snapshot: false, stateResets: 0, changes: [] });
  });

  it('skips a re-delivered timeline event older than the current one: the guard dedups it', () => {
    const s = new SyncBuilder();
    const join = s.member(ALICE, 'join');
    const leave = s.member(ALICE, 'leave', { prev: 'join' });
    const r = planRoom(ROOM, [{ ...old(join), timeline: true }], {
      botUserId: BOT,
      info: tracking,
      now: NOW,
      members: new Map([[ALICE, { membership: 'leave', eventId: leave.event_id as EventId, ts: leave.origin_server_ts as number }]]),
    });
    expect(r.ops).toEqual([]);
  });

  it('applies a seen timeline event newer than the current one, without counting it as fresh', () => {
    // A response read again after its state block moved the key back (a replay re-run).
    const s = new SyncBuilder();
    const join = s.member(ALICE, 'join');
    const leave = s.member(ALICE, 'leave', { prev: 'join' });
    const message = s.message(ALICE, 'new');
    const r = planRoom(ROOM, [{ ...old(leave), timeline: true }, { ...fresh(message), timeline: true }], {
      botUserId: BOT,
      info: tracking,
      now: NOW,
      members: new Map([[ALICE, { membership: 'join', eventId: join.event_id as EventId, ts: join.origin_server_ts as number }]]),
    });
    expect(membersAfter(r.ops, [ALICE, BOT])).toEqual([BOT]);
    expect(r.fresh.map((e) => e.eventId)).toEqual([message.event_id]);
  });

  it('ignores seen events of a room the store does not track', () => {
    const s = new SyncBuilder();
    const r = planRoom(ROOM, [old(s.member(ALICE, 'join')), old(s.name(ALICE, 'x'))], { botUserId: BOT, info: undefined, now: NOW });
    expect(r.ops).toEqual([]);
  });

  it('updates name, alias, topic and encryption in one RoomInfo write after the memberships', () => {
    const s = new SyncBuilder();
    const r = plan([fresh(s.name(ALICE, 'Lobby')), fresh(s.alias(ALICE, '#lobby:x')), fresh(s.topic(ALICE, 'hi')), fresh(s.encryption(ALICE)), fresh(s.member(BOB, 'join'))]);
    const infos = r.ops.filter((o) => o.op === 'put-info');
    expect(infos).toHaveLength(1);
    expect(r.ops.at(-1)).toEqual({
      op: 'put-info',
      info: expect.objectContaining({ ...tracking, name: 'Lobby', canonicalAlias: '#lobby:x', topic: 'hi', encrypted: true, updatedAt: NOW }),
    });
  });

  it('clears the name when a later event removes it', () => {
    const s = new SyncBuilder();
    const r = plan([fresh(s.name(ALICE, '')), fresh(s.message(ALICE, 'hello'))], { ...tracking, name: 'Lobby' });
    expect(infoAfter(r.ops)?.name).toBeUndefined();
    expect(r.fresh).toHaveLength(2);
  });

  it('writes no RoomInfo when only messages and untracked state arrive', () => {
    const s = new SyncBuilder();
    const r = plan([fresh(s.message(ALICE, 'hello')), fresh({ event_id: s.id(), type: 'org.example.custom', sender: ALICE, state_key: '', content: {} })]);
    expect(r.ops).toEqual([]);
    expect(r.fresh).toHaveLength(2);
  });
});
