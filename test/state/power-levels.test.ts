import { describe, expect, it } from 'vitest';
import type { UserId } from '../../src/state/ids.js';
import { can, canSendState, decodePowerLevels, powerOf, roleOf, staffOf, type PowerContext } from '../../src/state/power-levels.js';

const A = '@alice:x' as UserId;
const B = '@bob:x' as UserId;
const C = '@carol:x' as UserId;

describe('power levels', () => {
  it('fills the spec defaults for keys the event leaves out', () => {
    expect(decodePowerLevels({})).toEqual({
      users: {},
      usersDefault: 0,
      events: {},
      eventsDefault: 0,
      stateDefault: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    });
  });

  it('reads string levels of old room versions and drops values that are not integers', () => {
    const pl = decodePowerLevels({ users: { [A]: '100', [B]: 'lots', [C]: 50.5 }, kick: ' 75 ' });
    expect(pl.users).toEqual({ [A]: 100 });
    expect(pl.kick).toBe(75);
  });

  it('gives the creator 100 and everyone state rights when the room has no power levels event', () => {
    const ctx: PowerContext = { creators: [A], version: '10' };
    expect(powerOf(ctx, A)).toBe(100);
    expect(powerOf(ctx, B)).toBe(0);
    expect(canSendState(ctx, B, 'm.room.name')).toBe(true);
    expect(can(ctx, B, 'kick')).toBe(false);
  });

  it('answers who may kick, ban and change state from the levels', () => {
    const ctx: PowerContext = {
      creators: [A],
      version: '10',
      powerLevels: decodePowerLevels({ users: { [A]: 100, [B]: 50 }, events: { 'm.room.name': 75 }, kick: 40 }),
    };
    expect(can(ctx, B, 'kick')).toBe(true);
    expect(can(ctx, B, 'ban')).toBe(true);
    expect(can(ctx, C, 'kick')).toBe(false);
    expect(canSendState(ctx, B, 'm.room.name')).toBe(false);
    expect(canSendState(ctx, B, 'm.room.topic')).toBe(true);
    expect(canSendState(ctx, A, 'm.room.name')).toBe(true);
  });

  it('gives room version 12 creators unlimited power whatever the users map says', () => {
    const ctx: PowerContext = { creators: [A, B], version: '12', powerLevels: decodePowerLevels({ users: { [B]: 0, [C]: 100 } }) };
    expect(powerOf(ctx, A)).toBe(Infinity);
    expect(powerOf(ctx, B)).toBe(Infinity);
    expect(roleOf(powerOf(ctx, B))).toBe('creator');
    expect(staffOf(ctx)).toEqual({ creators: [A, B], admins: [C], moderators: [] });
  });

  it('does not privilege the creator before version 12 once power levels exist', () => {
    const ctx: PowerContext = { creators: [A], version: '11', powerLevels: decodePowerLevels({ users: { [B]: 100 } }) };
    expect(powerOf(ctx, A)).toBe(0);
    expect(staffOf(ctx)).toEqual({ creators: [], admins: [B], moderators: [] });
  });

  it('lists users at 50 or more as moderators and at 100 or more as admins', () => {
    const ctx: PowerContext = { creators: [], powerLevels: decodePowerLevels({ users: { [A]: 100, [B]: 50, [C]: 49 } }) };
    expect(staffOf(ctx)).toEqual({ creators: [], admins: [A], moderators: [B] });
  });
});
