import type { z } from 'zod';
import type { Logger } from '../log.js';
import { decodeEvent, isStateEvent, type TrackedEvent } from '../state/events.js';
import { isJsonObject } from '../state/json.js';
import { roomIdSchema, type EventId, type RoomId, type UserId } from '../state/ids.js';
import { memberReads, planRoom, type RoomEntry, type RoomSummary, type StoreOp } from '../state/reduce.js';
import type { MemberState, RoomInfo } from '../state/room-info.js';
import { directContentIn, invitesIn, invitesOf, stateAfterOf, summaryOf, syncBodySchema, syncRoomSchema, type Invite } from '../state/sync-body.js';
import { META_KEYS } from '../store/meta-keys.js';
import type { MetaWrite, RoomEvents, SyncStore } from '../store/sync-store.js';

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
   * Tracked state keys that a state block moved to an event the guard had seen, other than the
   * one stored: state resets (or resolved conflicts) followed.
   */
  stateResets: number;
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
}

interface PendingRoom {
  roomId: RoomId;
  section: 'join' | 'leave';
  events: TrackedEvent[];
  /** The ids of `events`, in order: what the guard is asked about. */
  eventIds: EventId[];
  /** Per event: it came in the timeline. */
  inTimeline: boolean[];
  /** Per event: what it is for (see RoomEntry.role). */
  roles: NonNullable<RoomEntry['role']>[];
  summary?: RoomSummary;
}

/** Event ids seen so far in the response, by room: a room may be in `leave` and in `join`. */
type InResponse = Map<RoomId, Set<EventId>>;

type SyncRoom = z.infer<typeof syncRoomSchema>;

function isEventsBlock(v: unknown, timeline: boolean): boolean {
  if (v === undefined) return true;
  if (!isJsonObject(v)) return false;
  if (v.events !== undefined && !Array.isArray(v.events)) return false;
  return !timeline || v.limited === undefined || typeof v.limited === 'boolean';
}

/**
 * syncRoomSchema's answer for a room of the usual shape, without its copies of every event
 * array; undefined (ask the schema) for anything else.
 */
function roomBlocks(raw: unknown): { success: true; data: SyncRoom; error?: undefined } | undefined {
  if (!isJsonObject(raw) || !isEventsBlock(raw.state, false) || !isEventsBlock(raw.timeline, true)) return undefined;
  return { success: true, data: raw };
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

  /** Processes one whole /sync response body and commits it; effects may run once it returns. */
  async process(body: unknown, options: ProcessOptions = {}): Promise<ProcessResult> {
    const result: ProcessResult = { applied: 0, duplicates: 0, invalid: 0, fresh: [], invites: [], snapshots: [], gappy: [], stateResets: 0 };
    const direct = directContentIn(body);
    if (direct !== undefined) result.direct = direct;
    const parsed = syncBodySchema.safeParse(body);
    if (!parsed.success) {
      this.#log.warn({ reason: parsed.error.issues[0]?.message }, 'sync response is not a /sync body; skipped');
      result.invalid++;
      // Its invites still count: the server sends each once.
      result.invites = invitesIn(body, this.#bot);
      const meta = options.metaWithToken?.(result.invites) ?? [];
      if (meta.length > 0) await this.#store.commit({ marks: [], ops: [], meta, now: this.#now() });
      this.#count(result);
      return result;
    }
    const rooms = parsed.data.rooms;
    const now = this.#now();

    // Leave before join: a room left and rejoined within one response window ends joined.
    const pending: PendingRoom[] = [];
    const inResponse: InResponse = new Map();
    for (const [section, byRoom] of [['leave', rooms?.leave], ['join', rooms?.join]] as const) {
      for (const [rawRoomId, room] of Object.entries(byRoom ?? {})) {
        const p = this.#decodeRoom(rawRoomId, room, section, inResponse, result);
        if (p !== undefined) pending.push(p);
      }
    }
    result.invites = invitesOf(rooms?.invite, this.#bot);

    // Two independent reads: let LevelDB's threads serve both at once.
    const [seen, infos] = await Promise.all([this.#store.guard.has(pending), this.#store.rooms.infos(pending.map((p) => p.roomId))]);

    let marks: RoomEvents[] = [];
    let markN = 0;
    let ops: StoreOp[] = [];
    for (const [i, p] of pending.entries()) {
      const answers = seen[i]!;
      const entries: RoomEntry[] = p.events.map((event, j) => ({ event, seen: answers[j] === true, timeline: p.inTimeline[j], role: p.roles[j] }));
      // A `state_after` copy of a timeline event is asked about and counted once, as the timeline's.
      const counted = p.eventIds.filter((_, j) => p.roles[j] !== 'state');
      const roomMarks = p.eventIds.filter((_, j) => answers[j] !== true && p.roles[j] !== 'state');
      const members = await this.#memberStates(p.roomId, entries, infos[i]);
      const plan = planRoom(p.roomId, entries, { botUserId: this.#bot, info: infos[i], members, summary: p.summary, now });
      result.stateResets += plan.stateResets;
      if (plan.snapshot) result.snapshots.push(p.roomId);
      for (const event of plan.fresh) result.fresh.push({ roomId: p.roomId, section: p.section, event });
      result.applied += plan.fresh.length;
      result.duplicates += counted.length - plan.fresh.length;

      if (markN + ops.length > 0 && markN + ops.length + roomMarks.length + plan.ops.length > this.#maxBatchKeys) {
        await this.#store.commit({ marks, ops, now });
        marks = [];
        markN = 0;
        ops = [];
      }
      if (roomMarks.length > 0) marks.push({ roomId: p.roomId, eventIds: roomMarks });
      markN += roomMarks.length;
      for (const op of plan.ops) ops.push(op);
    }
    const meta = [...(options.metaWithToken?.(result.invites) ?? [])];
    // Once per pipeline: who the store's rooms are named for (`inspect` has no bot id of its own).
    if (!this.#botRecorded) meta.push({ key: META_KEYS.botUserId, value: () => this.#bot });
    await this.#store.commit({ marks, ops, now, syncToken: parsed.data.next_batch, meta });
    this.#botRecorded = true;
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
    const result: ProcessResult = { applied: 0, duplicates: 0, invalid: 0, fresh: [], invites: [], snapshots: [], gappy: [], stateResets: 0 };
    const p = this.#decodeRoom(roomId, { state: { events: stateEvents } }, 'join', new Map(), result);
    if (p === undefined) return { invalid: result.invalid };
    const now = this.#now();
    const [seen] = await this.#store.guard.has([p]);
    const [info] = await this.#store.rooms.infos([roomId]);
    const entries = p.events.map((event, j) => ({ event, seen: seen![j] === true }));
    const plan = planRoom(roomId, entries, { botUserId: this.#bot, info, now, forceSnapshot: true });
    await this.#store.commit({ marks: [{ roomId, eventIds: p.eventIds.filter((_, j) => seen![j] !== true) }], ops: plan.ops, now });
    return { invalid: result.invalid };
  }

  /** Forgets a room the bot is no longer in: memberships and RoomInfo go, guard marks stay. */
  async forgetRoom(roomId: RoomId): Promise<void> {
    await this.#store.commit({ marks: [], ops: [{ op: 'purge-room', roomId }], now: this.#now() });
  }

  /** The stored members the plan of a tracked room compares its seen member events and redactions with. */
  async #memberStates(roomId: RoomId, entries: readonly RoomEntry[], info: RoomInfo | undefined): Promise<Map<UserId, MemberState> | undefined> {
    if (info === undefined) return undefined;
    const reads = memberReads(entries);
    if (!reads.all && reads.users.length === 0) return undefined;
    return this.#store.rooms.memberStates?.(roomId, reads.all ? 'all' : reads.users);
  }

  #count(r: ProcessResult): void {
    this.totals.responses++;
    this.totals.applied += r.applied;
    this.totals.duplicates += r.duplicates;
    this.totals.invalid += r.invalid;
    this.totals.stateResets += r.stateResets;
  }

  #decodeRoom(
    rawRoomId: string,
    raw: unknown,
    section: 'join' | 'leave',
    inResponse: InResponse,
    result: ProcessResult,
  ): PendingRoom | undefined {
    const roomId = roomIdSchema.safeParse(rawRoomId);
    const room = roomBlocks(raw) ?? syncRoomSchema.safeParse(raw);
    if (!roomId.success || !room.success) {
      const reason = !roomId.success ? roomId.error.issues[0]?.message : room.error?.issues[0]?.message;
      this.#log.warn({ roomId: rawRoomId, reason }, 'room of sync response is malformed; skipped');
      result.invalid++;
      return undefined;
    }
    const p: PendingRoom = { roomId: roomId.data, section, events: [], eventIds: [], inTimeline: [], roles: [] };
    const fields = room.data as Record<string, unknown>;
    const summary = summaryOf(fields);
    if (summary !== undefined) p.summary = summary;
    // MSC4222: with `state_after`, the room's state at the end of the timeline is authoritative;
    // the timeline's state events are history that it already resolves (and `state` is absent).
    const stateAfter = stateAfterOf(fields);
    let ids = inResponse.get(p.roomId);
    if (ids === undefined) inResponse.set(p.roomId, (ids = new Set()));
    if (room.data.timeline?.limited === true) result.gappy.push(p.roomId);
    const blocks: [readonly unknown[], 'state' | 'timeline' | 'state-after'][] =
      stateAfter === undefined
        ? [
            [room.data.state?.events ?? [], 'state'],
            [room.data.timeline?.events ?? [], 'timeline'],
          ]
        : [
            [room.data.timeline?.events ?? [], 'timeline'],
            [stateAfter, 'state-after'],
          ];
    const timelineAt = new Map<EventId, number>();
    const stateAt = new Map<EventId, number>();
    for (const [events, block] of blocks) {
      const isStateBlock = block !== 'timeline';
      for (const rawEvent of events) {
        const decoded = decodeEvent(rawEvent, isStateBlock);
        if (!decoded.ok) {
          this.#log.warn(
            { roomId: p.roomId, eventId: decoded.eventId, type: decoded.type, reason: decoded.reason },
            'invalid event skipped',
          );
          result.invalid++;
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
          // Kept where it came first, but it is in the timeline: that says whether the room's
          // block is news or a response read again (isRedelivery).
          const at = block === 'timeline' ? stateAt.get(eventId) : undefined;
          if (at !== undefined) p.inTimeline[at] = true;
          result.duplicates++;
          continue;
        }
        ids.add(eventId);
        p.events.push(decoded.event);
        p.eventIds.push(eventId);
        p.inTimeline.push(!isStateBlock);
        p.roles.push(stateAfter !== undefined && block === 'timeline' && isStateEvent(decoded.event) ? 'effects' : 'both');
        if (block === 'timeline') timelineAt.set(eventId, p.events.length - 1);
        else stateAt.set(eventId, p.events.length - 1);
      }
    }
    return p;
  }
}
