import { describe, expect, it } from 'vitest';
import type { UserId } from '../../src/state/ids.js';
import type { Membership } from '../../src/state/events.js';
import { displayNames, looksLikeUserId, type NamedMember } from '../../src/state/member-names.js';

const m = (userId: string, displayName?: string, membership: Membership = 'join'): NamedMember => ({
  userId: userId as UserId,
  membership,
  ...(displayName === undefined ? {} : { displayName }),
});

describe('displayNames', () => {
  it('shows a unique display name as it is', () => {
    expect(displayNames([m('@a:x', 'Alice'), m('@b:x', 'Bob')]).get('@a:x' as UserId)).toBe('Alice');
  });

  it('shows the user id when there is no display name', () => {
    expect(displayNames([m('@a:x')]).get('@a:x' as UserId)).toBe('@a:x');
  });

  it('adds the user id to a name two joined or invited members share', () => {
    const shown = displayNames([m('@a:x', 'Sam'), m('@b:x', 'Sam', 'invite'), m('@c:x', 'Cleo')]);
    expect(shown.get('@a:x' as UserId)).toBe('Sam (@a:x)');
    expect(shown.get('@b:x' as UserId)).toBe('Sam (@b:x)');
    expect(shown.get('@c:x' as UserId)).toBe('Cleo');
  });

  it('treats names that differ only in case or invisible characters as the same', () => {
    const shown = displayNames([m('@a:x', 'Sam'), m('@b:x', 's\u200bAM')]);
    expect(shown.get('@a:x' as UserId)).toBe('Sam (@a:x)');
  });

  it('does not let a member who left make a joined member ambiguous', () => {
    const shown = displayNames([m('@a:x', 'Sam'), m('@b:x', 'Sam', 'leave')]);
    expect(shown.get('@a:x' as UserId)).toBe('Sam');
    expect(shown.get('@b:x' as UserId)).toBe('Sam (@b:x)');
  });

  it('disambiguates a display name that reads like someone else\'s user id', () => {
    const shown = displayNames([m('@mallory:x', '@admin:x'), m('@self:x', '@self:x')]);
    expect(shown.get('@mallory:x' as UserId)).toBe('@admin:x (@mallory:x)');
    expect(shown.get('@self:x' as UserId)).toBe('@self:x');
  });
});

describe('looksLikeUserId', () => {
  it('recognises @localpart:server and nothing looser', () => {
    expect(looksLikeUserId('@admin:example.org')).toBe(true);
    expect(looksLikeUserId('@ admin')).toBe(false);
    expect(looksLikeUserId('Alice @ home')).toBe(false);
  });
});
