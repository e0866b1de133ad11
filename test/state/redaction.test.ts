import { describe, expect, it } from 'vitest';
import type { EventId, RoomId } from '../../src/state/ids.js';
import { decodePowerLevels } from '../../src/state/power-levels.js';
import { currentKeyOf, redactInfo, redactMember } from '../../src/state/redaction.js';
import type { RoomInfo } from '../../src/state/room-info.js';

const info: RoomInfo = {
  roomId: '!r:x' as RoomId,
  name: 'Secret plans',
  topic: 'do not read',
  canonicalAlias: '#plans:x',
  encrypted: true,
  version: '10',
  guestAccess: 'can_join',
  joinRule: 'invite',
  predecessor: { roomId: '!old:x' as RoomId },
  powerLevels: decodePowerLevels({ invite: 50, users: { '@a:x': 100 } }),
  spaceParents: ['!space:x' as RoomId],
  stateIds: { 'm.room.name': '$name' as EventId, 'm.space.parent#!space:x': '$parent' as EventId },
  updatedAt: 0,
};

describe('redaction', () => {
  it('finds the tracked key whose current event a redaction targets, and none for an old event', () => {
    expect(currentKeyOf(info, '$name' as EventId)).toBe('m.room.name');
    expect(currentKeyOf(info, '$replaced' as EventId)).toBeUndefined();
  });

  it('clears a redacted name, topic, alias, guest access and tombstone', () => {
    expect(redactInfo(info, 'm.room.name').name).toBeUndefined();
    expect(redactInfo(info, 'm.room.topic').topic).toBeUndefined();
    expect(redactInfo(info, 'm.room.canonical_alias').canonicalAlias).toBeUndefined();
    expect(redactInfo(info, 'm.room.guest_access').guestAccess).toBeUndefined();
    expect(redactInfo({ ...info, successor: { roomId: '!n:x' as RoomId } }, 'm.room.tombstone').successor).toBeUndefined();
  });

  it('keeps a room encrypted and its join rule when those events are redacted', () => {
    expect(redactInfo(info, 'm.room.encryption').encrypted).toBe(true);
    expect(redactInfo(info, 'm.room.join_rules').joinRule).toBe('invite');
  });

  it('keeps the power levels the spec preserves, dropping invite before room version 11', () => {
    expect(redactInfo(info, 'm.room.power_levels').powerLevels).toMatchObject({ users: { '@a:x': 100 }, invite: 0 });
    expect(redactInfo({ ...info, version: '11' }, 'm.room.power_levels').powerLevels?.invite).toBe(50);
  });

  it('drops the predecessor of a redacted create event before version 11 only', () => {
    expect(redactInfo(info, 'm.room.create').predecessor).toBeUndefined();
    expect(redactInfo({ ...info, version: '11' }, 'm.room.create').predecessor).toEqual({ roomId: '!old:x' });
  });

  it('ends a space relation whose event is redacted', () => {
    expect(redactInfo(info, 'm.space.parent#!space:x').spaceParents).toEqual([]);
  });

  it('keeps the membership of a redacted member event but not the profile', () => {
    expect(redactMember({ membership: 'ban', eventId: '$m' as EventId, displayName: 'Eve', avatarUrl: 'mxc://x/e' })).toEqual({
      membership: 'ban',
      eventId: '$m',
    });
  });
});
