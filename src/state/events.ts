import { z } from 'zod';
import { eventIdSchema, userIdSchema, type EventId, type UserId } from './ids.js';

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
});

const memberContent = z
  .object({
    membership: z.enum(MEMBERSHIPS),
    // A display name of the wrong type is ignored rather than rejecting the membership change.
    displayname: z.unknown().optional(),
    is_direct: z.unknown().optional(),
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
      /** Membership before this event, from unsigned.prev_content, when the server sent it. */
      prevMembership?: string;
      isDirect: boolean;
    })
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
        return c.success ? { ok: true, event: { ...base, kind: 'name', name: text(c.data.name as string | null | undefined) } } : fail(describe(c.error));
      }
      if (e.type === 'm.room.canonical_alias') {
        const c = aliasContent.safeParse(e.content);
        return c.success
          ? { ok: true, event: { ...base, kind: 'canonical-alias', alias: text(c.data.alias as string | null | undefined) } }
          : fail(describe(c.error));
      }
      const c = topicContent.safeParse(e.content);
      return c.success ? { ok: true, event: { ...base, kind: 'topic', topic: text(c.data.topic as string | null | undefined) } } : fail(describe(c.error));
    }
    case 'm.room.encryption':
      return e.state_key === ''
        ? { ok: true, event: { ...base, kind: 'encryption' } }
        : { ok: true, event: { ...base, kind: 'other-state', type: e.type } };
    default:
      return { ok: true, event: { ...base, kind: 'other-state', type: e.type } };
  }
}

/** True for the decoded events that carry room state. */
export function isStateEvent(e: TrackedEvent): boolean {
  return e.kind !== 'message' && e.kind !== 'other';
}
