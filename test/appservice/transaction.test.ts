import { describe, expect, it } from 'vitest';
import { eventsOfTransaction, roomsJoinedIn, roomsOfTransaction, showsJoined, transactionBody } from '../../src/appservice/transaction.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { invitesOf, sectionsOf } from '../../src/state/sync-body.js';

const bot = '@bot:x' as UserId;
const R = '!r:x' as RoomId;
const S = '!s:x' as RoomId;
let n = 0;
const ev = (room: string, type: string, extra: Record<string, unknown> = {}) => ({ room_id: room, type, event_id: `$${++n}`, sender: '@a:x', origin_server_ts: n, content: {}, ...extra });
const member = (room: string, userId: string, membership: string, prev?: string, content: Record<string, unknown> = {}) =>
  ev(room, 'm.room.member', { state_key: userId, content: { membership, ...content }, ...(prev === undefined ? {} : { unsigned: { prev_content: { membership: prev } } }) });

describe('appservice transaction decoder', () => {
  it('refuses a body that is not an object or whose events are not a list', () => {
    expect(eventsOfTransaction([])).toEqual({ ok: false, problem: 'not-an-object' });
    expect(eventsOfTransaction({ events: {} })).toEqual({ ok: false, problem: 'events-not-an-array' });
    expect(eventsOfTransaction({})).toEqual({ ok: false, problem: 'events-not-an-array' });
    expect(eventsOfTransaction({ events: [], ephemeral: 'x' })).toEqual({ ok: true, events: [] });
  });

  it('puts a tracked room in join and an untracked one the bot is not in in leave, each in order', () => {
    const a = ev(R, 'm.room.message');
    const b = ev(S, 'm.room.message');
    const c = ev(R, 'm.room.topic', { state_key: '' });
    const grouped = roomsOfTransaction([a, b, c], bot);
    const body = transactionBody(grouped, { isTracked: (r) => r === R, stateOf: new Map() });
    expect(body).toEqual({ rooms: { join: { [R]: { timeline: { events: [a, c], limited: false } } }, leave: { [S]: { timeline: { events: [b], limited: false } } }, invite: {} } });
  });

  it('turns the bot invite into rooms.invite with its stripped state, read by the sync decoder', () => {
    const invite = member(R, bot, 'invite', undefined, { is_direct: true });
    const withState = { ...invite, unsigned: { invite_room_state: [{ type: 'm.room.name', state_key: '', sender: '@a:x', content: { name: 'N' } }] } };
    const body = transactionBody(roomsOfTransaction([withState], bot), { isTracked: () => false, stateOf: new Map() });
    expect(invitesOf(sectionsOf(body).invite, bot)).toEqual([{ roomId: R, inviter: '@a:x', isDirect: true }]);
    expect((body.rooms as { join: object }).join).toEqual({});
  });

  it('asks for the state of a room the bot joins and gives it as state_after', () => {
    const join = member(R, bot, 'join', 'invite');
    const grouped = roomsOfTransaction([join], bot);
    expect(roomsJoinedIn(grouped, () => true)).toEqual([R]);
    const state = [member(R, '@a:x', 'join'), join];
    const body = transactionBody(grouped, { isTracked: () => false, stateOf: new Map([[R, state]]) });
    expect(body).toEqual({ rooms: { join: { [R]: { timeline: { events: [join], limited: false }, state_after: { events: state } } }, leave: {}, invite: {} } });
  });

  it('does not read the state for a profile change of the bot in a tracked room', () => {
    const grouped = roomsOfTransaction([member(R, bot, 'join', 'join')], bot);
    expect(roomsJoinedIn(grouped, () => true)).toEqual([]);
    expect(roomsJoinedIn(grouped, () => false)).toEqual([R]);
  });

  it('puts a room the bot leaves or is banned from in leave', () => {
    const kick = member(R, bot, 'leave', 'join');
    const body = transactionBody(roomsOfTransaction([ev(R, 'm.room.message'), kick], bot), { isTracked: () => true, stateOf: new Map() });
    expect(Object.keys((body.rooms as { leave: object }).leave)).toEqual([R]);
  });

  it('leaves out events without a readable room id, naming them', () => {
    const grouped = roomsOfTransaction([42, { type: 'm.room.message', event_id: '$x', room_id: 'nope' }], bot);
    expect(grouped.rooms.size).toBe(0);
    expect(grouped.unrouted).toEqual([
      { index: 0, eventId: undefined, type: undefined, reason: 'not an object' },
      { index: 1, eventId: '$x', type: 'm.room.message', reason: 'no valid room_id' },
    ]);
  });
});

describe('showsJoined', () => {
  it('is true only when the state holds the bot joined', () => {
    expect(showsJoined([member(R, bot, 'join')], bot)).toBe(true);
    expect(showsJoined([member(R, bot, 'leave', 'join'), member(R, '@a:x', 'join')], bot)).toBe(false);
    expect(showsJoined([null, 1], bot)).toBe(false);
  });
});
