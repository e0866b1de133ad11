/**
 * Builds /sync response bodies from the model, as a real server does for one user
 * (Matrix spec, client-server API, "GET /_matrix/client/v3/sync"). Pure: model in, JSON out.
 */
import {
  type FakeMatrixModel,
  type JsonObject,
  type RoomRecord,
  type StoredEvent,
  memberEventAt,
  membershipOf,
  stateAt,
  stateKeyOf,
} from './model.js';

/** What one sync request asks for. */
export interface SyncQuery {
  readonly userId: string;
  /** Stream position of the `since` token; undefined for an initial sync. */
  readonly since: number | undefined;
  readonly timelineLimit: number;
  readonly fullState: boolean;
  /** The access token of the request, to echo `unsigned.transaction_id` on its own events. */
  readonly token: string;
  /** MSC4222 asked for and offered: `state_after` (under its unstable or stable name) instead of `state`. */
  readonly stateAfter?: 'unstable' | 'stable' | undefined;
}

/** A sync response body and whether it holds anything for the user. */
export interface SyncResult {
  readonly body: JsonObject;
  /** True when there is nothing to tell: a long-poll keeps waiting. */
  readonly isEmpty: boolean;
  /** The stream position the response is complete up to (its `next_batch`). */
  readonly position: number;
}

/** The timeline limit a real server uses when the filter sets none (Synapse's default). */
export const DEFAULT_TIMELINE_LIMIT = 10;

// Synapse's default `room_prejoin_state`: what an invitee sees of a room before joining.
const PREJOIN_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.topic',
];

/** The opaque stream token of a stream position. */
export function syncToken(pos: number): string {
  return `s${pos}`;
}

/** The stream position of a token made by `syncToken`, or undefined when it is not one. */
export function parseSyncToken(token: string): number | undefined {
  const m = /^s(\d+)$/.exec(token);
  return m === null ? undefined : Number(m[1]);
}

/** The event as a client sees it: a copy, with `room_id` when asked and its transaction id for the sender's token. */
export function toClientEvent(ev: StoredEvent, opts: { withRoomId?: boolean; token?: string } = {}): unknown {
  if (ev.verbatim !== undefined) return structuredClone(ev.verbatim.value);
  const out = structuredClone(ev.event);
  if (opts.withRoomId === true) out['room_id'] = ev.roomId;
  if (ev.txn !== undefined && ev.txn.token === opts.token) {
    const unsigned = typeof out['unsigned'] === 'object' && out['unsigned'] !== null ? (out['unsigned'] as JsonObject) : {};
    out['unsigned'] = { ...unsigned, transaction_id: ev.txn.txnId };
  }
  return out;
}

/** The /sync response for `query` at the model's current position. */
export function buildSync(model: FakeMatrixModel, query: SyncQuery): SyncResult {
  const now = model.position;
  const join: JsonObject = {};
  const invite: JsonObject = {};
  const knock: JsonObject = {};
  const leave: JsonObject = {};

  for (const room of model.rooms()) {
    const history = room.memberHistory.get(query.userId) ?? [];
    const latest = history.at(-1);
    if (latest === undefined) continue;
    const current = membershipOf(latest);
    const changedSince = query.since === undefined || latest.pos > query.since;

    if (current === 'join') {
      const entry = joinedEntry(room, query, now);
      if (entry !== undefined) join[room.roomId] = entry;
    } else if (current === 'invite' && changedSince) {
      invite[room.roomId] = { invite_state: { events: strippedState(room, latest, query.token) } };
    } else if (current === 'knock' && changedSince) {
      knock[room.roomId] = { knock_state: { events: strippedState(room, latest, query.token) } };
    } else if ((current === 'leave' || current === 'ban') && query.since !== undefined && changedSince) {
      // Left rooms are not part of an initial sync unless the filter asks (`include_leave`).
      leave[room.roomId] = leftEntry(room, query, latest);
    }
  }

  const accountData = [...model.accountDataOf(query.userId)]
    .filter(([, entry]) => query.since === undefined || entry.pos > query.since)
    .sort(([, a], [, b]) => a.pos - b.pos)
    .map(([type, entry]) => ({ type, content: structuredClone(entry.content) }));

  // Like Synapse, empty sections are left out rather than sent as `{}`.
  const rooms: JsonObject = {};
  if (Object.keys(join).length > 0) rooms['join'] = join;
  if (Object.keys(invite).length > 0) rooms['invite'] = invite;
  if (Object.keys(knock).length > 0) rooms['knock'] = knock;
  if (Object.keys(leave).length > 0) rooms['leave'] = leave;

  const body: JsonObject = { next_batch: syncToken(now) };
  if (Object.keys(rooms).length > 0) body['rooms'] = rooms;
  if (accountData.length > 0) body['account_data'] = { events: accountData };
  return { body, isEmpty: Object.keys(rooms).length === 0 && accountData.length === 0, position: now };
}

/**
 * True when the user was joined at `since` and stayed joined (display name changes only) for
 * every member event after it and before `before`. When false, the room is new to the client and
 * gets its full state, as Synapse does for a "newly joined" room.
 */
function stayedJoined(room: RoomRecord, userId: string, since: number | undefined, before: number): boolean {
  if (since === undefined || membershipOf(memberEventAt(room, userId, since)) !== 'join') return false;
  const history = room.memberHistory.get(userId) ?? [];
  return history.every((ev) => ev.pos <= since || ev.pos >= before || membershipOf(ev) === 'join');
}

function joinedEntry(room: RoomRecord, query: SyncQuery, now: number): JsonObject | undefined {
  const newlyJoined = !stayedJoined(room, query.userId, query.since, Number.POSITIVE_INFINITY);
  // Synapse (handlers/sync.py, v1.67) gives a room joined since `since` the newest events of the
  // whole room as its timeline, not only those after `since`, and always marks it `limited`
  // ("Let's just lie about this for now"): the state block is then empty when all of it fits.
  const rejoinedSince = newlyJoined && query.since !== undefined;
  const since = query.since;
  const afterSince = room.events.filter((ev) => since === undefined || ev.pos > since);
  let candidates = afterSince;
  if (rejoinedSince && afterSince.length < query.timelineLimit) {
    // It back-fills the timeline with history up to and including the first event after
    // `since`, which it then also keeps in place: that event comes twice (same event id).
    const first = afterSince[0]!;
    candidates = [...room.events.filter((ev) => ev.pos <= first.pos), ...afterSince];
  }
  if (!newlyJoined && !query.fullState && candidates.length === 0) return undefined;
  return {
    ...timelineAndState(room, query, candidates, now, newlyJoined || query.fullState, rejoinedSince),
    account_data: { events: [] },
    ephemeral: { events: [] },
    unread_notifications: { highlight_count: 0, notification_count: 0 },
  };
}

function leftEntry(room: RoomRecord, query: SyncQuery, leaveEvent: StoredEvent): JsonObject {
  const since = query.since ?? 0;
  const history = room.memberHistory.get(query.userId) ?? [];
  const wasJoined =
    membershipOf(memberEventAt(room, query.userId, since)) === 'join' ||
    history.some((ev) => ev.pos > since && membershipOf(ev) === 'join');
  if (!wasJoined) {
    // A rejected or withdrawn invite, a refused knock, a ban from outside: the user never saw
    // the room, so they get their own membership event and nothing else.
    return {
      timeline: { events: [toClientEvent(leaveEvent, { token: query.token })], limited: false, prev_batch: syncToken(leaveEvent.pos - 1) },
      state: { events: [] },
      account_data: { events: [] },
    };
  }
  // Nothing after the leave: the user no longer sees the room.
  const candidates = room.events.filter((ev) => ev.pos > since && ev.pos <= leaveEvent.pos);
  const full = !stayedJoined(room, query.userId, query.since, leaveEvent.pos);
  return { ...timelineAndState(room, query, candidates, leaveEvent.pos, full), account_data: { events: [] } };
}

/**
 * The last `limit` candidates as the timeline (`limited` when some were cut), and the state block:
 * the full state at the start of the timeline when `full`, otherwise the state that changed
 * between `since` and the start of the timeline, neither with events the timeline holds (spec: "Updates to the state, between the time
 * indicated by the since parameter, and the start of the timeline").
 */
function timelineAndState(
  room: RoomRecord,
  query: SyncQuery,
  candidates: StoredEvent[],
  upto: number,
  full: boolean,
  alwaysLimited = false,
): JsonObject {
  const timeline = query.timelineLimit > 0 ? candidates.slice(-query.timelineLimit) : [];
  const start = timeline[0]?.pos ?? upto + 1;
  // Synapse starts from the state *after* the first timeline event (that event's state group) and
  // leaves out what the timeline holds: the value a first timeline state event replaced is not sent.
  const inTimeline = new Set(timeline);
  let stateEvents = [...stateAt(room, timeline[0]?.pos ?? upto).values()].filter((ev) => !inTimeline.has(ev));
  if (!full) {
    const atSince = stateAt(room, query.since ?? 0);
    stateEvents = stateEvents.filter((ev) => atSince.get(stateKeyOf(ev.type!, ev.stateKey!)) !== ev);
  }
  stateEvents.sort((a, b) => a.pos - b.pos);
  return {
    timeline: {
      events: timeline.map((ev) => toClientEvent(ev, { token: query.token })),
      limited: alwaysLimited || candidates.length > timeline.length,
      prev_batch: syncToken(start - 1),
    },
    ...stateBlock(room, query, timeline, upto, full, stateEvents),
  };
}

/**
 * `state`, or with MSC4222 `state_after`: the state at the END of the timeline (its own state
 * events included), all of it when `full`, else what changed since `since` (MSC4222, "state_after").
 */
function stateBlock(room: RoomRecord, query: SyncQuery, timeline: StoredEvent[], upto: number, full: boolean, stateEvents: StoredEvent[]): JsonObject {
  const toClient = (ev: StoredEvent) => toClientEvent(ev, { token: query.token });
  if (query.stateAfter === undefined) return { state: { events: stateEvents.map(toClient) } };
  let after = [...stateAt(room, timeline.at(-1)?.pos ?? upto).values()];
  if (!full) {
    const atSince = stateAt(room, query.since ?? 0);
    after = after.filter((ev) => atSince.get(stateKeyOf(ev.type!, ev.stateKey!)) !== ev);
  }
  after.sort((a, b) => a.pos - b.pos);
  return { [query.stateAfter === 'stable' ? 'state_after' : 'org.matrix.msc4222.state_after']: { events: after.map(toClient) } };
}

/**
 * What an invitee (or knocker) sees: the stripped prejoin state, the inviter's member event, and
 * the full membership event itself, last, as Synapse sends it.
 */
function strippedState(room: RoomRecord, membershipEvent: StoredEvent, token: string): unknown[] {
  const state = stateAt(room, membershipEvent.pos);
  const picked: StoredEvent[] = [];
  for (const type of PREJOIN_STATE_TYPES) {
    const ev = state.get(stateKeyOf(type, ''));
    if (ev !== undefined) picked.push(ev);
  }
  const sender = membershipEvent.event['sender'];
  if (typeof sender === 'string' && sender !== membershipEvent.stateKey) {
    const senderMember = state.get(stateKeyOf('m.room.member', sender));
    if (senderMember !== undefined) picked.push(senderMember);
  }
  const stripped = picked.map((ev) => ({
    type: ev.type,
    state_key: ev.stateKey,
    sender: ev.event['sender'],
    content: structuredClone(ev.event['content']),
  }));
  return [...stripped, toClientEvent(membershipEvent, { token })];
}
