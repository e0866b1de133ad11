import type { Logger } from '../log.js';
import { rebuildChange, type Change, type ChangeDraft } from '../state/changes.js';
import { decodeEvent, isStateEvent, type TrackedEvent } from '../state/events.js';
import { roomIdSchema, type EventId, type RoomId, type UserId } from '../state/ids.js';
import { memberReads, planRoom, type RoomEntry, type RoomSummary, type StoreOp } from '../state/reduce.js';
import type { MemberState, RoomInfo } from '../state/room-info.js';
import { directContentIn, invitesOf, roomBlocksOf, sectionsOf, type BodyIssue, type Invite } from '../state/sync-body.js';
import { META_KEYS } from '../store/meta-keys.js';
import type { CommitPlan, MemberRead, MetaWrite, RoomEvents, SyncStore, TransactionRef } from '../store/sync-store.js';

/** An event processed for the first time, handed to effects after its commit. */
export interface FreshEvent {
  roomId: RoomId;
  section: 'join' | 'leave';
  event: TrackedEvent;
}

export type { Invite } from '../state/sync-body.js';

/** What one /sync response did. */
export interface ProcessResult {
  applied: number;
  duplicates: number;
  invalid: number;
  fresh: FreshEvent[];
  invites: Invite[];
  /** The content of the bot's `m.direct` account data when the response carries it (raw). */
  direct?: unknown;
  /** Rooms rebuilt from this response because the bot joined them. */
  snapshots: RoomId[];
  /** Rooms whose timeline was `limited` (a gap the state block bridges). */
  gappy: RoomId[];
  /**
   * True when the response's `next_batch` was committed; false when it had none usable, and the
   * caller must not sync on from past this body.
   */
  tokenCommitted: boolean;
  /**
   * Tracked state keys that a state block moved to an event the guard had seen, other than the
   * one stored: state resets (or resolved conflicts) followed.
   */
  stateResets: number;
  /** What this response changed in the record, as the change log holds it (cursors included). */
  changes: Change[];
}

/** Running totals since the pipeline was created. */
export interface PipelineTotals {
  responses: number;
  applied: number;
  duplicates: number;
  invalid: number;
  /** State resets followed (ProcessResult.stateResets, summed). */
  stateResets: number;
  /** Local time (ms) of the last committed response. */
  lastCommitAt?: number;
}

export interface PipelineOptions {
  botUserId: UserId;
  log: Logger;
  now?: () => number;
  /**
   * Above this many keys a response is committed room by room in several batches, the sync
   * token in the last; each room stays whole in one batch.
   */
  maxBatchKeys?: number;
}

/** How one response is committed. */
export interface ProcessOptions {
  /**
   * Meta entries to commit in the same batch as the response's sync token, given its invites:
   * what must be on disk exactly when the token moves past them (the pending-invite list).
   */
  metaWithToken?: (invites: readonly Invite[]) => readonly MetaWrite[];
  /**
   * The appservice transaction the body came in (a body with no `next_batch`): recorded in the
   * response's last batch, where a sync token would go, so that its retry is known as done.
   */
  transaction?: TransactionRef;
}

interface PendingRoom {
  roomId: RoomId;
  /** The section of the room's first events: `leave` when it is in both (its story starts there). */
  section: 'join' | 'leave';
  events: TrackedEvent[];
  /** The ids of `events`, in order: what the guard is asked about. */
  eventIds: EventId[];
  /** When the room is in both sections: how many of `events` came from `leave`. */
  leaveCount?: number;
  /** A membership event or a block of the room could not be read: who is in it is not known. */
  uncertain: boolean;
  /** Per event: it came in the timeline. */
  inTimeline: boolean[];
  /** Per event: what it is for (see RoomEntry.role). */
  roles: NonNullable<RoomEntry['role']>[];
  summary?: RoomSummary;
}

/** A result of nothing processed: what an answer to invites alone hands effects. */
export const emptyResult = (): ProcessResult => ({
  applied: 0,
  duplicates: 0,
  invalid: 0,
  fresh: [],
  invites: [],
  snapshots: [],
  gappy: [],
  tokenCommitted: false,
  stateResets: 0,
  changes: [],
});

/**
 * Marks the room's RoomInfo as of unknown membership in the plan's ops, when the room is still
 * tracked after them: in its last RoomInfo write, or in one added after the stored RoomInfo.
 */
function markUncertain(roomId: RoomId, ops: StoreOp[], stored: RoomInfo | undefined, now: number): void {
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.op === 'purge-room') return;
    if (op.op === 'put-info' && op.info.roomId === roomId) {
      ops[i] = { op: 'put-info', info: { ...op.info, membershipUncertain: true } };
      return;
    }
  }
  if (stored !== undefined && stored.membershipUncertain !== true) {
    ops.push({ op: 'put-info', info: { ...stored, membershipUncertain: true, updatedAt: now } });
  }
}

/** Whether two raw events are the same JSON: a server's repeat of an event is the same object text. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The one code path from a /sync response body to the store, shared by the live daemon and
 * `roomkeeper replay`: decode → guard → reduce → one batch → report what is new.
 */
export class Pipeline {
  readonly totals: PipelineTotals = { responses: 0, applied: 0, duplicates: 0, invalid: 0, stateResets: 0 };
  readonly #store: SyncStore;
  readonly #bot: UserId;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #maxBatchKeys: number;
  #botRecorded = false;

  constructor(store: SyncStore, options: PipelineOptions) {
    this.#store = store;
    this.#bot = options.botUserId;
    this.#log = options.log.child({ mod: 'pipeline' });
    this.#now = options.now ?? Date.now;
    this.#maxBatchKeys = options.maxBatchKeys ?? 50_000;
  }

  /**
   * Processes one whole /sync response body and commits it; effects may run once it returns.
   * Each section, room, block and event is read on its own: a malformed one is logged with its
   * path, counted, and costs only itself.
   */
  async process(body: unknown, options: ProcessOptions = {}): Promise<ProcessResult> {
    const result = emptyResult();
    const direct = directContentIn(body);
    if (direct !== undefined) result.direct = direct;
    const sections = sectionsOf(body);
    this.#report(sections.issues, result);
    const now = this.#now();

    // One story per room, leave section first: a room kicked from and re-joined within one
    // response window has its leave timeline applied, then its join section, in one plan.
    const byRoom = new Map<RoomId, PendingRoom>();
    for (const section of ['leave', 'join'] as const) {
      for (const [rawRoomId, room] of Object.entries(sections[section])) {
        this.#decodeRoom(rawRoomId, room, section, byRoom, result);
      }
    }
    const pending = [...byRoom.values()];
    result.invites = invitesOf(sections.invite, this.#bot);

    // Two independent reads: let LevelDB's threads serve both at once.
    const [seen, infos] = await Promise.all([this.#store.guard.has(pending), this.#store.rooms.infos(pending.map((p) => p.roomId))]);

    let marks: RoomEvents[] = [];
    let markN = 0;
    let ops: StoreOp[] = [];
    let changes: ChangeDraft[] = [];
    const commit = async (plan: Omit<CommitPlan, 'changes'>) => {
      const logged = await this.#store.commit({ ...plan, changes });
      if (logged !== undefined) result.changes.push(...logged.changes);
    };
    const entriesOf = pending.map((p, i) => p.events.map((event, j): RoomEntry => ({ event, seen: seen[i]![j] === true, timeline: p.inTimeline[j], role: p.roles[j] })));
    // The stored members each room's plan compares with, read side by side: each room is one
    // pending entry, so no commit of this response can change what another room's read sees.
    const membersOf = await this.#memberStates(pending, entriesOf, infos);
    for (const [i, p] of pending.entries()) {
      const answers = seen[i]!;
      const entries = entriesOf[i]!;
      // A `state_after` copy of a timeline event is asked about and counted once, as the timeline's.
      const counted = p.eventIds.filter((_, j) => p.roles[j] !== 'state');
      const roomMarks = p.eventIds.filter((_, j) => answers[j] !== true && p.roles[j] !== 'state');
      const members = membersOf[i];
      // A room only in `leave` that the store never tracked is one the bot is not in.
      const markOnly = p.section === 'leave' && p.leaveCount === undefined && infos[i] === undefined;
      const plan = planRoom(p.roomId, entries, { botUserId: this.#bot, info: infos[i], members, summary: p.summary, now, markOnly });
      if (!markOnly && p.uncertain) markUncertain(p.roomId, plan.ops, infos[i], now);
      result.stateResets += plan.stateResets;
      if (plan.snapshot) result.snapshots.push(p.roomId);
      const leaveEvents = p.leaveCount === undefined ? undefined : new Set(p.events.slice(0, p.leaveCount));
      for (const event of plan.fresh) {
        const section = leaveEvents === undefined ? p.section : leaveEvents.has(event) ? 'leave' : 'join';
        result.fresh.push({ roomId: p.roomId, section, event });
      }
      result.applied += plan.fresh.length;
      result.duplicates += counted.length - plan.fresh.length;

      if (markN + ops.length > 0 && markN + ops.length + roomMarks.length + plan.ops.length > this.#maxBatchKeys) {
        await commit({ marks, ops, now });
        marks = [];
        markN = 0;
        ops = [];
        changes = [];
      }
      if (roomMarks.length > 0) marks.push({ roomId: p.roomId, eventIds: roomMarks });
      markN += roomMarks.length;
      for (const op of plan.ops) ops.push(op);
      for (const change of plan.changes) changes.push(change);
    }
    // Its invites count even without a token: the server sends each once.
    const meta = [...(options.metaWithToken?.(result.invites) ?? [])];
    // Once per pipeline: who the store's rooms are named for (`inspect` has no bot id of its own).
    if (!this.#botRecorded) meta.push({ key: META_KEYS.botUserId, value: () => this.#bot });
    await commit({ marks, ops, now, syncToken: sections.nextBatch, meta, transaction: options.transaction });
    this.#botRecorded = true;
    result.tokenCommitted = sections.nextBatch !== undefined;
    // A room rebuilt from this response (the bot's join) is complete as of its end; Synapse marks
    // every newly joined room's timeline limited, which is no gap worth re-reading the room for.
    result.gappy = result.gappy.filter((roomId) => !result.snapshots.includes(roomId));
    this.#count(result);
    this.totals.lastCommitAt = now;
    return result;
  }

  /**
   * Rebuilds one room from its full current state (e.g. `/rooms/{id}/state`), replacing what the
   * store had; events new to the guard are marked. Used by reconciliation.
   */
  async snapshotRoom(roomId: RoomId, stateEvents: readonly unknown[]): Promise<{ invalid: number }> {
    const result = emptyResult();
    const byRoom = new Map<RoomId, PendingRoom>();
    this.#decodeRoom(roomId, { state: { events: stateEvents } }, 'join', byRoom, result);
    const p = byRoom.get(roomId);
    if (p === undefined) return { invalid: result.invalid };
    const now = this.#now();
    const [seen] = await this.#store.guard.has([p]);
    const [info] = await this.#store.rooms.infos([roomId]);
    const entries = p.events.map((event, j) => ({ event, seen: seen![j] === true }));
    // What the record held, for the change log's diff of the rebuild.
    const members = info === undefined ? undefined : await this.#store.rooms.memberStates?.(roomId, 'all');
    const plan = planRoom(roomId, entries, { botUserId: this.#bot, info, members, now, forceSnapshot: true });
    // Rebuilt from the whole state, the room's membership is known again unless a member event of it is bad.
    if (p.uncertain) markUncertain(roomId, plan.ops, undefined, now);
    await this.#store.commit({ marks: [{ roomId, eventIds: p.eventIds.filter((_, j) => seen![j] !== true) }], ops: plan.ops, now, changes: plan.changes });
    return { invalid: result.invalid };
  }

  /** Forgets a room the bot is no longer in: memberships and RoomInfo go, guard marks stay. */
  async forgetRoom(roomId: RoomId): Promise<void> {
    const now = this.#now();
    const members = await this.#store.rooms.memberStates?.(roomId, 'all');
    const forgotten = rebuildChange(members, new Map(), { roomId, ts: now, cause: 'reconcile' }, true);
    await this.#store.commit({ marks: [], ops: [{ op: 'purge-room', roomId }], now, changes: forgotten === undefined ? [] : [forgotten] });
  }

  /** The stored members the plan of a tracked room compares its seen member events and redactions with. */
  /** The stored members each tracked room's plan compares its events with (see memberReads), in one read. */
  async #memberStates(
    pending: readonly PendingRoom[],
    entriesOf: readonly (readonly RoomEntry[])[],
    infos: readonly (RoomInfo | undefined)[],
  ): Promise<(Map<UserId, MemberState> | undefined)[]> {
    const rooms = this.#store.rooms;
    const requests: MemberRead[] = [];
    const at: (number | undefined)[] = pending.map((p, i) => {
      const info = infos[i];
      if (info === undefined) return undefined;
      const reads = memberReads(entriesOf[i]!, { botUserId: this.#bot, info });
      if (!reads.all && reads.users.length === 0) return undefined;
      return requests.push({ roomId: p.roomId, users: reads.all ? 'all' : reads.users }) - 1;
    });
    if (requests.length === 0) return at.map(() => undefined);
    const read =
      rooms.memberStatesOf !== undefined
        ? await rooms.memberStatesOf(requests)
        : await Promise.all(requests.map((r) => rooms.memberStates?.(r.roomId, r.users) ?? Promise.resolve(undefined)));
    return at.map((j) => (j === undefined ? undefined : read[j]));
  }

  #count(r: ProcessResult): void {
    this.totals.responses++;
    this.totals.applied += r.applied;
    this.totals.duplicates += r.duplicates;
    this.totals.invalid += r.invalid;
    this.totals.stateResets += r.stateResets;
  }

  #report(issues: readonly BodyIssue[], result: ProcessResult, roomId?: string): void {
    for (const { path, reason } of issues) {
      this.#log.warn({ path, roomId, reason }, 'part of sync response is malformed; skipped');
      result.invalid++;
    }
  }

  /** Decodes one room of a section into `byRoom`, after its events of an earlier section. */
  #decodeRoom(rawRoomId: string, raw: unknown, section: 'join' | 'leave', byRoom: Map<RoomId, PendingRoom>, result: ProcessResult): void {
    const path = `rooms.${section}.${rawRoomId}`;
    const roomId = roomIdSchema.safeParse(rawRoomId);
    if (!roomId.success) {
      this.#report([{ path, reason: roomId.error.issues[0]?.message ?? 'not a room id' }], result, rawRoomId);
      return;
    }
    const blocks = roomBlocksOf(raw, path);
    this.#report(blocks.issues, result, rawRoomId);
    let p = byRoom.get(roomId.data);
    if (p === undefined) {
      p = { roomId: roomId.data, section, events: [], eventIds: [], uncertain: false, inTimeline: [], roles: [] };
      byRoom.set(roomId.data, p);
    } else if (p.section !== section) p.leaveCount = p.events.length;
    // A block that could not be read may have held anyone's membership.
    if (blocks.issues.length > 0) p.uncertain = true;
    // The later section's summary is the newer one.
    if (blocks.summary !== undefined) p.summary = blocks.summary;
    if (blocks.limited && !result.gappy.includes(p.roomId)) result.gappy.push(p.roomId);
    // Event ids of the room seen so far in this response, its other section included.
    const ids = new Set(p.eventIds);
    // MSC4222: with `state_after`, the room's state at the end of the timeline is authoritative;
    // the timeline's state events are history that it already resolves (and `state` is absent).
    const stateAfter = blocks.stateAfter;
    const list: [readonly unknown[], 'state' | 'timeline' | 'state-after'][] =
      stateAfter === undefined
        ? [
            [blocks.state, 'state'],
            [blocks.timeline, 'timeline'],
          ]
        : [
            [blocks.timeline, 'timeline'],
            [stateAfter, 'state-after'],
          ];
    const timelineAt = new Map<EventId, number>();
    // Each event's raw form in this room block, to tell a repeat from a forgery under its id.
    const rawOf = new Map<EventId, unknown>();
    const stateAt = new Map<EventId, number>();
    for (const [events, block] of list) {
      const isStateBlock = block !== 'timeline';
      for (const rawEvent of events) {
        const decoded = decodeEvent(rawEvent, isStateBlock);
        if (!decoded.ok) {
          this.#log.warn({ roomId: p.roomId, eventId: decoded.eventId, type: decoded.type, reason: decoded.reason }, 'invalid event skipped');
          result.invalid++;
          // A member event we cannot read (or an event of no readable type) could be anyone's join.
          if (decoded.type === undefined || decoded.type === 'm.room.member') p.uncertain = true;
          continue;
        }
        const eventId = decoded.event.eventId;
        if (block === 'state-after' && timelineAt.has(eventId)) {
          // The timeline's event is the room's state now: it applies here, counted there.
          p.events.push(decoded.event);
          p.eventIds.push(eventId);
          p.inTimeline.push(false);
          p.roles.push('state');
          continue;
        }
        // The same event in the state block and the timeline, or twice in one list.
        if (ids.has(eventId)) {
          const first = rawOf.get(eventId);
          if (first !== undefined && !sameJson(first, rawEvent)) {
            // One id, two contents: at most one is the server's, and the first is kept. The
            // copy says nothing, not even that the event is in the timeline.
            this.#log.warn({ roomId: p.roomId, eventId, kind: decoded.event.kind }, 'event repeated with other content; the first kept');
            result.invalid++;
            continue;
          }
          // Kept where it came first, but it is in the timeline: that says whether the room's
          // block is news or a response read again (isRedelivery).
          const at = block === 'timeline' ? stateAt.get(eventId) : undefined;
          if (at !== undefined) p.inTimeline[at] = true;
          result.duplicates++;
          continue;
        }
        rawOf.set(eventId, rawEvent);
        ids.add(eventId);
        p.events.push(decoded.event);
        p.eventIds.push(eventId);
        p.inTimeline.push(!isStateBlock);
        p.roles.push(stateAfter !== undefined && block === 'timeline' && isStateEvent(decoded.event) ? 'effects' : 'both');
        if (block === 'timeline') timelineAt.set(eventId, p.events.length - 1);
        else stateAt.set(eventId, p.events.length - 1);
      }
    }
  }
}
