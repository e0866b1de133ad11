import { describe, expect, it } from 'vitest';
import { decodeEvent, eventType, type DecodeResult, type TrackedEvent } from '../../src/state/events.js';

function state(type: string, content: Record<string, unknown>, stateKey = '', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_id: '$e', type, sender: '@alice:x', state_key: stateKey, content, origin_server_ts: 7, ...extra };
}

function decoded(r: DecodeResult): TrackedEvent {
  if (!r.ok) throw new Error(`expected a decoded event, got: ${r.reason}`);
  return r.event;
}

/** Both decoders must agree: the fast path for plain JSON, the schemas for anything else. */
function both(raw: Record<string, unknown>, requireState = true): TrackedEvent {
  const fast = decoded(decodeEvent(raw, requireState));
  // A prototype-less copy is not a plain JSON object, so it takes the schema path.
  const slow = decoded(decodeEvent(Object.assign(Object.create(null) as object, raw), requireState));
  expect(slow).toEqual(fast);
  return fast;
}

describe('decodeEvent: room state beyond names', () => {
  it('reads the avatar of a member event', () => {
    const e = both(state('m.room.member', { membership: 'join', displayname: 'Alice', avatar_url: 'mxc://x/a' }, '@alice:x'));
    expect(e).toMatchObject({ kind: 'member', displayName: 'Alice', avatarUrl: 'mxc://x/a' });
  });

  it('reads version, creator and predecessor of a version 10 create event from content.creator', () => {
    const e = both(state('m.room.create', { room_version: '10', creator: '@carol:x', predecessor: { room_id: '!old:x', event_id: '$t' } }));
    expect(e).toMatchObject({ kind: 'create', version: '10', creators: ['@carol:x'], predecessor: { roomId: '!old:x', eventId: '$t' } });
  });

  it('takes the sender and additional_creators as creators from room version 12', () => {
    const e = both(state('m.room.create', { room_version: '12', additional_creators: ['@bob:x', 'not-a-user', '@alice:x'], type: 'm.space' }));
    expect(e).toMatchObject({ kind: 'create', version: '12', creators: ['@alice:x', '@bob:x'], roomType: 'm.space' });
  });

  it('ignores additional_creators before room version 12', () => {
    expect(both(state('m.room.create', { room_version: '11', additional_creators: ['@bob:x'] }))).toMatchObject({ creators: ['@alice:x'] });
  });

  it('decodes power levels, join rules, history visibility, guest access and tombstones', () => {
    expect(both(state('m.room.power_levels', { users: { '@alice:x': 100 }, kick: 60 }))).toMatchObject({
      kind: 'power-levels',
      powerLevels: { users: { '@alice:x': 100 }, kick: 60, ban: 50 },
    });
    expect(both(state('m.room.join_rules', { join_rule: 'invite' }))).toMatchObject({ kind: 'join-rules', joinRule: 'invite' });
    expect(both(state('m.room.history_visibility', { history_visibility: 'shared' }))).toMatchObject({ historyVisibility: 'shared' });
    expect(both(state('m.room.guest_access', { guest_access: 'can_join' }))).toMatchObject({ guestAccess: 'can_join' });
    expect(both(state('m.room.tombstone', { replacement_room: '!new:x', body: 'moved' }))).toMatchObject({
      kind: 'tombstone',
      replacement: '!new:x',
      body: 'moved',
    });
  });

  it('keeps an event whose fields have the wrong type, with those fields absent', () => {
    expect(both(state('m.room.join_rules', { join_rule: 5 }))).toEqual(expect.objectContaining({ kind: 'join-rules', joinRule: undefined }));
  });

  it('reads space children and parents, valid only with a non-empty via', () => {
    expect(both(state('m.space.child', { via: ['x'] }, '!child:x'))).toMatchObject({ kind: 'space-child', target: '!child:x', valid: true });
    expect(both(state('m.space.parent', { via: [] }, '!space:x'))).toMatchObject({ kind: 'space-parent', target: '!space:x', valid: false });
  });

  it('finds a redaction target in content.redacts (v11+) or at top level (older versions)', () => {
    const v11 = { event_id: '$r', type: 'm.room.redaction', sender: '@alice:x', content: { redacts: '$t' } };
    const v10 = { event_id: '$r', type: 'm.room.redaction', sender: '@alice:x', content: {}, redacts: '$old' };
    expect(both(v11, false)).toMatchObject({ kind: 'redaction', redacts: '$t' });
    expect(both(v10, false)).toMatchObject({ kind: 'redaction', redacts: '$old' });
    expect(eventType(both(v10, false))).toBe('m.room.redaction');
  });
});
