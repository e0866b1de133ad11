import { describe, expect, it } from 'vitest';
import type { UserId } from '../../src/state/ids.js';
import type { Membership } from '../../src/state/events.js';
import type { NamedMember } from '../../src/state/member-names.js';
import { listNames, roomDisplayName, type RoomNameInput } from '../../src/state/room-name.js';

const BOT = '@bot:x' as UserId;
const m = (userId: string, membership: Membership = 'join', displayName?: string): NamedMember => ({
  userId: userId as UserId,
  membership,
  ...(displayName === undefined ? {} : { displayName }),
});

function nameOf(input: Partial<RoomNameInput> & { members: NamedMember[] }): string {
  return roomDisplayName({ botUserId: BOT, ...input }).text;
}

describe('roomDisplayName', () => {
  it('uses m.room.name when the room has one', () => {
    expect(nameOf({ name: 'Lounge', canonicalAlias: '#lounge:x', members: [m('@bot:x'), m('@a:x', 'join', 'Alice')] })).toBe('Lounge');
  });

  it('falls back to the canonical alias when the name is missing or blank', () => {
    expect(nameOf({ name: '  ', canonicalAlias: '#lounge:x', members: [m('@bot:x')] })).toBe('#lounge:x');
  });

  it('names a DM after its other member and leaves the bot out', () => {
    expect(nameOf({ members: [m('@bot:x', 'join', 'Roomkeeper'), m('@alice:x', 'join', 'Alice Liddell')] })).toBe('Alice Liddell');
  });

  it('lists two others as "Alice and Bob", invited members included', () => {
    expect(nameOf({ members: [m('@bot:x'), m('@a:x', 'join', 'Alice'), m('@b:x', 'invite', 'Bob')] })).toBe('Alice and Bob');
  });

  it('shows the user id of a hero without a display name', () => {
    expect(nameOf({ members: [m('@bot:x'), m('@carol:x')] })).toBe('@carol:x');
  });

  it('uses the server heroes and counts when the summary has them: "Alice, Bob and 3 others"', () => {
    const members = [m('@bot:x'), m('@a:x', 'join', 'Alice'), m('@b:x', 'join', 'Bob')];
    expect(nameOf({ heroes: ['@a:x', '@b:x'] as UserId[], joinedCount: 5, invitedCount: 1, members })).toBe('Alice, Bob and 3 others');
  });

  it('takes at most five heroes from the members and counts the rest', () => {
    const members = [m('@bot:x'), ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((c) => m(`@${c}:x`, 'join', c.toUpperCase()))];
    expect(nameOf({ members })).toBe('A, B, C, D, E and 2 others');
  });

  it('says "Empty room (was Alice)" when everyone else has left', () => {
    expect(nameOf({ members: [m('@bot:x'), m('@a:x', 'leave', 'Alice'), m('@b:x', 'ban', 'Bob')] })).toBe('Empty room (was Alice and Bob)');
    expect(nameOf({ members: [m('@bot:x'), m('@a:x', 'leave', 'Alice')] })).toBe('Empty room (was Alice)');
  });

  it('says "Empty room" when the bot is alone and no one ever was there', () => {
    expect(nameOf({ members: [m('@bot:x')] })).toBe('Empty room');
  });

  it('disambiguates heroes that share a display name', () => {
    expect(nameOf({ members: [m('@bot:x'), m('@a:x', 'join', 'Sam'), m('@b:x', 'join', 'Sam')] })).toBe('Sam (@a:x) and Sam (@b:x)');
  });

  it('never counts the bot among the server heroes', () => {
    const members = [m('@bot:x'), m('@a:x', 'join', 'Alice')];
    expect(nameOf({ heroes: ['@bot:x', '@a:x'] as UserId[], joinedCount: 2, invitedCount: 0, members })).toBe('Alice');
  });
});

describe('listNames', () => {
  it('joins names the way the reply reads them', () => {
    expect(listNames(['A'])).toBe('A');
    expect(listNames(['A', 'B'])).toBe('A and B');
    expect(listNames(['A', 'B', 'C'])).toBe('A, B and C');
    expect(listNames(['A'], 1)).toBe('A and 1 other');
  });
});
