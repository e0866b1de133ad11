import { describe, expect, it } from 'vitest';
import { decodeEvent, type TrackedEvent } from '../../src/state/events.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
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
    if (op.op === 'put-member') members.add(op.userId);
    else if (op.op === 'del-member') members.delete(op.userId);
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
    const { ops } = plan([fresh(s.member(ALICE, 'join', { displayname: 'Alice' }))]);
    expect(ops).toContainEqual({ op: 'put-member', roomId: ROOM, userId: ALICE, displayName: 'Alice' });
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
    expect(ops).toContainEqual({ op: 'put-member', roomId: ROOM, userId: ALICE, displayName: 'Al' });
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
    expect(r.ops).toContainEqual({ op: 'put-member', roomId: ROOM, userId: BOT, displayName: 'Keeper' });
    expect(infoAfter(r.ops)?.joinedAt).toBe(tracking.joinedAt);
  });

  it('does not snapshot when the bot join was seen before', () => {
    const s = new SyncBuilder();
    const r = plan([old(s.member(BOT, 'join', { prev: 'invite' }))]);
    expect(r.snapshot).toBe(false);
    expect(r.ops).toEqual([]);
  });

  it('skips events the guard has seen when the bot did not just join', () => {
    const s = new SyncBuilder();
    const r = plan([old(s.member(ALICE, 'leave', { prev: 'join' })), old(s.name(ALICE, 'old')), fresh(s.member(BOB, 'join'))]);
    expect(membersAfter(r.ops, [ALICE, BOT])).toEqual([ALICE, BOB, BOT]);
    expect(infoAfter(r.ops)?.name).toBeUndefined();
    expect(r.fresh).toHaveLength(1);
  });

  it('writes nothing when every event was seen before', () => {
    const s = new SyncBuilder();
    const r = plan([old(s.member(ALICE, 'join')), old(s.topic(ALICE, 't'))]);
    expect(r).toEqual({ ops: [], fresh: [], snapshot: false });
  });

  it('updates name, alias, topic and encryption in one RoomInfo write after the memberships', () => {
    const s = new SyncBuilder();
    const r = plan([fresh(s.name(ALICE, 'Lobby')), fresh(s.alias(ALICE, '#lobby:x')), fresh(s.topic(ALICE, 'hi')), fresh(s.encryption(ALICE)), fresh(s.member(BOB, 'join'))]);
    const infos = r.ops.filter((o) => o.op === 'put-info');
    expect(infos).toHaveLength(1);
    expect(r.ops.at(-1)).toEqual({
      op: 'put-info',
      info: { ...tracking, name: 'Lobby', canonicalAlias: '#lobby:x', topic: 'hi', encrypted: true, updatedAt: NOW },
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
    const r = plan([fresh(s.message(ALICE, 'hello')), fresh({ event_id: s.id(), type: 'm.room.power_levels', sender: ALICE, state_key: '', content: {} })]);
    expect(r.ops).toEqual([]);
    expect(r.fresh).toHaveLength(2);
  });
});
