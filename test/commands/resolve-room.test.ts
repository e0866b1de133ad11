import { describe, expect, it } from 'vitest';
import { resolveRoom, type SharedRoom } from '../../src/commands/resolve-room.js';
import { rid } from './fake-rooms.js';

function room(id: string, name?: string, alias?: string): SharedRoom {
  const roomId = rid(id);
  return { roomId, info: { roomId, name, canonicalAlias: alias, encrypted: false, updatedAt: 0 }, memberCount: 2, displayName: name ?? alias ?? roomId };
}

const shared = [
  room('!a:hs', 'Team', '#team:hs'),
  room('!b:hs', 'Team chat', '#chat:hs'),
  room('!c:hs', 'Garden club'),
  room('!d:hs', undefined, '#nameless:hs'),
];

const numberOf = (r: ReturnType<typeof resolveRoom>) => (r.kind === 'found' ? r.room.number : undefined);

describe('resolve-room', () => {
  it('finds a room by id when the id is shared', () => {
    expect(numberOf(resolveRoom('!c:hs', shared))).toBe(3);
  });

  it('finds a room by canonical alias regardless of case', () => {
    expect(numberOf(resolveRoom('#Chat:hs', shared))).toBe(2);
  });

  it('finds a room by its number in the list', () => {
    expect(numberOf(resolveRoom('4', shared))).toBe(4);
  });

  it('finds a room by a case-insensitive name substring when it matches one room', () => {
    expect(numberOf(resolveRoom('GARDEN', shared))).toBe(3);
  });

  it('finds an unnamed room by a substring of its alias when the alias is its label', () => {
    expect(numberOf(resolveRoom('nameless', shared))).toBe(4);
  });

  it('prefers the room whose name is exactly the ref when others only contain it', () => {
    expect(numberOf(resolveRoom('team', shared))).toBe(1);
  });

  it('matches whatever the spacing when the ref has extra whitespace', () => {
    expect(numberOf(resolveRoom('team   CHAT', shared))).toBe(2);
  });

  it('lists the candidates when a substring matches several rooms', () => {
    const r = resolveRoom('ea', shared);
    expect(r.kind).toBe('ambiguous');
    expect(r.kind === 'ambiguous' && r.candidates.map((c) => c.number)).toEqual([1, 2]);
  });

  it('says not-found when a room id is not among the shared rooms', () => {
    expect(resolveRoom('!zzz:hs', shared)).toEqual({ kind: 'not-found', ref: '!zzz:hs' });
  });

  it('says not-found when the number is past the end of the list', () => {
    expect(resolveRoom('5', shared)).toEqual({ kind: 'not-found', ref: '5' });
  });

  it('says not-found when the number is zero', () => {
    expect(resolveRoom('0', shared)).toEqual({ kind: 'not-found', ref: '0' });
  });

  it('says not-found when nothing contains the substring', () => {
    expect(resolveRoom('nonsense', shared)).toEqual({ kind: 'not-found', ref: 'nonsense' });
  });

  it('does not match room ids case-insensitively', () => {
    expect(resolveRoom('!C:hs', shared).kind).toBe('not-found');
  });

  it('takes the only shared room when no ref is given', () => {
    expect(numberOf(resolveRoom(undefined, [room('!x:hs', 'Only')]))).toBe(1);
  });

  it('asks for a ref when none is given and several rooms are shared', () => {
    expect(resolveRoom(undefined, shared)).toEqual({ kind: 'need-ref', sharedCount: 4 });
  });

  it('asks for a ref when none is given and no room is shared', () => {
    expect(resolveRoom('  ', [])).toEqual({ kind: 'need-ref', sharedCount: 0 });
  });
});
