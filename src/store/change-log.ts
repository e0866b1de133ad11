import { RoomkeeperError } from '../errors.js';
import { userOfChange, type Change, type ChangeDraft } from '../state/changes.js';
import type { RoomId, UserId } from '../state/ids.js';
import { isJsonObject } from '../state/json.js';
import { changeIndexKey, changeKey, prefixRange, SEP, seqOfChangeKey } from './keys.js';
import type { Db, Namespaces, Prefixes, RootBatch } from './level.js';
import { META_KEYS } from './meta-keys.js';
import { writeBatch } from './commit.js';
import { pruneInChunks } from './prune-chunks.js';
import type { WriteLock } from './write-lock.js';

/** Changes deleted per prune batch (three keys each at most): commits waiting behind one barely notice. */
const PRUNE_CHUNK_CHANGES = 1024;

/** Most changes one history or read call returns. */
export const MAX_CHANGES_READ = 1000;

/** What the change log shares with the store it is part of. */
export interface ChangeLogDeps {
  db: Db;
  ns: Namespaces;
  prefix: Prefixes;
  lock: WriteLock;
  /** The next sequence number, as the last commit stored it. */
  nextSeq: number;
  closing: () => boolean;
}

/** Which changes `history` returns, newest first. */
export interface HistoryQuery {
  room?: RoomId;
  user?: UserId;
  /** Only changes logged at or after this local time (ms). */
  since?: number;
  /** Only changes logged before this local time (ms). */
  until?: number;
  /** Only changes before this cursor (the next page of a history read). */
  before?: string;
  /** At most this many (default 50, at most MAX_CHANGES_READ). */
  limit?: number;
}

/** The sequence number a cursor names; BAD_CURSOR when it is not a cursor. */
export function seqOfCursor(cursor: string): number {
  const seq = typeof cursor === 'string' ? seqOfChangeKey(cursor) : undefined;
  if (seq === undefined) throw new RoomkeeperError('BAD_CURSOR', `${JSON.stringify(cursor)} is not a change-log cursor`);
  return seq;
}

function decodeChange(key: string, value: string): Change {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new RoomkeeperError('STORE_CORRUPT', `change ${key} of the change log is not JSON`, { cause: err });
  }
  if (!isJsonObject(parsed) || typeof parsed['kind'] !== 'string' || typeof parsed['roomId'] !== 'string' || typeof parsed['at'] !== 'number') {
    throw new RoomkeeperError('STORE_CORRUPT', `change ${key} of the change log is not a change`);
  }
  // Written by `append` from a typed draft; the checks above catch a damaged value, not a forged one.
  return { ...parsed, cursor: key } as unknown as Change;
}

/**
 * The change log: `changes: seq → change`, with `changes-by-room: room SEP seq` and
 * `changes-by-user: user SEP seq` (empty values) so that a room's or a user's history is one
 * prefix range read backwards. Appended to inside the commits' batches (see `append`); pruned by
 * time from its oldest end.
 */
export class ChangeLog {
  readonly #deps: ChangeLogDeps;
  #nextSeq: number;
  readonly #listeners = new Set<(changes: readonly Change[]) => void>();
  #wake: (() => void)[] = [];
  #generation = 0;
  #closed = false;

  constructor(deps: ChangeLogDeps) {
    this.#deps = deps;
    this.#nextSeq = deps.nextSeq;
  }

  /**
   * @internal Puts the changes into a commit's batch with their sequence numbers, and the next
   * number into meta; returns them as stored and how many keys that took.
   */
  append(batch: RootBatch, drafts: readonly ChangeDraft[], now: number): { changes: Change[]; keys: number } {
    if (drafts.length === 0) return { changes: [], keys: 0 };
    const p = this.#deps.prefix;
    const changes: Change[] = [];
    let keys = 0;
    let seq = this.#nextSeq;
    for (const draft of drafts) {
      const key = changeKey(seq);
      batch.put(p.changes + key, JSON.stringify({ ...draft, at: now }));
      batch.put(p.changesByRoom + changeIndexKey(draft.roomId, seq), '');
      keys += 2;
      const user = userOfChange(draft);
      if (user !== undefined) {
        batch.put(p.changesByUser + changeIndexKey(user, seq), '');
        keys++;
      }
      changes.push({ ...draft, cursor: key, at: now });
      seq++;
    }
    batch.put(p.meta + META_KEYS.changeSeq, String(seq));
    return { changes, keys: keys + 1 };
  }

  /** @internal The batch holding `changes` was written: their numbers are taken, readers are told. */
  logged(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    this.#nextSeq = seqOfCursor(changes.at(-1)!.cursor) + 1;
    this.#generation++;
    for (const wake of this.#wake.splice(0)) wake();
    for (const listener of this.#listeners) listener(changes);
  }

  /** @internal Wakes every reader waiting for a commit (the store is closing). */
  closed(): void {
    this.#closed = true;
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Calls `fn` with the changes of each commit, after it is written. */
  subscribe(fn: (changes: readonly Change[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** A number that moves on with each commit that logs changes: compare before and after a read. */
  generation(): number {
    return this.#generation;
  }

  /** Resolves after the next commit that logs changes, or when the store closes (at once when it has). */
  nextCommit(): Promise<void> {
    // A reader that began its wait after the close must not wait for ever.
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  /** The cursor the next change will get: every change so far is before it. */
  end(): string {
    return changeKey(this.#nextSeq);
  }

  /** Up to `limit` stored changes after `cursor` (from the start without one), oldest first. */
  async after(cursor: string | undefined, limit = MAX_CHANGES_READ): Promise<Change[]> {
    const range = cursor === undefined ? {} : { gt: changeKey(seqOfCursor(cursor)) };
    const entries = await this.#deps.ns.changes.iterator({ ...range, limit: Math.min(limit, MAX_CHANGES_READ) }).all();
    return entries.map(([k, v]) => decodeChange(k, v));
  }

  /**
   * Stored changes, newest first: of one room or one user (one prefix range of its index, read
   * backwards), or of everything. With both, the user's range, filtered by room.
   */
  async history(q: HistoryQuery): Promise<Change[]> {
    const limit = Math.max(0, Math.min(q.limit ?? 50, MAX_CHANGES_READ));
    if (limit === 0) return [];
    const before = q.before === undefined ? undefined : seqOfCursor(q.before);
    const out: Change[] = [];
    const keep = (c: Change): 'keep' | 'skip' | 'stop' => {
      // The log is in commit order, and commit time follows it (up to clock steps back).
      if (q.since !== undefined && c.at < q.since) return 'stop';
      if (q.until !== undefined && c.at >= q.until) return 'skip';
      if (q.room !== undefined && c.roomId !== q.room) return 'skip';
      return 'keep';
    };
    const index = q.user !== undefined ? { ns: this.#deps.ns.changesByUser, id: q.user as string } : q.room !== undefined ? { ns: this.#deps.ns.changesByRoom, id: q.room as string } : undefined;
    if (index === undefined) {
      const it = this.#deps.ns.changes.iterator({ reverse: true, ...(before === undefined ? {} : { lt: changeKey(before) }) });
      try {
        for (let entry = await it.next(); entry !== undefined; entry = await it.next()) {
          const c = decodeChange(entry[0], entry[1]);
          const verdict = keep(c);
          if (verdict === 'stop') break;
          if (verdict === 'keep' && out.push(c) >= limit) break;
        }
      } finally {
        await it.close();
      }
      return out;
    }
    const range = prefixRange(index.id);
    const upper = before === undefined ? range.lt : changeIndexKey(index.id, before);
    const it = index.ns.keys({ gte: range.gte, lt: upper, reverse: true });
    try {
      // Index keys a page at a time, their changes with one getMany per page.
      for (;;) {
        const keys = await it.nextv(Math.min(limit * 2, MAX_CHANGES_READ));
        if (keys.length === 0) return out;
        const seqKeys = keys.map((k) => k.slice(k.lastIndexOf(SEP) + 1));
        const values = await this.#deps.ns.changes.getMany(seqKeys);
        for (const [i, value] of values.entries()) {
          // An index entry whose change a prune took in the same batch cannot exist; skip defensively.
          if (value === undefined) continue;
          const c = decodeChange(seqKeys[i]!, value);
          const verdict = keep(c);
          if (verdict === 'stop') return out;
          if (verdict === 'keep' && out.push(c) >= limit) return out;
        }
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Forgets changes logged before `cutoffMs` (epoch ms), oldest first, a chunk at a time: the log
   * is in commit order, so it reads only what it deletes and the first change it keeps. Returns
   * how many went; a close stops it between chunks.
   */
  async prune(cutoffMs: number): Promise<number> {
    if (this.#deps.closing()) throw new RoomkeeperError('STORE_CLOSED', 'the roomkeeper store is closed');
    return pruneInChunks(this.#deps.lock, this.#deps.closing, () => this.#pruneChunk(cutoffMs));
  }

  async #pruneChunk(cutoffMs: number): Promise<number> {
    let n = 0;
    await writeBatch(this.#deps.db, async (batch) => {
      const p = this.#deps.prefix;
      const entries = await this.#deps.ns.changes.iterator({ limit: PRUNE_CHUNK_CHANGES }).all();
      for (const [key, value] of entries) {
        const c = decodeChange(key, value);
        if (c.at >= cutoffMs) break;
        const seq = seqOfCursor(key);
        batch.del(p.changes + key);
        batch.del(p.changesByRoom + changeIndexKey(c.roomId, seq));
        const user = userOfChange(c);
        if (user !== undefined) batch.del(p.changesByUser + changeIndexKey(user, seq));
        n++;
      }
      return n === 0 ? undefined : () => undefined;
    });
    return n;
  }
}
