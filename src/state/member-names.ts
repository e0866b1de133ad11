import type { UserId } from './ids.js';
import type { Membership } from './events.js';

/**
 * Member display names as clients show them (spec, client-server API: "Calculating the display
 * name for a user"). Pure.
 */

/** A room member as the name rules need it. */
export interface NamedMember {
  userId: UserId;
  membership: Membership;
  displayName?: string;
}

// Zero-width characters a name can hide in; they make two names look alike.
const INVISIBLE = /[\u200b-\u200d\u2060\ufeff\u00ad]/g;

/**
 * The form two names are compared in: NFKC, case-folded, without invisible characters or
 * surrounding space. Spec asks for exact equality; names that only a font tells apart are as
 * ambiguous to a reader, and matrix-rust-sdk compares a normalized form too.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase();
}

/** Whether a display name reads like a Matrix user id (`@localpart:server`). */
export function looksLikeUserId(name: string): boolean {
  return /^@[^\s:]+:\S+$/.test(name.normalize('NFKC').replace(INVISIBLE, '').trim());
}

/** Only joined and invited members take part in a name clash (spec). */
function competes(m: NamedMember): boolean {
  return m.membership === 'join' || m.membership === 'invite';
}

/**
 * The name each member is shown by: the display name when no other joined or invited member
 * uses the same one and it does not read like a user id; "name (@user:id)" when it is
 * ambiguous; the user id when there is no display name.
 */
export function displayNames(members: readonly NamedMember[]): Map<UserId, string> {
  const uses = new Map<string, number>();
  for (const m of members) {
    if (m.displayName === undefined || !competes(m)) continue;
    const key = nameKey(m.displayName);
    uses.set(key, (uses.get(key) ?? 0) + 1);
  }
  const shown = new Map<UserId, string>();
  for (const m of members) {
    const name = m.displayName;
    if (name === undefined || nameKey(name) === '') {
      shown.set(m.userId, m.userId);
      continue;
    }
    // A member outside the room clashes with any one inside it; one inside, with another.
    const clashes = (uses.get(nameKey(name)) ?? 0) > (competes(m) ? 1 : 0);
    const impersonates = looksLikeUserId(name) && name.trim() !== m.userId;
    shown.set(m.userId, clashes || impersonates ? `${name} (${m.userId})` : name);
  }
  return shown;
}

/**
 * The name to write before a member's user id: the shown name without the id a disambiguated
 * one already carries, or undefined when the member is shown by the id alone.
 */
export function nameBesideId(shown: string | undefined, userId: UserId): string | undefined {
  if (shown === undefined || shown === userId) return undefined;
  const suffix = ` (${userId})`;
  return shown.endsWith(suffix) ? shown.slice(0, -suffix.length) : shown;
}
