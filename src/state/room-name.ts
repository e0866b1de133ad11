import type { UserId } from './ids.js';
import { displayNames, type NamedMember } from './member-names.js';

/**
 * The room's display name as clients compute it (spec, client-server API: "Calculating the
 * display name for a room"; matrix-rust-sdk's `compute_display_name` is the model). Pure.
 */

/** How many heroes a name is built from when the server sends none (spec: up to 5). */
export const MAX_HEROES = 5;

export interface RoomNameInput {
  name?: string;
  canonicalAlias?: string;
  /** `summary.m.heroes` as the server last sent it; the members decide when absent. */
  heroes?: readonly UserId[];
  /** `summary.m.joined_member_count` / `m.invited_member_count`, when the server sent them. */
  joinedCount?: number;
  invitedCount?: number;
  /** The members as stored, every kind; names of heroes come from here. */
  members: readonly NamedMember[];
  /** The bot, which, like the spec's "current user", is never one of the heroes. */
  botUserId: UserId;
}

/** The computed name and where it came from. */
export interface RoomDisplayName {
  text: string;
  source: 'name' | 'alias' | 'heroes' | 'empty';
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** "A", "A and B", "A, B and C"; with `more`, "A, B and 3 others". */
export function listNames(names: readonly string[], more = 0): string {
  const parts = more > 0 ? [...names, `${more} ${more === 1 ? 'other' : 'others'}`] : [...names];
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}

/** The room's name as a client shows it. */
export function roomDisplayName(input: RoomNameInput): RoomDisplayName {
  if (input.name !== undefined && input.name.trim() !== '') return { text: input.name, source: 'name' };
  if (input.canonicalAlias !== undefined && input.canonicalAlias !== '') return { text: input.canonicalAlias, source: 'alias' };

  const bot = input.botUserId;
  const inRoom = (m: NamedMember) => m.membership === 'join' || m.membership === 'invite';
  const others = input.members.filter((m) => m.userId !== bot);
  const joined = input.joinedCount ?? input.members.filter((m) => m.membership === 'join').length;
  const invited = input.invitedCount ?? input.members.filter((m) => m.membership === 'invite').length;
  // The counts include the current user (spec); when we count ourselves, only if the bot is in.
  const botCounted = input.joinedCount !== undefined || input.members.some((m) => m.userId === bot && inRoom(m));
  const othersCount = Math.max(0, joined + invited - (botCounted ? 1 : 0));

  let heroes: UserId[];
  if (input.heroes !== undefined && input.heroes.length > 0) {
    heroes = input.heroes.filter((u) => u !== bot);
  } else {
    // Spec: with no one else joined or invited, the heroes are those who left ("Empty room (was …)").
    const present = others.filter(inRoom);
    const pool = present.length > 0 ? present : others.filter((m) => m.membership === 'leave' || m.membership === 'ban');
    heroes = pool
      .map((m) => m.userId)
      .sort(byCodeUnit)
      .slice(0, MAX_HEROES);
  }

  const shown = displayNames(input.members);
  const names = heroes.map((u) => shown.get(u) ?? u);
  if (othersCount === 0) {
    return { text: names.length > 0 ? `Empty room (was ${listNames(names)})` : 'Empty room', source: 'empty' };
  }
  if (names.length === 0) return { text: `${othersCount + (botCounted ? 1 : 0)} people`, source: 'heroes' };
  return { text: listNames(names, Math.max(0, othersCount - names.length)), source: 'heroes' };
}
