import { z } from 'zod';
import { eventIdSchema, roomIdSchema, userIdSchema, type EventId, type UserId } from './ids.js';
import { MEMBERSHIPS, type Membership } from './events.js';

const level = z.number().int();
const powerLevelsSchema = z.strictObject({
  users: z.record(z.string(), level),
  usersDefault: level,
  events: z.record(z.string(), level),
  eventsDefault: level,
  stateDefault: level,
  ban: level,
  kick: level,
  redact: level,
  invite: level,
});

/**
 * What roomkeeper knows about a room besides its members. Every field added after schema 1 is
 * optional, so a record written by schema 1 still reads.
 */
export const roomInfoSchema = z.strictObject({
  roomId: roomIdSchema,
  name: z.string().optional(),
  canonicalAlias: z.string().optional(),
  topic: z.string().optional(),
  encrypted: z.boolean(),
  /**
   * A membership event or a block of this room could not be read: who is in it is not known,
   * so the room is never taken for a private DM. Cleared when the room is rebuilt from its state.
   */
  membershipUncertain: z.literal(true).optional(),
  /** `room_version` of `m.room.create` ("1" when the event has none). */
  version: z.string().optional(),
  /** From `m.room.create`: its creator, or from version 12 its sender and `additional_creators`. */
  creators: z.array(userIdSchema).optional(),
  /** `type` of `m.room.create`: `m.space` for a space. */
  roomType: z.string().optional(),
  /** The room this one replaced (`m.room.create` predecessor). */
  predecessor: z.strictObject({ roomId: roomIdSchema, eventId: eventIdSchema.optional() }).optional(),
  /** The room that replaced this one (`m.room.tombstone`). */
  successor: z.strictObject({ roomId: roomIdSchema, body: z.string().optional() }).optional(),
  joinRule: z.string().optional(),
  historyVisibility: z.string().optional(),
  guestAccess: z.string().optional(),
  powerLevels: powerLevelsSchema.optional(),
  /** Spaces this room names as its parents (`m.space.parent` with a `via`), sorted. */
  spaceParents: z.array(roomIdSchema).optional(),
  /** Rooms this space lists as children (`m.space.child` with a `via`), sorted. */
  spaceChildren: z.array(roomIdSchema).optional(),
  /** `summary` of the last /sync that sent one: heroes and the counts the server computed. */
  heroes: z.array(userIdSchema).optional(),
  joinedCount: z.number().int().nonnegative().optional(),
  invitedCount: z.number().int().nonnegative().optional(),
  /**
   * The current event of each tracked state key (`stateKeyOf`): what a redaction or a state
   * block's event is compared with.
   */
  stateIds: z.record(z.string(), eventIdSchema).optional(),
  /** origin_server_ts of each of those events: a re-delivered timeline event older than it is skipped. */
  stateTs: z.record(z.string(), z.number()).optional(),
  /** Migrated from schema 1, which held no profiles or power levels: the reconciler re-reads it. */
  needsRefresh: z.literal(true).optional(),
  /** origin_server_ts of the bot's join event that created this record, when known. */
  joinedAt: z.number().optional(),
  /** Local time (ms) of the last change to this record or its members. */
  updatedAt: z.number(),
});

export type RoomInfo = z.infer<typeof roomInfoSchema>;

/** The key of `RoomInfo.stateIds` for a (type, state_key). */
export function stateKeyOf(type: string, stateKey = ''): string {
  return stateKey === '' ? type : `${type}#${stateKey}`;
}

/** A user's membership of a room and the profile its member event gives, as stored. */
export interface MemberState {
  membership: Membership;
  /** The current `m.room.member` event; absent for records migrated from schema 1. */
  eventId?: EventId;
  displayName?: string;
  avatarUrl?: string;
  /** origin_server_ts of that event. */
  ts?: number;
}

/** A member of a room as stored: the user, their membership and their profile in that room. */
export interface Member extends MemberState {
  userId: UserId;
}

const MEMBERSHIP_SET: ReadonlySet<string> = new Set(MEMBERSHIPS);

/**
 * The stored form of a MemberState: a JSON array `[membership, eventId, displayName, avatarUrl,
 * ts]` with trailing absent fields dropped (absent strings in between are 0). Compact, and a reader can tell a joined member by its
 * prefix alone (`isJoinedValue`).
 */
export function encodeMember(m: MemberState): string {
  const parts: (string | number)[] = [m.membership, m.eventId ?? 0, m.displayName ?? 0, m.avatarUrl ?? 0, m.ts ?? 0];
  while (parts.length > 1 && parts.at(-1) === 0) parts.pop();
  return JSON.stringify(parts);
}

const JOINED_PREFIX = '["join"';

/** Whether a stored member value is a joined member, without decoding it. */
export function isJoinedValue(value: string): boolean {
  return value.startsWith(JOINED_PREFIX);
}

/** Decodes a stored member value; undefined when it is not one (a corrupt record). */
export function decodeMember(value: string): MemberState | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(value);
  } catch {
    // A corrupt value is reported by the caller, which knows the key.
    return undefined;
  }
  if (!Array.isArray(parts) || typeof parts[0] !== 'string' || !MEMBERSHIP_SET.has(parts[0])) return undefined;
  const [membership, eventId, displayName, avatarUrl, ts] = parts as unknown[];
  const m: MemberState = { membership: membership as Membership };
  if (typeof eventId === 'string') m.eventId = eventId as EventId;
  if (typeof displayName === 'string') m.displayName = displayName;
  if (typeof avatarUrl === 'string') m.avatarUrl = avatarUrl;
  if (typeof ts === 'number' && ts > 0) m.ts = ts;
  return m;
}
