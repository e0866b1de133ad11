import type { z } from 'zod';
import type { Logger } from '../log.js';
import { decodeEvent, type TrackedEvent } from '../state/events.js';
import { roomIdSchema, type RoomId, type UserId } from '../state/ids.js';
import { memberReads, planRoom, type RoomEntry, type StoreOp } from '../state/reduce.js';
import type { MemberState, RoomInfo } from '../state/room-info.js';
import { syncBodySchema, syncRoomSchema, invitesIn, type Invite } from '../state/sync-body.js';
import { guardKey } from '../store/keys.js';
import type { Store } from '../store/store.js';

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

interface PendingRoom {
  roomId: RoomId;
  section: 'join' | 'leave';
  events: TrackedEvent[];
  keys: string[];
  /** Per event: it came in the timeline. */
  inTimeline: boolean[];
}

type SyncRoom = z.infer<typeof syncRoomSchema>;

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

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
  readonly #store: Store;
  readonly #bot: UserId;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #maxBatchKeys: number;

  constructor(store: Store, options: PipelineOptions) {
    this.#store = store;
    this.#bot = options.botUserId;
    this.#log = options.log.child({ mod: 'pipeline' });
    this.#now = options.now ?? Date.now;
    this.#maxBatchKeys = options.maxBatchKeys ?? 50_000;
  }

  /** Processes one whole /sync response body and commits it; effects may run once it returns. */
  async process(body: unknown): Promise<ProcessResult> {
    const result: ProcessResult = { applied: 0, duplicates: 0, invalid: 0, fresh: [], invites: [], snapshots: [], gappy: [], stateResets: 0 };
    const parsed = syncBodySchema.safeParse(body);
    if (!parsed.success) {
      this.#log.warn({ reason: parsed.error.issues[0]?.message }, 'sync response is not a /sync body; skipped');
      result.invalid++;
      this.#count(result);
      return result;
    }
    const rooms = parsed.data.rooms;
    const now = this.#now();

    // Leave before join: a room left and rejoined within one response window ends joined.
    const pending: PendingRoom[] = [];
    const inResponse = new Set<string>();
    for (const [section, byRoom] of [['leave', rooms?.leave], ['join', rooms?.join]] as const) {
      for (const [rawRoomId, room] of Object.entries(byRoom ?? {})) {
        const p = this.#decodeRoom(rawRoomId, room, section, inResponse, result);
        if (p !== undefined) pending.push(p);
      }
    }
    result.invites = invitesIn(body, this.#bot);

    const allKeys = pending.flatMap((p) => p.keys);
    // Two independent reads: let LevelDB's threads serve both at once.
    const [seen, infos] = await Promise.all([this.#store.guard.has(allKeys), this.#store.rooms.infos(pending.map((p) => p.roomId))]);

    let marks: string[] = [];
    let ops: StoreOp[] = [];
    let offset = 0;
    for (const [i, p] of pending.entries()) {
      const entries: RoomEntry[] = p.events.map((event, j) => ({ event, seen: seen[offset + j] === true, timeline: p.inTimeline[j] }));
      const roomMarks = p.keys.filter((_, j) => seen[offset + j] !== true);
      offset += p.keys.length;
      const members = await this.#memberStates(p.roomId, entries, infos[i]);
      const plan = planRoom(p.roomId, entries, { botUserId: this.#bot, info: infos[i], members, now });
      result.stateResets += plan.stateResets;
      if (plan.snapshot) result.snapshots.push(p.roomId);
      for (const event of plan.fresh) result.fresh.push({ roomId: p.roomId, section: p.section, event });
      result.applied += plan.fresh.length;
      result.duplicates += p.keys.length - plan.fresh.length;

      if (marks.length + ops.length > 0 && marks.length + ops.length + roomMarks.length + plan.ops.length > this.#maxBatchKeys) {
        await this.#store.commit({ marks, ops, now });
        marks = [];
        ops = [];
      }
      for (const m of roomMarks) marks.push(m);
      for (const op of plan.ops) ops.push(op);
    }
    await this.#store.commit({ marks, ops, now, syncToken: parsed.data.next_batch });
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
    const p = this.#decodeRoom(roomId, { state: { events: stateEvents } }, 'join', new Set(), result);
    if (p === undefined) return { invalid: result.invalid };
    const now = this.#now();
    const seen = await this.#store.guard.has(p.keys);
    const [info] = await this.#store.rooms.infos([roomId]);
    const entries = p.events.map((event, j) => ({ event, seen: seen[j] === true }));
    const plan = planRoom(roomId, entries, { botUserId: this.#bot, info, now, forceSnapshot: true });
    await this.#store.commit({ marks: p.keys.filter((_, j) => seen[j] !== true), ops: plan.ops, now });
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
    return this.#store.rooms.memberStates(roomId, reads.all ? 'all' : reads.users);
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
    inResponse: Set<string>,
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
    const p: PendingRoom = { roomId: roomId.data, section, events: [], keys: [], inTimeline: [] };
    if (room.data.timeline?.limited === true) result.gappy.push(p.roomId);
    const blocks = [
      [room.data.state?.events ?? [], true],
      [room.data.timeline?.events ?? [], false],
    ] as const;
    for (const [events, isStateBlock] of blocks) {
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
        const key = guardKey(p.roomId, decoded.event.eventId);
        // The same event in the state block and the timeline, or twice in one list.
        if (inResponse.has(key)) {
          result.duplicates++;
          continue;
        }
        inResponse.add(key);
        p.events.push(decoded.event);
        p.keys.push(key);
        p.inTimeline.push(!isStateBlock);
      }
    }
    return p;
  }
}
