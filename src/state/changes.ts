import type { Membership } from './events.js';
import type { EventId, RoomId, UserId } from './ids.js';
import type { PowerLevels } from './power-levels.js';
import type { MemberState, RoomInfo } from './room-info.js';

/**
 * The change log's entries: what a commit changed in the record, derived purely from what the
 * store held before a plan and what the plan writes. A change exists only where the stored state
 * moves, and it is written in the same batch as that move: a response read again moves nothing
 * and so logs nothing, and no stored transition is logged twice.
 */

/**
 * What happened to a membership. From `leave`: `left` when the user sent it, `kicked` when
 * someone else did (a refused knock included); from `ban`, `unbanned`; from `invite`,
 * `invite-rejected` (the invitee said no) or `invite-withdrawn` (someone else took it back).
 */
export type MemberChangeKind = 'joined' | 'left' | 'kicked' | 'banned' | 'unbanned' | 'invited' | 'invite-rejected' | 'invite-withdrawn' | 'knocked';

export const MEMBER_CHANGE_KINDS: readonly MemberChangeKind[] = [
  'joined',
  'left',
  'kicked',
  'banned',
  'unbanned',
  'invited',
  'invite-rejected',
  'invite-withdrawn',
  'knocked',
];

/** Every kind of change: a membership, a member's profile, a room's state, a room rebuilt. */
export type ChangeKind = MemberChangeKind | 'profile' | 'room' | 'rebuilt';

/**
 * Why the record changed: a new `event`; a `state-reset` (the server's resolved state moved to an
 * event the guard had seen); a `redaction` of the current state event; a `snapshot` (the bot
 * joined and the room was rebuilt from the response); `reconcile` (rebuilt from the server's
 * `/state`, or forgotten because the bot is no longer in it).
 */
export type ChangeCause = 'event' | 'state-reset' | 'redaction' | 'snapshot' | 'reconcile';

/** The room state fields whose changes are logged. */
export type RoomField = 'name' | 'topic' | 'alias' | 'encryption' | 'power-levels' | 'tombstone';

interface Base {
  roomId: RoomId;
  /** origin_server_ts of the event behind the change; for a rebuild, the commit's local time. */
  ts: number;
  cause: ChangeCause;
}

export interface MemberChange extends Base {
  kind: MemberChangeKind;
  userId: UserId;
  /** The stored membership before; `none` when the store held none. */
  from: Membership | 'none';
  to: Membership;
  sender: UserId;
  reason?: string;
  /** The display name the member event gives, when it gives one (a join's, say). */
  displayName?: string;
  eventId: EventId;
  /** The bot itself left, was kicked or was banned: the room's record was purged with it. */
  purged?: true;
}

export interface ProfileChange extends Base {
  kind: 'profile';
  userId: UserId;
  /** Who sent the event; for a redaction, who redacted. */
  sender: UserId;
  eventId: EventId;
  displayName?: { from?: string; to?: string };
  avatarUrl?: { from?: string; to?: string };
}

export interface RoomChange extends Base {
  kind: 'room';
  field: RoomField;
  /** The text before and after (name, topic, alias, the replacement room of a tombstone). */
  from?: string;
  to?: string;
  /** For power levels: the users whose level changed, as [before, after] (null: the default). */
  users?: Record<string, [number | null, number | null]>;
  sender?: UserId;
  eventId?: EventId;
}

/** One membership a rebuild changed. */
export interface RebuiltMember {
  userId: UserId;
  from: Membership | 'none';
  to: Membership | 'none';
}

export interface RebuildChange extends Base {
  kind: 'rebuilt';
  /** Users who are joined after the rebuild and were not before. */
  joined: number;
  /** Users who were joined before and are not after. */
  left: number;
  /** Other memberships that moved (invites, bans, knocks). */
  other: number;
  /** The first MAX_REBUILT_LISTED of those changes, by user id. */
  members: RebuiltMember[];
  /** The room was forgotten: the bot is no longer in it. */
  purged?: true;
}

/** A change as the reducer derives it, before the store gives it its place in the log. */
export type ChangeDraft = MemberChange | ProfileChange | RoomChange | RebuildChange;

/** A stored change: its draft, its cursor in the log and the local time it was committed. */
export type Change = ChangeDraft & {
  /** Where the change is in the log: opaque, and in the order of the log as plain strings. */
  cursor: string;
  /** Local time (ms) of the commit that logged it. */
  at: number;
};

/** Most memberships a rebuild change lists; the counts cover the rest. */
export const MAX_REBUILT_LISTED = 20;

/** What a membership event did, given the stored membership before it; undefined when nothing moved. */
export function memberChangeKind(from: Membership | 'none', to: Membership, sender: UserId, userId: UserId): MemberChangeKind | undefined {
  if (from === to) return undefined;
  switch (to) {
    case 'join':
      return 'joined';
    case 'invite':
      return 'invited';
    case 'knock':
      return 'knocked';
    case 'ban':
      return 'banned';
    case 'leave':
      if (from === 'ban') return 'unbanned';
      if (from === 'invite') return sender === userId ? 'invite-rejected' : 'invite-withdrawn';
      return sender === userId ? 'left' : 'kicked';
  }
}

/** Whether a change is about a membership (as opposed to a profile, a room or a rebuild). */
export function isMemberChange(c: ChangeDraft): c is MemberChange {
  return c.kind !== 'profile' && c.kind !== 'room' && c.kind !== 'rebuilt';
}

/** The user a change is about, when it is about one (the per-user history's key). */
export function userOfChange(c: ChangeDraft): UserId | undefined {
  return c.kind === 'room' || c.kind === 'rebuilt' ? undefined : c.userId;
}

/** The profile change between two stored states of a joined member, or undefined when the profile is the same. */
export function profileDiff(before: MemberState | undefined, after: MemberState): Pick<ProfileChange, 'displayName' | 'avatarUrl'> | undefined {
  const out: Pick<ProfileChange, 'displayName' | 'avatarUrl'> = {};
  if (before?.displayName !== after.displayName) out.displayName = withDefined(before?.displayName, after.displayName);
  if (before?.avatarUrl !== after.avatarUrl) out.avatarUrl = withDefined(before?.avatarUrl, after.avatarUrl);
  return out.displayName === undefined && out.avatarUrl === undefined ? undefined : out;
}

function withDefined(from: string | undefined, to: string | undefined): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  return out;
}

function textOf(info: RoomInfo | undefined, field: RoomField): string | undefined {
  switch (field) {
    case 'name':
      return info?.name;
    case 'topic':
      return info?.topic;
    case 'alias':
      return info?.canonicalAlias;
    case 'encryption':
      return info?.encrypted === true ? 'encrypted' : undefined;
    case 'tombstone':
      return info?.successor?.roomId;
    case 'power-levels':
      return undefined;
  }
}

/** The logged field a tracked state key belongs to, if any. */
export function roomFieldOf(stateKey: string): RoomField | undefined {
  switch (stateKey) {
    case 'm.room.name':
      return 'name';
    case 'm.room.topic':
      return 'topic';
    case 'm.room.canonical_alias':
      return 'alias';
    case 'm.room.encryption':
      return 'encryption';
    case 'm.room.power_levels':
      return 'power-levels';
    case 'm.room.tombstone':
      return 'tombstone';
    default:
      return undefined;
  }
}

function powerDiff(a: PowerLevels | undefined, b: PowerLevels | undefined): Record<string, [number | null, number | null]> | undefined {
  const out: Record<string, [number | null, number | null]> = {};
  const users = new Set([...Object.keys(a?.users ?? {}), ...Object.keys(b?.users ?? {})]);
  for (const u of [...users].sort()) {
    const from = a?.users[u] ?? null;
    const to = b?.users[u] ?? null;
    if (from !== to) out[u] = [from, to];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function sameLevels(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

const POWER_SCALARS = ['usersDefault', 'eventsDefault', 'stateDefault', 'ban', 'kick', 'redact', 'invite'] as const;

/** The same levels, whatever order the server sent the `users` and `events` keys in. */
function samePowerLevels(a: PowerLevels | undefined, b: PowerLevels | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return POWER_SCALARS.every((k) => a[k] === b[k]) && sameLevels(a.users, b.users) && sameLevels(a.events, b.events);
}

/** The room change of one field between two RoomInfos, or undefined when the field is the same. */
export function roomFieldChange(
  field: RoomField,
  before: RoomInfo | undefined,
  after: RoomInfo | undefined,
  base: Base & { sender?: UserId; eventId?: EventId },
): RoomChange | undefined {
  if (field === 'power-levels') {
    if (samePowerLevels(before?.powerLevels, after?.powerLevels)) return undefined;
    const users = powerDiff(before?.powerLevels, after?.powerLevels);
    return { ...base, kind: 'room', field, ...(users === undefined ? {} : { users }) };
  }
  const from = textOf(before, field);
  const to = textOf(after, field);
  if (from === to) return undefined;
  const change: RoomChange = { ...base, kind: 'room', field };
  if (from !== undefined) change.from = from;
  if (to !== undefined) change.to = to;
  return change;
}

const ROOM_FIELDS: readonly RoomField[] = ['name', 'topic', 'alias', 'encryption', 'power-levels', 'tombstone'];

/** The room changes between two RoomInfos of one room, field by field (a rebuild of a tracked room). */
export function roomChanges(before: RoomInfo | undefined, after: RoomInfo | undefined, base: Base): RoomChange[] {
  const out: RoomChange[] = [];
  for (const field of ROOM_FIELDS) {
    const c = roomFieldChange(field, before, after, base);
    if (c !== undefined) out.push(c);
  }
  return out;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The rebuild change between the members stored before a rebuild and after it, or undefined when
 * no membership moved. `except` is left out of it: the bot, whose own join is a change of its own.
 */
export function rebuildChange(
  before: ReadonlyMap<UserId, MemberState> | undefined,
  after: ReadonlyMap<UserId, MemberState | undefined>,
  base: Base,
  purged = false,
  except?: UserId,
): RebuildChange | undefined {
  let joined = 0;
  let left = 0;
  let other = 0;
  const moved: RebuiltMember[] = [];
  const users = new Set<UserId>([...(before?.keys() ?? []), ...after.keys()]);
  for (const userId of users) {
    if (userId === except) continue;
    const from = before?.get(userId)?.membership ?? 'none';
    const to = after.get(userId)?.membership ?? 'none';
    if (from === to) continue;
    if (to === 'join') joined++;
    else if (from === 'join') left++;
    else other++;
    moved.push({ userId, from, to });
  }
  if (moved.length === 0) return undefined;
  moved.sort((a, b) => byCodeUnit(a.userId, b.userId));
  const change: RebuildChange = { ...base, kind: 'rebuilt', joined, left, other, members: moved.slice(0, MAX_REBUILT_LISTED) };
  if (purged) change.purged = true;
  return change;
}
