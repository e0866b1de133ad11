import { z } from 'zod';
import { eventIdSchema, userIdSchema, type EventId, type UserId } from './ids.js';
import { decodePowerLevels, type PowerLevels } from './power-levels.js';
import { versionRules } from './room-version.js';
import { isJsonObject } from './json.js';

/**
 * Untrusted event JSON from /sync, decoded into the few shapes roomkeeper acts on.
 * Anything that fails here is logged, counted and skipped; the rest of the response goes on.
 */

export const MEMBERSHIPS = ['join', 'invite', 'leave', 'ban', 'knock'] as const;
export type Membership = (typeof MEMBERSHIPS)[number];

const content = z.record(z.string(), z.unknown());

const baseSchema = z.object({
  event_id: eventIdSchema,
  type: z.string().min(1).max(255),
  sender: userIdSchema,
  state_key: z.string().max(255).optional(),
  content,
  origin_server_ts: z.number().int().nonnegative().optional(),
  unsigned: z.object({ prev_content: content.optional() }).loose().optional(),
  // Rooms before version 11 name a redaction's target here; from 11 on, in content.redacts.
  redacts: z.unknown().optional(),
});

const memberContent = z
  .object({
    membership: z.enum(MEMBERSHIPS),
    // A display name of the wrong type is ignored rather than rejecting the membership change.
    displayname: z.unknown().optional(),
    avatar_url: z.unknown().optional(),
    is_direct: z.unknown().optional(),
    reason: z.unknown().optional(),
  })
  .loose();

const optionalText = (field: string) =>
  z.object({ [field]: z.string().nullable().optional() }).loose();
const nameContent = optionalText('name');
const aliasContent = optionalText('alias');
const topicContent = optionalText('topic');
const messageContent = z.object({ msgtype: z.string().optional(), body: z.string().optional() }).loose();

interface Base {
  eventId: EventId;
  sender: UserId;
  /** origin_server_ts, 0 when the server left it out. */
  ts: number;
}

/** An event as roomkeeper understands it. */
export type TrackedEvent =
  | (Base & {
      kind: 'member';
      userId: UserId;
      membership: Membership;
      displayName?: string;
      avatarUrl?: string;
      /** `reason` of the content (a kick's or ban's, say), when it is a non-empty string. */
      reason?: string;
      /** Membership before this event, from unsigned.prev_content, when the server sent it. */
      prevMembership?: string;
      isDirect: boolean;
    })
  | (Base & {
      kind: 'create';
      /** `room_version`; absent means version 1. */
      version?: string;
      /** Who created the room: `creator` before version 11, the sender from 11, plus `additional_creators` from 12. */
      creators: UserId[];
      predecessor?: { roomId: string; eventId?: string };
      /** `type` of the room, `m.space` for a space. */
      roomType?: string;
    })
  | (Base & { kind: 'power-levels'; powerLevels: PowerLevels })
  | (Base & { kind: 'join-rules'; joinRule?: string })
  | (Base & { kind: 'history-visibility'; historyVisibility?: string })
  | (Base & { kind: 'guest-access'; guestAccess?: string })
  | (Base & { kind: 'tombstone'; replacement?: string; body?: string })
  /** `m.space.child` (in a space, about a child) or `m.space.parent` (in a room, about its space). */
  | (Base & { kind: 'space-child' | 'space-parent'; target: string; valid: boolean })
  | (Base & { kind: 'redaction'; redacts?: EventId })
  | (Base & { kind: 'name'; name?: string })
  | (Base & { kind: 'canonical-alias'; alias?: string })
  | (Base & { kind: 'topic'; topic?: string })
  | (Base & { kind: 'encryption' })
  | (Base & { kind: 'other-state'; type: string })
  | (Base & { kind: 'message'; msgtype?: string; body?: string })
  | (Base & { kind: 'other'; type: string });

export type DecodeResult =
  | { ok: true; event: TrackedEvent }
  | { ok: false; eventId?: string; type?: string; reason: string };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'event'}: ${i.message}`)
    .join('; ');
}

function text(v: string | null | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Decodes one raw event. `requireState` is set for events of a `state` block, which must carry a
 * `state_key` even when their type is one roomkeeper does not track.
 */
export function decodeEvent(raw: unknown, requireState: boolean): DecodeResult {
  return decodeWellFormed(raw, requireState) ?? decodeWithSchema(raw, requireState);
}

// --- The fast path ---------------------------------------------------------------------------
//
// Replay throughput is bounded by this function: the zod schemas copy every object they accept
// and cost several microseconds an event. decodeWellFormed accepts only a subset of what the
// schemas accept: plain JSON objects and values well inside every rule. For those it returns
// exactly what decodeWithSchema would; anything else, valid or not, it leaves to the schemas,
// which stay the definition of what is valid and the source of every error message. Its checks
// mirror baseSchema, memberContent, the content schemas above and ids.ts; change them together
// (test/state/events-agree.property.test.ts holds the two to the same answers).

const MEMBERSHIP_SET: ReadonlySet<string> = new Set(MEMBERSHIPS);

/**
 * Narrower than what z.record accepts too: z.record also looks at an own `constructor` and
 * rejects symbol keys, neither of which JSON.parse ever makes.
 */
function isJsonRecord(v: unknown): v is Record<string, unknown> {
  return isJsonObject(v) && !Object.hasOwn(v, 'constructor') && Object.getOwnPropertySymbols(v).length === 0;
}

/**
 * ids.ts's matrixId(): 2 to 255 code units, the sigil first, no C0 control, DEL or U+00FF, and
 * no surrogate at all (the schemas take a well-formed pair; this path leaves every one to them).
 */
function isMatrixId(v: unknown, sigil: number): v is string {
  if (typeof v !== 'string' || v.length < 2 || v.length > 255 || v.charCodeAt(0) !== sigil) return false;
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xff || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

const DOLLAR = 0x24;
const AT = 0x40;

function isUserId(v: unknown): v is UserId {
  return isMatrixId(v, AT) && v.indexOf(':') > 1;
}

function isOptionalText(v: unknown): v is string | null | undefined {
  return v === undefined || v === null || typeof v === 'string';
}

/** @internal The fast path alone: undefined when it leaves the event to the schemas. Exported for the test that the two agree. */
export function decodeWellFormed(raw: unknown, requireState: boolean): DecodeResult | undefined {
  if (!isJsonObject(raw)) return undefined;
  const { event_id: eventId, type, sender, state_key: stateKey, content, origin_server_ts: ts, unsigned } = raw;
  if (!isMatrixId(eventId, DOLLAR) || !isUserId(sender)) return undefined;
  if (typeof type !== 'string' || type.length < 1 || type.length > 255) return undefined;
  if (stateKey !== undefined && (typeof stateKey !== 'string' || stateKey.length > 255)) return undefined;
  if (!isJsonRecord(content)) return undefined;
  if (ts !== undefined && !(typeof ts === 'number' && Number.isSafeInteger(ts) && ts >= 0)) return undefined;
  let prevContent: Record<string, unknown> | undefined;
  if (unsigned !== undefined) {
    if (!isJsonObject(unsigned)) return undefined;
    const prev = unsigned.prev_content;
    if (prev !== undefined && !isJsonRecord(prev)) return undefined;
    prevContent = prev;
  }
  const id = eventId as EventId;
  const time = ts ?? 0;

  if (stateKey === undefined) {
    if (requireState || type === 'm.room.member') return undefined;
    if (type === 'm.room.redaction') return { ok: true, event: redaction({ eventId: id, sender, ts: time }, content, raw.redacts) };
    if (type === 'm.room.message') {
      const { msgtype, body } = content;
      if ((msgtype !== undefined && typeof msgtype !== 'string') || (body !== undefined && typeof body !== 'string')) return undefined;
      return { ok: true, event: { eventId: id, sender, ts: time, kind: 'message', msgtype, body } };
    }
    return { ok: true, event: { eventId: id, sender, ts: time, kind: 'other', type } };
  }

  switch (type) {
    case 'm.room.member': {
      const { membership, displayname, avatar_url: avatarUrl, is_direct: isDirect, reason } = content;
      if (!isUserId(stateKey) || typeof membership !== 'string' || !MEMBERSHIP_SET.has(membership)) return undefined;
      const prev = prevContent?.membership;
      return {
        ok: true,
        event: {
          eventId: id,
          sender,
          ts: time,
          kind: 'member',
          userId: stateKey,
          membership: membership as Membership,
          displayName: typeof displayname === 'string' ? text(displayname) : undefined,
          avatarUrl: typeof avatarUrl === 'string' ? text(avatarUrl) : undefined,
          reason: typeof reason === 'string' ? text(reason) : undefined,
          prevMembership: typeof prev === 'string' ? prev : undefined,
          isDirect: isDirect === true,
        },
      };
    }
    case 'm.room.name':
    case 'm.room.canonical_alias':
    case 'm.room.topic': {
      if (stateKey !== '') return { ok: true, event: { eventId: id, sender, ts: time, kind: 'other-state', type } };
      if (type === 'm.room.name') {
        const { name } = content;
        return isOptionalText(name) ? { ok: true, event: { eventId: id, sender, ts: time, kind: 'name', name: text(name) } } : undefined;
      }
      if (type === 'm.room.canonical_alias') {
        const { alias } = content;
        return isOptionalText(alias) ? { ok: true, event: { eventId: id, sender, ts: time, kind: 'canonical-alias', alias: text(alias) } } : undefined;
      }
      const { topic } = content;
      return isOptionalText(topic) ? { ok: true, event: { eventId: id, sender, ts: time, kind: 'topic', topic: text(topic) } } : undefined;
    }
    case 'm.room.encryption':
      return stateKey === ''
        ? { ok: true, event: { eventId: id, sender, ts: time, kind: 'encryption' } }
        : { ok: true, event: { eventId: id, sender, ts: time, kind: 'other-state', type } };
    default:
      return { ok: true, event: otherState({ eventId: id, sender, ts: time }, type, stateKey, content) };
  }
}

// --- The schemas: the definition, and every error message -------------------------------------

/** @internal The schemas alone. Exported for the test that the two decoders agree. */
export function decodeWithSchema(raw: unknown, requireState: boolean): DecodeResult {
  const parsed = baseSchema.safeParse(raw);
  if (!parsed.success) {
    const r = raw as { event_id?: unknown; type?: unknown } | null;
    return {
      ok: false,
      eventId: typeof r?.event_id === 'string' ? r.event_id : undefined,
      type: typeof r?.type === 'string' ? r.type : undefined,
      reason: describe(parsed.error),
    };
  }
  const e = parsed.data;
  const base: Base = { eventId: e.event_id, sender: e.sender, ts: e.origin_server_ts ?? 0 };
  const fail = (reason: string): DecodeResult => ({ ok: false, eventId: e.event_id, type: e.type, reason });

  if (e.state_key === undefined) {
    if (requireState) return fail('state_key: missing in a state event');
    if (e.type === 'm.room.member') return fail('state_key: missing in a membership event');
    if (e.type === 'm.room.redaction') return { ok: true, event: redaction(base, e.content, e.redacts) };
    if (e.type === 'm.room.message') {
      const c = messageContent.safeParse(e.content);
      if (!c.success) return fail(describe(c.error));
      return { ok: true, event: { ...base, kind: 'message', msgtype: c.data.msgtype, body: c.data.body } };
    }
    return { ok: true, event: { ...base, kind: 'other', type: e.type } };
  }

  switch (e.type) {
    case 'm.room.member': {
      const userId = userIdSchema.safeParse(e.state_key);
      if (!userId.success) return fail(`state_key: ${userId.error.issues[0]?.message ?? 'not a user id'}`);
      const c = memberContent.safeParse(e.content);
      if (!c.success) return fail(describe(c.error));
      const prev = e.unsigned?.prev_content?.membership;
      return {
        ok: true,
        event: {
          ...base,
          kind: 'member',
          userId: userId.data,
          membership: c.data.membership,
          displayName: typeof c.data.displayname === 'string' ? text(c.data.displayname) : undefined,
          avatarUrl: typeof c.data.avatar_url === 'string' ? text(c.data.avatar_url) : undefined,
          reason: typeof c.data.reason === 'string' ? text(c.data.reason) : undefined,
          prevMembership: typeof prev === 'string' ? prev : undefined,
          isDirect: c.data.is_direct === true,
        },
      };
    }
    case 'm.room.name':
    case 'm.room.canonical_alias':
    case 'm.room.topic': {
      if (e.state_key !== '') return { ok: true, event: { ...base, kind: 'other-state', type: e.type } };
      if (e.type === 'm.room.name') {
        const c = nameContent.safeParse(e.content);
        return c.success ? { ok: true, event: { ...base, kind: 'name', name: text(c.data.name) } } : fail(describe(c.error));
      }
      if (e.type === 'm.room.canonical_alias') {
        const c = aliasContent.safeParse(e.content);
        return c.success
          ? { ok: true, event: { ...base, kind: 'canonical-alias', alias: text(c.data.alias) } }
          : fail(describe(c.error));
      }
      const c = topicContent.safeParse(e.content);
      return c.success ? { ok: true, event: { ...base, kind: 'topic', topic: text(c.data.topic) } } : fail(describe(c.error));
    }
    case 'm.room.encryption':
      return e.state_key === ''
        ? { ok: true, event: { ...base, kind: 'encryption' } }
        : { ok: true, event: { ...base, kind: 'other-state', type: e.type } };
    default:
      return { ok: true, event: otherState(base, e.type, e.state_key, e.content) };
  }
}

// --- Room state beyond names: one decoder for both paths --------------------------------------
//
// These contents are read leniently, field by field, as clients read them: a field of the wrong
// type counts as absent (its default applies) rather than losing the event, because the state
// it stands for is the server's whichever way its content is spelled.

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function validUserId(v: unknown): UserId | undefined {
  return isUserId(v) ? v : undefined;
}

function redaction(base: Base, content: Record<string, unknown>, topLevel: unknown): TrackedEvent {
  // content.redacts wins: from room version 11 it is the only place; before, servers copy it there.
  const target = [content.redacts, topLevel].find((v) => isMatrixId(v, DOLLAR)) as EventId | undefined;
  return { ...base, kind: 'redaction', redacts: target };
}

/** Decodes the state events of types without a schema of their own above. */
function otherState(base: Base, type: string, stateKey: string, content: Record<string, unknown>): TrackedEvent {
  if (type === 'm.space.child' || type === 'm.space.parent') {
    // Spec: a child or parent without a non-empty `via` is no relation at all.
    const valid = Array.isArray(content.via) && content.via.length > 0;
    return { ...base, kind: type === 'm.space.child' ? 'space-child' : 'space-parent', target: stateKey, valid };
  }
  if (stateKey !== '') return { ...base, kind: 'other-state', type };
  switch (type) {
    case 'm.room.create': {
      const version = str(content.room_version);
      const rules = versionRules(version);
      const creators: UserId[] = [rules >= 11 ? base.sender : (validUserId(content.creator) ?? base.sender)];
      if (rules >= 12 && Array.isArray(content.additional_creators)) {
        for (const u of content.additional_creators) {
          const id = validUserId(u);
          if (id !== undefined && !creators.includes(id)) creators.push(id);
        }
      }
      const pred = content.predecessor;
      let predecessor: { roomId: string; eventId?: string } | undefined;
      if (typeof pred === 'object' && pred !== null && !Array.isArray(pred)) {
        const { room_id: roomId, event_id: eventId } = pred as Record<string, unknown>;
        if (isMatrixId(roomId, 0x21)) predecessor = isMatrixId(eventId, DOLLAR) ? { roomId, eventId } : { roomId };
      }
      return { ...base, kind: 'create', version, creators, predecessor, roomType: str(content.type) };
    }
    case 'm.room.power_levels':
      return { ...base, kind: 'power-levels', powerLevels: decodePowerLevels(content) };
    case 'm.room.join_rules':
      return { ...base, kind: 'join-rules', joinRule: str(content.join_rule) };
    case 'm.room.history_visibility':
      return { ...base, kind: 'history-visibility', historyVisibility: str(content.history_visibility) };
    case 'm.room.guest_access':
      return { ...base, kind: 'guest-access', guestAccess: str(content.guest_access) };
    case 'm.room.tombstone': {
      const replacement = content.replacement_room;
      return { ...base, kind: 'tombstone', replacement: isMatrixId(replacement, 0x21) ? replacement : undefined, body: str(content.body) };
    }
    default:
      return { ...base, kind: 'other-state', type };
  }
}

/** True for the decoded events that carry room state. */
export function isStateEvent(e: TrackedEvent): boolean {
  return e.kind !== 'message' && e.kind !== 'other' && e.kind !== 'redaction';
}

/** The Matrix event type of a decoded event (for metrics and logs). */
export function eventType(e: TrackedEvent): string {
  switch (e.kind) {
    case 'member':
      return 'm.room.member';
    case 'name':
      return 'm.room.name';
    case 'canonical-alias':
      return 'm.room.canonical_alias';
    case 'topic':
      return 'm.room.topic';
    case 'encryption':
      return 'm.room.encryption';
    case 'message':
      return 'm.room.message';
    case 'create':
      return 'm.room.create';
    case 'power-levels':
      return 'm.room.power_levels';
    case 'join-rules':
      return 'm.room.join_rules';
    case 'history-visibility':
      return 'm.room.history_visibility';
    case 'guest-access':
      return 'm.room.guest_access';
    case 'tombstone':
      return 'm.room.tombstone';
    case 'space-child':
      return 'm.space.child';
    case 'space-parent':
      return 'm.space.parent';
    case 'redaction':
      return 'm.room.redaction';
    case 'other-state':
    case 'other':
      return e.type;
  }
}
