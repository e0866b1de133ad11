import { z } from 'zod';
import { roomIdSchema, userIdSchema, type RoomId, type UserId } from './ids.js';

/**
 * The shape of a client-server /sync response (v3), read leniently and in layers: rooms stay raw
 * in the outer shape and events stay raw in a room, each decoded on its own, so that one bad
 * room or event does not cost the rest of the response.
 */
const rawEvents = z.array(z.unknown()).optional();

export const syncBodySchema = z
  .object({
    next_batch: z.string().optional(),
    rooms: z
      .object({
        join: z.record(z.string(), z.unknown()).optional(),
        leave: z.record(z.string(), z.unknown()).optional(),
        invite: z.record(z.string(), z.unknown()).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** A room of `rooms.join` or `rooms.leave`. */
export const syncRoomSchema = z
  .object({
    state: z.object({ events: rawEvents }).loose().optional(),
    timeline: z.object({ events: rawEvents, limited: z.boolean().optional() }).loose().optional(),
  })
  .loose();

export type SyncBody = z.infer<typeof syncBodySchema>;

/**
 * MSC4222's `state_after`: the room's state at the end of the timeline, sent instead of `state`
 * when the client asks (`use_state_after=true`, unstable `org.matrix.msc4222.use_state_after`).
 * The stable name first; the unstable one is what servers implementing the MSC send today.
 */
export const STATE_AFTER_FIELDS = ['state_after', 'org.matrix.msc4222.state_after'] as const;

/** The events of a room's `state_after` block, when the room has one that holds an event list. */
export function stateAfterOf(room: Readonly<Record<string, unknown>>): unknown[] | undefined {
  for (const field of STATE_AFTER_FIELDS) {
    const block = room[field];
    if (typeof block === 'object' && block !== null && Array.isArray((block as { events?: unknown }).events)) {
      return (block as { events: unknown[] }).events;
    }
  }
  return undefined;
}

/** A room's `summary` (spec: heroes and member counts), read leniently: what is malformed is left out. */
export function summaryOf(room: Readonly<Record<string, unknown>>): { heroes?: UserId[]; joinedCount?: number; invitedCount?: number } | undefined {
  const s = room.summary;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
  const raw = s as Record<string, unknown>;
  const out: { heroes?: UserId[]; joinedCount?: number; invitedCount?: number } = {};
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

/**
 * The bot's invites in a /sync body (spec: `rooms.invite`, whose `invite_state` holds the bot's
 * own `m.room.member` invite with the inviter as sender). Rooms with malformed ids are left out.
 */
export function invitesIn(body: unknown, botUserId: UserId): Invite[] {
  return invitesOf((body as { rooms?: { invite?: unknown } } | null)?.rooms?.invite, botUserId);
}

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
