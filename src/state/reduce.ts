import { parseRoomId, type EventId, type RoomId, type UserId } from './ids.js';
import {
  memberChangeKind,
  profileDiff,
  rebuildChange,
  roomChanges,
  roomFieldChange,
  roomFieldOf,
  type ChangeCause,
  type ChangeDraft,
  type MemberChange,
} from './changes.js';
import { eventType, MEMBERSHIPS, type Membership, type TrackedEvent } from './events.js';
import { currentKeyOf, redactInfo, redactMember } from './redaction.js';
import { stateKeyOf, type MemberState, type RoomInfo } from './room-info.js';

/**
 * Pure reducers: (events of one room in one /sync response, what the store knows) → store
 * operations. No I/O; `now` comes in as an argument.
 *
 * Room state is last-writer-wins per (type, state_key), with the event id: a state event is
 * applied when the guard has not seen it, and also when it has but differs from what the store
 * holds as current for its key — the state block is the server's resolved state, and an old
 * event there that is not our current one is a state reset (or a resolved conflict) to follow.
 * The guard still decides what is fresh: effects, counts and the change log see an event once.
 */

/** A change to the Rooms store, in the order it must be applied. */
export type StoreOp =
  /**
   * The user's membership and profile in the room; a join also lists the room among the user's
   * rooms, any other membership takes it off that list.
   */
  | { op: 'put-member'; roomId: RoomId; userId: UserId; member: MemberState }
  | { op: 'put-info'; info: RoomInfo }
  /** Delete every membership of the room and its RoomInfo (guard marks are kept). */
  | { op: 'purge-room'; roomId: RoomId };

/**
 * One event of a room's response, in the order its state applies. `role` says what it is for:
 * `both` (the default) an ordinary event; `effects` a timeline event whose state the room's
 * `state_after` (MSC4222) supersedes, so it counts as fresh but does not change state; `state`
 * an event of `state_after` that the timeline also holds, which changes state but is counted
 * there.
 */
export interface RoomEntry {
  event: TrackedEvent;
  /** The guard has this event already (from an earlier commit). */
  seen: boolean;
  role?: 'both' | 'effects' | 'state';
  /** The event came in the timeline rather than the state block (or `state_after`). */
  timeline?: boolean;
}

/** The room summary of a /sync response (spec: `summary`), when the server sent one. */
export interface RoomSummary {
  heroes?: UserId[];
  joinedCount?: number;
  invitedCount?: number;
}

export interface RoomView {
  botUserId: UserId;
  /** The room's RoomInfo as stored, undefined when the store does not track the room. */
  info: RoomInfo | undefined;
  /**
   * The stored state of the members whom `memberReads` names (the pipeline reads them); a user
   * not in the map has none stored. With a redaction in the response, every member of the room.
   */
  members?: ReadonlyMap<UserId, MemberState>;
  summary?: RoomSummary;
  now: number;
  /** Rebuild the room from these events whatever the guard says (reconciliation from /state). */
  forceSnapshot?: boolean;
  /**
   * The bot is not in the room (it is only in `leave` and the store never tracked it): its
   * events are fresh, but they change nothing — no room of members without the bot.
   */
  markOnly?: boolean;
}

export interface RoomPlan {
  ops: StoreOp[];
  /** Events applied for the first time (every unseen entry, state or not). */
  fresh: TrackedEvent[];
  /** The room was rebuilt from this response's state (the bot joined it). */
  snapshot: boolean;
  /** Tracked state keys that now hold an event the guard had seen, other than the one stored: state resets. */
  stateResets: number;
  /** What the ops change in the record, for the change log, in order. */
  changes: ChangeDraft[];
}

const MEMBERSHIP_SET: ReadonlySet<string> = new Set(MEMBERSHIPS);

function isOwnJoin(e: TrackedEvent, bot: UserId): boolean {
  return e.kind === 'member' && e.userId === bot && e.membership === 'join';
}

function appliesState(entry: RoomEntry): boolean {
  return entry.role !== 'effects';
}

/**
 * The bot's own first-seen join rebuilds the room from the response when the store does not
 * track the room, or when the server says the bot was not joined before (a rejoin whose leave we
 * never saw). A join→join event of the bot (a profile change) is an ordinary update: rebuilding
 * from an incremental response, whose state block is partial, would lose members.
 */
export function needsSnapshot(entries: readonly RoomEntry[], view: Pick<RoomView, 'botUserId' | 'info'>): boolean {
  return entries.some(
    ({ event: e, seen }) =>
      !seen &&
      isOwnJoin(e, view.botUserId) &&
      (view.info === undefined ||
        (e.kind === 'member' && e.prevMembership !== undefined && e.prevMembership !== 'join')),
  );
}

/**
 * A room whose events the guard has all seen, timeline included, is a response read again (a
 * replay re-run, a client resumed from an older token), not news from the server: nothing in it
 * applies, so that the store never goes back to an older response's state. A real state reset
 * comes with the timeline after its gap, or with no timeline at all.
 */
export function isRedelivery(entries: readonly RoomEntry[]): boolean {
  return entries.length > 0 && entries.every((e) => e.seen) && entries.some((e) => e.timeline === true);
}

/**
 * What the pipeline must read of the stored members before planning a tracked room: the users
 * of member events (seen ones to compare with what is current, every one for the membership
 * before it, which the change log records), or all members when the response redacts something
 * (a redaction names only an event id) or rebuilds the room (the change log's diff).
 */
export function memberReads(entries: readonly RoomEntry[], view: Pick<RoomView, 'botUserId' | 'info'>): { all: boolean; users: UserId[] } {
  const users = new Set<UserId>();
  let all = false;
  if (isRedelivery(entries)) return { all, users: [] };
  if (needsSnapshot(entries, view)) return { all: true, users: [] };
  for (const entry of entries) {
    const e = entry.event;
    if (e.kind === 'redaction' && e.redacts !== undefined) all = true;
    else if (e.kind === 'member' && appliesState(entry)) users.add(e.userId);
  }
  return { all, users: [...users] };
}

function emptyInfo(roomId: RoomId, now: number): RoomInfo {
  return { roomId, encrypted: false, updatedAt: now };
}

/** The tracked state key of an event, or undefined for events that carry no tracked state. */
function trackedKey(e: TrackedEvent): string | undefined {
  switch (e.kind) {
    case 'member':
      return stateKeyOf('m.room.member', e.userId);
    case 'space-child':
    case 'space-parent':
      return stateKeyOf(eventType(e), e.target);
    case 'other-state':
    case 'message':
    case 'other':
    case 'redaction':
      return undefined;
    default:
      // One per room: the key is the event type.
      return eventType(e);
  }
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function withRelation(list: readonly RoomId[] | undefined, target: string, present: boolean): RoomId[] | undefined {
  const roomId = parseRoomId(target);
  const rest = (list ?? []).filter((r) => r !== target);
  if (present && roomId !== undefined) rest.push(roomId);
  rest.sort(byCodeUnit);
  return rest.length > 0 ? rest : undefined;
}

/** RoomInfo with the state of one (non-member) event applied; its event id recorded as current. */
function applyToInfo(info: RoomInfo, e: TrackedEvent, key: string): RoomInfo {
  const next: RoomInfo = { ...info, stateIds: { ...info.stateIds, [key]: e.eventId }, stateTs: { ...info.stateTs, [key]: e.ts } };
  const set = <K extends keyof RoomInfo>(k: K, v: RoomInfo[K] | undefined) => {
    if (v === undefined) delete next[k];
    else next[k] = v;
  };
  switch (e.kind) {
    case 'name':
      set('name', e.name);
      break;
    case 'canonical-alias':
      set('canonicalAlias', e.alias);
      break;
    case 'topic':
      set('topic', e.topic);
      break;
    case 'encryption':
      next.encrypted = true;
      break;
    case 'create':
      set('version', e.version ?? '1');
      set('creators', e.creators);
      set('roomType', e.roomType);
      set('predecessor', e.predecessor === undefined ? undefined : toPredecessor(e.predecessor));
      break;
    case 'power-levels':
      set('powerLevels', e.powerLevels);
      break;
    case 'join-rules':
      set('joinRule', e.joinRule);
      break;
    case 'history-visibility':
      set('historyVisibility', e.historyVisibility);
      break;
    case 'guest-access':
      set('guestAccess', e.guestAccess);
      break;
    case 'tombstone': {
      const roomId = e.replacement === undefined ? undefined : parseRoomId(e.replacement);
      set('successor', roomId === undefined ? undefined : e.body === undefined ? { roomId } : { roomId, body: e.body });
      break;
    }
    case 'space-child':
      set('spaceChildren', withRelation(info.spaceChildren, e.target, e.valid));
      break;
    case 'space-parent':
      set('spaceParents', withRelation(info.spaceParents, e.target, e.valid));
      break;
    default:
      break;
  }
  return next;
}

function toPredecessor(p: { roomId: string; eventId?: string }): RoomInfo['predecessor'] {
  const roomId = parseRoomId(p.roomId);
  if (roomId === undefined) return undefined;
  return p.eventId === undefined ? { roomId } : { roomId, eventId: p.eventId as EventId };
}

/** Whether a response's room summary says anything the stored RoomInfo does not hold already. */
function summaryMoves(info: RoomInfo, s: RoomSummary): boolean {
  const heroes = s.heroes;
  return (
    (heroes !== undefined && (heroes.length !== (info.heroes?.length ?? -1) || heroes.some((u, i) => u !== info.heroes?.[i]))) ||
    (s.joinedCount !== undefined && s.joinedCount !== info.joinedCount) ||
    (s.invitedCount !== undefined && s.invitedCount !== info.invitedCount)
  );
}

/**
 * Plans the store operations for one room of one response.
 *
 * When the bot has (re)joined, the room is rebuilt: a purge, then every state event of the
 * response in order, seen or not — after a kick and re-invite the server resends the room's
 * state as old member events the guard already holds. Otherwise unseen state events apply, and
 * seen ones apply when they are not what the store holds for their key (last writer wins).
 */
export function planRoom(roomId: RoomId, entries: readonly RoomEntry[], view: RoomView): RoomPlan {
  const bot = view.botUserId;
  const snapshot = view.forceSnapshot === true || needsSnapshot(entries, view);
  if (!snapshot && isRedelivery(entries)) return { ops: [], fresh: [], snapshot: false, stateResets: 0, changes: [] };
  if (view.markOnly === true) {
    const fresh = entries.filter((en) => !en.seen && en.role !== 'state').map((en) => en.event);
    return { ops: [], fresh, snapshot, stateResets: 0, changes: [] };
  }
  const ops: StoreOp[] = [];
  // Derived from what moves in the record (stored before → written), not from the events alone:
  // what moves nothing logs nothing, so a response read again adds no change.
  const changes: ChangeDraft[] = [];
  const fresh: TrackedEvent[] = [];
  let info = view.info;
  let changed = false;
  // Members changed in this plan; after a purge, the stored ones no longer count.
  const members = new Map<UserId, MemberState | undefined>();
  let purged = false;
  const memberOf = (u: UserId): MemberState | undefined => (members.has(u) ? members.get(u) : purged ? undefined : view.members?.get(u));
  // For counting state resets: each touched key's event before the plan, and its last writer.
  const before = new Map<string, EventId | undefined>();
  const last = new Map<string, { id: EventId; seen: boolean }>();
  const currentId = (key: string, e: TrackedEvent): EventId | undefined =>
    e.kind === 'member' ? memberOf(e.userId)?.eventId : info?.stateIds?.[key];
  const currentTs = (key: string, e: TrackedEvent): number | undefined =>
    e.kind === 'member' ? memberOf(e.userId)?.ts : info?.stateTs?.[key];

  // In a snapshot the response is the room's current state, so an own leave or ban before the
  // bot's last join (its old kick resent in the unordered state block, or a timeline of kick →
  // invite → join) is history the rejoin undid: purging there would drop the members before it.
  const lastOwnJoin = snapshot ? entries.findLastIndex((en) => appliesState(en) && isOwnJoin(en.event, bot)) : -1;

  const purge = () => {
    ops.push({ op: 'purge-room', roomId });
    info = undefined;
    members.clear();
    purged = true;
    before.clear();
    last.clear();
  };
  if (snapshot && info !== undefined) {
    purge();
    changed = true;
  }

  for (const [i, entry] of entries.entries()) {
    const { event: e, seen } = entry;
    if (!seen && entry.role !== 'state') fresh.push(e);
    if (!appliesState(entry)) continue;

    if (e.kind === 'redaction') {
      if (e.redacts === undefined || info === undefined) continue;
      const key = currentKeyOf(info, e.redacts);
      const redactedBy = { roomId, ts: e.ts, cause: 'redaction' as const, sender: e.sender, eventId: e.eventId };
      if (key !== undefined) {
        const prior = info;
        info = redactInfo(info, key);
        changed = true;
        const field = snapshot ? undefined : roomFieldOf(key);
        const change = field === undefined ? undefined : roomFieldChange(field, prior, info, redactedBy);
        if (change !== undefined) changes.push(change);
      }
      const target = findMemberByEvent(e.redacts, members, purged ? undefined : view.members);
      if (target !== undefined) {
        const member = redactMember(target.state);
        members.set(target.userId, member);
        ops.push({ op: 'put-member', roomId, userId: target.userId, member });
        changed = true;
        const diff = snapshot ? undefined : profileDiff(target.state, member);
        if (diff !== undefined) changes.push({ ...redactedBy, kind: 'profile', userId: target.userId, ...diff });
      }
      continue;
    }

    // In a snapshot nothing compares with what was stored: a member's key string is not needed,
    // and this loop is what a cold replay spends its time in.
    const key = snapshot && e.kind === 'member' ? '' : trackedKey(e);
    if (key === undefined) continue;
    if (!snapshot && seen) {
      // A seen event in a room we do not track is history. In one we do, a state-block event
      // applies when it is not what we hold for its key: the server's resolved state moved (a
      // state reset). A seen timeline event is a re-delivery the guard skips, unless it is newer
      // than what we hold: a response read again (a crash between the batches of one response,
      // a replay re-run) must end where it ended the first time, its state block moving keys
      // back and its timeline forward again.
      if (info === undefined || currentId(key, e) === e.eventId) continue;
      if (entry.timeline === true && e.ts < (currentTs(key, e) ?? 0)) continue;
      // The bot's own leave or ban is the room's end, an effect of the event: once, when fresh.
      if (e.kind === 'member' && e.userId === bot && e.membership !== 'join') continue;
    }
    if (!snapshot) {
      if (!before.has(key)) before.set(key, currentId(key, e));
      last.set(key, { id: e.eventId, seen });
    }

    const cause: ChangeCause = seen ? 'state-reset' : 'event';
    if (e.kind === 'member') {
      const isBot = e.userId === bot;
      const prior = memberOf(e.userId);
      if (isBot && (e.membership === 'leave' || e.membership === 'ban') && i > lastOwnJoin) {
        // Kicked, banned or left: nothing about the room is visible to us any more.
        const from = prior?.membership ?? 'none';
        const kind = info === undefined ? undefined : memberChangeKind(from, e.membership, e.sender, bot);
        if (kind !== undefined) changes.push({ ...memberFacts(roomId, e, cause, from), kind, purged: true });
        purge();
        changed = false;
        continue;
      }
      info ??= emptyInfo(roomId, view.now);
      if (isBot && e.membership === 'join' && (info.joinedAt === undefined || e.prevMembership !== 'join')) {
        info = { ...info, joinedAt: e.ts };
      }
      const member: MemberState = { membership: e.membership, eventId: e.eventId };
      if (e.displayName !== undefined) member.displayName = e.displayName;
      if (e.avatarUrl !== undefined) member.avatarUrl = e.avatarUrl;
      if (e.ts > 0) member.ts = e.ts;
      members.set(e.userId, member);
      ops.push({ op: 'put-member', roomId, userId: e.userId, member });
      changed = true;
      if (snapshot) {
        // The rebuild's diff covers everyone else; the bot's own join is the news.
        if (isBot && i === lastOwnJoin && !seen) {
          const from = ownJoinFrom(e.prevMembership, view.info === undefined ? undefined : view.members?.get(bot));
          changes.push({ ...memberFacts(roomId, e, cause, from), kind: 'joined' });
        }
        continue;
      }
      const from = prior?.membership ?? 'none';
      const kind = memberChangeKind(from, e.membership, e.sender, e.userId);
      if (kind !== undefined) changes.push({ ...memberFacts(roomId, e, cause, from), kind });
      else if (e.membership === 'join') {
        const diff = profileDiff(prior, member);
        if (diff !== undefined) changes.push({ roomId, ts: e.ts, cause, kind: 'profile', userId: e.userId, sender: e.sender, eventId: e.eventId, ...diff });
      }
      continue;
    }
    const prior = info;
    info = applyToInfo(info ?? emptyInfo(roomId, view.now), e, key);
    changed = true;
    const field = snapshot ? undefined : roomFieldOf(key);
    const change = field === undefined ? undefined : roomFieldChange(field, prior, info, { roomId, ts: e.ts, cause, sender: e.sender, eventId: e.eventId });
    if (change !== undefined) changes.push(change);
  }

  if (snapshot && info !== undefined) {
    // A rebuilt room: what moved between the record before (nothing for a room new to the store)
    // and the room's state now. The members after are those of this plan: a purge came first.
    const base = { roomId, ts: view.now, cause: view.forceSnapshot === true ? ('reconcile' as const) : ('snapshot' as const) };
    // The bot's own join, when logged, is not logged again inside the diff.
    const ownJoinLogged = changes.some((c) => c.kind === 'joined' && c.userId === bot);
    const rebuilt = rebuildChange(view.info === undefined ? undefined : view.members, members, base, false, ownJoinLogged ? bot : undefined);
    if (rebuilt !== undefined) changes.push(rebuilt);
    if (view.info !== undefined) changes.push(...roomChanges(view.info, info, base));
  }

  if (info !== undefined && view.summary !== undefined && summaryMoves(info, view.summary)) {
    const s = view.summary;
    const next = { ...info };
    if (s.heroes !== undefined) next.heroes = s.heroes;
    if (s.joinedCount !== undefined) next.joinedCount = s.joinedCount;
    if (s.invitedCount !== undefined) next.invitedCount = s.invitedCount;
    info = next;
    changed = true;
  }

  let stateResets = 0;
  if (!snapshot) {
    for (const [key, w] of last) if (w.seen && w.id !== before.get(key)) stateResets++;
  }

  // One RoomInfo write per room and response, after the memberships, rather than one per event.
  if (changed && info !== undefined) ops.push({ op: 'put-info', info: { ...info, updatedAt: view.now } });
  return { ops, fresh, snapshot, stateResets, changes };
}

/** The parts of a member change that come from its event. */
function memberFacts(roomId: RoomId, e: TrackedEvent & { kind: 'member' }, cause: ChangeCause, from: Membership | 'none') {
  const facts: Omit<MemberChange, 'kind'> = { roomId, ts: e.ts, cause, userId: e.userId, from, to: e.membership, sender: e.sender, eventId: e.eventId };
  if (e.reason !== undefined) facts.reason = e.reason;
  if (e.displayName !== undefined) facts.displayName = e.displayName;
  return facts;
}

/**
 * Where the bot's own join came from: the server's `prev_content` when it names a membership
 * other than join (the store may still hold a join whose leave it never saw), else the store's.
 */
function ownJoinFrom(prev: string | undefined, stored: MemberState | undefined): Membership | 'none' {
  if (prev !== undefined && prev !== 'join' && MEMBERSHIP_SET.has(prev)) return prev as Membership;
  return stored?.membership ?? 'none';
}

function findMemberByEvent(
  target: EventId,
  changed: ReadonlyMap<UserId, MemberState | undefined>,
  stored: ReadonlyMap<UserId, MemberState> | undefined,
): { userId: UserId; state: MemberState } | undefined {
  for (const [userId, state] of changed) if (state?.eventId === target) return { userId, state };
  for (const [userId, state] of stored ?? []) {
    if (state.eventId === target && !changed.has(userId)) return { userId, state };
  }
  return undefined;
}
