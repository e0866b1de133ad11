import { describe, expect, it } from 'vitest';
import type { EventId, RoomId, UserId } from '../../src/state/ids.js';
import { afterPrefix, guardKey, headOf, prefixRange, roomUserKey, suffixOf, timeKey, timeKeyBefore, userRoomKey } from '../../src/store/keys.js';

/** LevelDB orders keys by their UTF-8 bytes, not by JavaScript string order. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function inRange(key: string, range: { gte: string; lt: string }): boolean {
  return byteCompare(key, range.gte) >= 0 && byteCompare(key, range.lt) < 0;
}

const room = (s: string) => s as RoomId;
const user = (s: string) => s as UserId;

describe('keys', () => {
  it('keeps the keys of a room out of the range of a room whose id is a prefix of it', () => {
    const short = prefixRange(room('!a:x'));
    expect(inRange(roomUserKey(room('!a:x'), user('@u:x')), short)).toBe(true);
    for (const other of ['!a:xy', '!a:x0', '!a:x~', '!a:x\u00e9', '!a:x\u00fe', '!a:x\u0100', '!a:x\u4e16', '!a:x\u{1f600}']) {
      expect(inRange(roomUserKey(room(other), user('@u:x')), short), other).toBe(false);
    }
  });

  it('keeps the rooms of a user out of the range of a user whose id is a prefix of it', () => {
    const range = prefixRange(user('@al:x'));
    expect(inRange(userRoomKey(user('@al:x'), room('!r:x')), range)).toBe(true);
    expect(inRange(userRoomKey(user('@al:xy'), room('!r:x')), range)).toBe(false);
    expect(inRange(userRoomKey(user('@alice:x'), room('!r:x')), prefixRange(user('@al:x')))).toBe(false);
    expect(inRange(userRoomKey(user('@al:x'), room('!r:x')), prefixRange(user('@alice:x')))).toBe(false);
  });

  it('includes every continuation of an id in its range when the continuation follows the separator', () => {
    const range = prefixRange(room('!a:x'));
    for (const u of ['@a:x', '@\u00ff\u00ff:x', '@\u{10ffff}:x', '@zzzz:x']) {
      expect(inRange(roomUserKey(room('!a:x'), user(u)), range), u).toBe(true);
    }
  });

  it('guards one event of one room when the guard key is built', () => {
    expect(guardKey(room('!r:x'), '$e' as EventId)).not.toBe(guardKey(room('!r:x2'), '$e' as EventId));
    expect(headOf(guardKey(room('!r:x'), '$e' as EventId))).toBe('!r:x');
    expect(suffixOf(guardKey(room('!r:x'), '$e' as EventId))).toBe('$e');
  });

  it('splits a two-part key back into its ids', () => {
    const key = userRoomKey(user('@alice:x'), room('!r:x'));
    expect(headOf(key)).toBe('@alice:x');
    expect(suffixOf(key)).toBe('!r:x');
    expect(headOf('no-separator')).toBe('no-separator');
  });

  it('orders time keys by time, then by commit sequence, when compared as bytes', () => {
    const keys = [timeKey(9, 2), timeKey(10, 1), timeKey(9, 10), timeKey(1_700_000_000_000, 0), timeKey(0, 0)];
    const sorted = [...keys].sort(byteCompare);
    expect(sorted).toEqual([timeKey(0, 0), timeKey(9, 2), timeKey(9, 10), timeKey(10, 1), timeKey(1_700_000_000_000, 0)]);
  });

  it('selects exactly the commits made before the cutoff when timeKeyBefore bounds a range', () => {
    const bound = timeKeyBefore(1000);
    expect(byteCompare(timeKey(999, 99), bound)).toBeLessThan(0);
    expect(byteCompare(timeKey(1000, 0), bound)).toBeGreaterThanOrEqual(0);
    expect(byteCompare(timeKey(1001, 0), bound)).toBeGreaterThan(0);
    expect(byteCompare(timeKey(0, 0), timeKeyBefore(-5))).toBeGreaterThanOrEqual(0);
  });

  it('seeks past every key of an id when afterPrefix is used, and no further', () => {
    const after = afterPrefix('@al:x');
    expect(byteCompare(userRoomKey(user('@al:x'), room('!zzz:x')), after)).toBeLessThan(0);
    expect(byteCompare(userRoomKey(user('@al:x\u4e16'), room('!a:x')), after)).toBeGreaterThan(0);
  });
});
