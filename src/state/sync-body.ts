import { roomIdSchema, userIdSchema, type RoomId, type UserId } from './ids.js';
import { isJsonObject } from './json.js';

/** A part of a /sync body that could not be read, by its path (`rooms.invite`, `next_batch`). */
export interface BodyIssue {
  path: string;
  reason: string;
}

/** The sections of a /sync body (v3), each read on its own: a malformed one is an issue and empty. */
export interface SyncSections {
  /** `next_batch` when it is a non-empty string; without it the body must not move the token. */
  nextBatch?: string;
  leave: Record<string, unknown>;
  join: Record<string, unknown>;
  /** `rooms.invite` when it is an object (invitesOf reads each room of it on its own). */
  invite?: Record<string, unknown>;
  issues: BodyIssue[];
}

/** The events of a room's `state` or `timeline` block, read on their own. */
export interface SyncRoomBlocks {
  state: readonly unknown[];
  timeline: readonly unknown[];
  /** `timeline.limited`; a value of the wrong type counts as a gap (the daemon re-reads the room). */
  limited: boolean;
  /** MSC4222 `state_after` events, when the room has a readable such block (see STATE_AFTER_FIELDS). */
  stateAfter?: readonly unknown[];
  /** The room's `summary`, when it has one with anything readable in it (see summaryOf). */
  summary?: RoomSummaryFields;
  issues: BodyIssue[];
}

/** What a room's `summary` says: its heroes and the member counts the server computed. */
export interface RoomSummaryFields {
  heroes?: UserId[];
  joinedCount?: number;
  invitedCount?: number;
}

const SECTIONS = ['leave', 'join', 'invite'] as const;

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'not a plain object' : `a ${typeof v}`;
}

/**
 * Reads the outer shape of a /sync body leniently and in layers: rooms stay raw in a section and
 * events raw in a room, each decoded on its own, so that one bad section, room or event costs
 * only itself and never the rest of the response.
 */
export function sectionsOf(body: unknown): SyncSections {
  const out: SyncSections = { leave: {}, join: {}, issues: [] };
  if (!isJsonObject(body)) {
    out.issues.push({ path: '', reason: `the body is ${kindOf(body)}, not an object` });
    return out;
  }
  const next = body.next_batch;
  if (typeof next === 'string' && next !== '') out.nextBatch = next;
  else if (next !== undefined) out.issues.push({ path: 'next_batch', reason: `is ${next === '' ? 'empty' : kindOf(next)}, not a token` });
  const rooms = body.rooms;
  if (rooms === undefined) return out;
  if (!isJsonObject(rooms)) {
    out.issues.push({ path: 'rooms', reason: `is ${kindOf(rooms)}` });
    return out;
  }
  for (const section of SECTIONS) {
    const byRoom = rooms[section];
    if (byRoom === undefined) continue;
    if (!isJsonObject(byRoom)) {
      out.issues.push({ path: `rooms.${section}`, reason: `is ${kindOf(byRoom)}` });
      continue;
    }
    out[section] = byRoom;
  }
  return out;
}

function eventsOf(block: unknown, path: string, issues: BodyIssue[]): readonly unknown[] {
  if (block === undefined) return [];
  if (!isJsonObject(block)) {
    issues.push({ path, reason: `is ${kindOf(block)}` });
    return [];
  }
  const events = block.events;
  if (events === undefined) return [];
  if (!Array.isArray(events)) {
    issues.push({ path: `${path}.events`, reason: `is ${kindOf(events)}` });
    return [];
  }
  return events;
}

/** The state and timeline events of one room of `rooms.join` or `rooms.leave`, each block on its own. */
export function roomBlocksOf(raw: unknown, path: string): SyncRoomBlocks {
  const issues: BodyIssue[] = [];
  if (!isJsonObject(raw)) {
    issues.push({ path, reason: `is ${kindOf(raw)}` });
    return { state: [], timeline: [], limited: false, issues };
  }
  const state = eventsOf(raw.state, `${path}.state`, issues);
  const timeline = eventsOf(raw.timeline, `${path}.timeline`, issues);
  let limited = false;
  const tl = raw.timeline;
  if (isJsonObject(tl) && tl.limited !== undefined) {
    limited = tl.limited !== false;
    if (typeof tl.limited !== 'boolean') issues.push({ path: `${path}.timeline.limited`, reason: `is ${kindOf(tl.limited)}` });
  }
  const out: SyncRoomBlocks = { state, timeline, limited, issues };
  // Each on its own too: a malformed state_after is an issue of its own, and the room's state
  // and timeline are read as a server without MSC4222 sends them.
  for (const field of STATE_AFTER_FIELDS) {
    if (raw[field] === undefined) continue;
    const before = issues.length;
    const events = eventsOf(raw[field], `${path}.${field}`, issues);
    if (issues.length === before && isJsonObject(raw[field]) && Array.isArray(raw[field].events)) out.stateAfter = events;
    break;
  }
  const summary = summaryOf(raw);
  if (summary !== undefined) out.summary = summary;
  return out;
}

/**
 * MSC4222's `state_after`: the room's state at the end of the timeline, sent instead of `state`
 * when the client asks (`use_state_after=true`, unstable `org.matrix.msc4222.use_state_after`).
 * The stable name first; the unstable one is what servers implementing the MSC send today.
 */
export const STATE_AFTER_FIELDS = ['state_after', 'org.matrix.msc4222.state_after'] as const;

/** A room's `summary` (spec: heroes and member counts), read leniently: what is malformed is left out. */
export function summaryOf(room: Readonly<Record<string, unknown>>): RoomSummaryFields | undefined {
  const s = room.summary;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
  const raw = s as Record<string, unknown>;
  const out: RoomSummaryFields = {};
  if (Array.isArray(raw['m.heroes'])) {
    out.heroes = raw['m.heroes'].flatMap((h) => {
      const id = userIdSchema.safeParse(h);
      return id.success ? [id.data] : [];
    });
  }
  const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
  const joined = count(raw['m.joined_member_count']);
  const invited = count(raw['m.invited_member_count']);
  if (joined !== undefined) out.joinedCount = joined;
  if (invited !== undefined) out.invitedCount = invited;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** An invite of the bot, from a response's `rooms.invite`. Stripped state has no event ids. */
export interface Invite {
  roomId: RoomId;
  inviter?: UserId;
  isDirect: boolean;
}

type StrippedEvent = { type?: unknown; state_key?: unknown; sender?: unknown; content?: { membership?: unknown; is_direct?: unknown } };

/** The bot's invites in a response's `rooms.invite`, already taken out of the body. */
export function invitesOf(byRoom: unknown, botUserId: UserId): Invite[] {
  if (typeof byRoom !== 'object' || byRoom === null) return [];
  const invites: Invite[] = [];
  for (const [rawRoomId, room] of Object.entries(byRoom as Record<string, unknown>)) {
    const roomId = roomIdSchema.safeParse(rawRoomId);
    if (!roomId.success) continue;
    const events = (room as { invite_state?: { events?: unknown } } | null)?.invite_state?.events;
    const own = Array.isArray(events)
      ? (events as (StrippedEvent | null)[]).find((e) => e?.type === 'm.room.member' && e.state_key === botUserId && e.content?.membership === 'invite')
      : undefined;
    const inviter = userIdSchema.safeParse(own?.sender);
    invites.push({ roomId: roomId.data, inviter: inviter.success ? inviter.data : undefined, isDirect: own?.content?.is_direct === true });
  }
  return invites;
}

/**
 * The content of the `m.direct` event in a /sync body's global `account_data`, still raw (its
 * reader validates it), or undefined when the response has none.
 */
export function directContentIn(body: unknown): unknown {
  const events = (body as { account_data?: { events?: unknown } } | null)?.account_data?.events;
  if (!Array.isArray(events)) return undefined;
  let content: unknown;
  for (const e of events as ({ type?: unknown; content?: unknown } | null)[]) {
    // One event per type in account data; null keeps "present but empty" apart from "absent".
    if (e?.type === 'm.direct') content = e.content ?? null;
  }
  return content;
}
