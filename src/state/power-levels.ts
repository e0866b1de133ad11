import type { UserId } from './ids.js';
import { hasPrivilegedCreators } from './room-version.js';

/**
 * `m.room.power_levels` as roomkeeper keeps it, and what it means: who may kick, ban, redact,
 * invite or change which state, and who counts as moderator or admin. Pure.
 */

/** The parts of `m.room.power_levels` that the redaction algorithm keeps, decoded. */
export interface PowerLevels {
  users: Readonly<Record<string, number>>;
  usersDefault: number;
  events: Readonly<Record<string, number>>;
  eventsDefault: number;
  stateDefault: number;
  ban: number;
  kick: number;
  redact: number;
  invite: number;
}

/** The spec's defaults for keys an `m.room.power_levels` event leaves out. */
export const POWER_LEVEL_DEFAULTS: PowerLevels = {
  users: {},
  usersDefault: 0,
  events: {},
  eventsDefault: 0,
  stateDefault: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
};

/**
 * What applies when a room has no `m.room.power_levels` at all: everyone may send state
 * (state_default 0) and the creator holds 100 (spec: "m.room.power_levels", and the
 * authorization rules).
 */
const WITHOUT_EVENT: PowerLevels = { ...POWER_LEVEL_DEFAULTS, stateDefault: 0 };

export const MODERATOR_LEVEL = 50;
export const ADMIN_LEVEL = 100;

/** A power level as an integer: a number, or (rooms before version 10) a string of digits. */
function level(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function levels(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const n = level(raw);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/**
 * Decodes the content of an `m.room.power_levels` event; values that are not integers count as
 * absent (their defaults apply), as the authorization rules of old room versions read them.
 */
export function decodePowerLevels(content: Readonly<Record<string, unknown>>): PowerLevels {
  const d = POWER_LEVEL_DEFAULTS;
  return {
    users: levels(content.users),
    usersDefault: level(content.users_default) ?? d.usersDefault,
    events: levels(content.events),
    eventsDefault: level(content.events_default) ?? d.eventsDefault,
    stateDefault: level(content.state_default) ?? d.stateDefault,
    ban: level(content.ban) ?? d.ban,
    kick: level(content.kick) ?? d.kick,
    redact: level(content.redact) ?? d.redact,
    invite: level(content.invite) ?? d.invite,
  };
}

/** Who holds power in a room: its power levels (if any), its creators and its version. */
export interface PowerContext {
  powerLevels?: PowerLevels;
  /** The create event's creator(s): from room version 12, its sender and `additional_creators`. */
  creators: readonly UserId[];
  version?: string;
}

/** The power context of a room as stored (its power levels, creators and version). */
export function powerContextOf(info: { powerLevels?: PowerLevels; creators?: readonly UserId[]; version?: string } | undefined): PowerContext {
  const ctx: PowerContext = { creators: info?.creators ?? [] };
  if (info?.powerLevels !== undefined) ctx.powerLevels = info.powerLevels;
  if (info?.version !== undefined) ctx.version = info.version;
  return ctx;
}

/** A user's power level in the room; `Infinity` for a creator from room version 12. */
export function powerOf(ctx: PowerContext, userId: UserId): number {
  const isCreator = ctx.creators.includes(userId);
  if (isCreator && hasPrivilegedCreators(ctx.version)) return Infinity;
  if (ctx.powerLevels === undefined) return isCreator ? ADMIN_LEVEL : WITHOUT_EVENT.usersDefault;
  return ctx.powerLevels.users[userId] ?? ctx.powerLevels.usersDefault;
}

/** How a client labels a power level. */
export type Role = 'creator' | 'admin' | 'moderator' | 'user';

/** The role a power level stands for: creator (unlimited), admin (≥ 100), moderator (≥ 50), user. */
export function roleOf(power: number): Role {
  if (power === Infinity) return 'creator';
  if (power >= ADMIN_LEVEL) return 'admin';
  if (power >= MODERATOR_LEVEL) return 'moderator';
  return 'user';
}

/** The actions with a level of their own in `m.room.power_levels`. */
export type PowerAction = 'kick' | 'ban' | 'redact' | 'invite';

function effective(ctx: PowerContext): PowerLevels {
  return ctx.powerLevels ?? WITHOUT_EVENT;
}

/** Whether the user's power reaches the level the action needs. */
export function can(ctx: PowerContext, userId: UserId, action: PowerAction): boolean {
  return powerOf(ctx, userId) >= effective(ctx)[action];
}

/** Whether the user may send a state event of this type. */
export function canSendState(ctx: PowerContext, userId: UserId, type: string): boolean {
  const pl = effective(ctx);
  return powerOf(ctx, userId) >= (pl.events[type] ?? pl.stateDefault);
}

/** The room's staff: creators (version 12), admins and moderators, each sorted by user id. */
export interface Staff {
  creators: UserId[];
  admins: UserId[];
  moderators: UserId[];
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Who moderates the room: the users the power levels list at 50 or more, and the creators
 * (admins when the version gives them no more than 100, without a power levels event).
 */
export function staffOf(ctx: PowerContext): Staff {
  const staff: Staff = { creators: [], admins: [], moderators: [] };
  const users = new Set<string>([...Object.keys(ctx.powerLevels?.users ?? {}), ...ctx.creators]);
  for (const user of users) {
    const role = roleOf(powerOf(ctx, user as UserId));
    if (role === 'creator') staff.creators.push(user as UserId);
    else if (role === 'admin') staff.admins.push(user as UserId);
    else if (role === 'moderator') staff.moderators.push(user as UserId);
  }
  staff.creators.sort(byCodeUnit);
  staff.admins.sort(byCodeUnit);
  staff.moderators.sort(byCodeUnit);
  return staff;
}
