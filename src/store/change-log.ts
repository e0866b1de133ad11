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

/** Pages (one per commit that logged changes) deleted per prune batch: commits waiting behind one barely notice. */
const PRUNE_CHUNK_PAGES = 256;

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

/** One commit's changes as stored: `at` once, the drafts in order (the first has the page key's number). */
interface Page {
  firstSeq: number;
  at: number;
  drafts: ChangeDraft[];
}

function decodePage(key: string, value: string): Page {
  const firstSeq = seqOfChangeKey(key);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new RoomkeeperError('STORE_CORRUPT', `page ${key} of the change log is not JSON`, { cause: err });
  }
  const drafts: unknown = isJsonObject(parsed) ? parsed['changes'] : undefined;
  if (firstSeq === undefined || !isJsonObject(parsed) || typeof parsed['at'] !== 'number' || !Array.isArray(drafts)) {
    throw new RoomkeeperError('STORE_CORRUPT', `page ${key} of the change log is not a list of changes`);
  }
  for (const d of drafts) {
    if (!isJsonObject(d) || typeof d['kind'] !== 'string' || typeof d['roomId'] !== 'string') {
      throw new RoomkeeperError('STORE_CORRUPT', `page ${key} of the change log holds something that is not a change`);
    }
  }
  // Written by `append` from typed drafts; the checks above catch a damaged value, not a forged one.
  return { firstSeq, at: parsed['at'], drafts: drafts as ChangeDraft[] };
}

/** The changes of a page, oldest first, with their cursors. */
function changesOf(page: Page): Change[] {
  return page.drafts.map((d, i) => ({ ...d, at: page.at, cursor: changeKey(page.firstSeq + i) }));
}

/** The distinct rooms and users (member and profile changes) a page's changes are about. */
function indexIdsOf(drafts: readonly ChangeDraft[]): { rooms: Set<string>; users: Set<string> } {
  const rooms = new Set<string>();
  const users = new Set<string>();
  for (const d of drafts) {
    rooms.add(d.roomId);
    const user = userOfChange(d);
    if (user !== undefined) users.add(user);
  }
  return { rooms, users };
}

/**
 * The change log, one page per commit: `changes: firstSeq → {at, changes}` holds every change a
 * commit's batch logged (change `firstSeq + i` is the i-th), with `changes-by-room: room SEP
 * firstSeq` and `changes-by-user: user SEP firstSeq` (empty values) once per room and per user
 * that the page is about, so that a room's or a user's history is one prefix range read
 * backwards. A response's changes thus cost one key for the page, one per room and one per
 * member in it — at most one key per change, plus two a commit — where a key per change and per
 * index entry cost three. Appended to inside the commits' batches (see `append`); pruned by time
 * from its oldest end, a page at a time.
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
    const firstSeq = this.#nextSeq;
    batch.put(p.changes + changeKey(firstSeq), JSON.stringify({ at: now, changes: drafts }));
    const { rooms, users } = indexIdsOf(drafts);
    for (const room of rooms) batch.put(p.changesByRoom + changeIndexKey(room, firstSeq), '');
    for (const user of users) batch.put(p.changesByUser + changeIndexKey(user, firstSeq), '');
    batch.put(p.meta + META_KEYS.changeSeq, String(firstSeq + drafts.length));
    return { changes: changesOf({ firstSeq, at: now, drafts: [...drafts] }), keys: 2 + rooms.size + users.size };
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
    const max = Math.max(0, Math.min(limit, MAX_CHANGES_READ));
    const afterSeq = cursor === undefined ? undefined : seqOfCursor(cursor);
    const ns = this.#deps.ns.changes;
    // The page holding the cursor's change starts at or before it; the ones after it follow.
    let from: string | undefined;
    if (afterSeq !== undefined) {
      const [holding] = await ns.keys({ lte: changeKey(afterSeq), reverse: true, limit: 1 }).all();
      from = holding ?? changeKey(afterSeq);
    }
    const out: Change[] = [];
    const it = ns.iterator(from === undefined ? {} : { gte: from });
    try {
      while (out.length < max) {
        const entries = await it.nextv(16);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          for (const c of changesOf(decodePage(key, value))) {
            if (afterSeq !== undefined && seqOfCursor(c.cursor) <= afterSeq) continue;
            if (out.push(c) >= max) break;
          }
          if (out.length >= max) break;
        }
      }
    } finally {
      await it.close();
    }
    return out;
  }

  /**
   * Stored changes, newest first: of one room or one user (one prefix range of its index, read
   * backwards, and the pages it names), or of everything. With both, the user's range, filtered
   * by room.
   */
  async history(q: HistoryQuery): Promise<Change[]> {
    const limit = Math.max(0, Math.min(q.limit ?? 50, MAX_CHANGES_READ));
    if (limit === 0) return [];
    const before = q.before === undefined ? undefined : seqOfCursor(q.before);
    const out: Change[] = [];
    /** Takes a page's matching changes, newest first; false once the query is answered. */
    const take = (page: Page): boolean => {
      // The log is in commit order, and commit time follows it (up to clock steps back).
      if (q.since !== undefined && page.at < q.since) return false;
      if (q.until !== undefined && page.at >= q.until) return true;
      const changes = changesOf(page);
      for (let i = changes.length - 1; i >= 0; i--) {
        const c = changes[i]!;
        if (before !== undefined && seqOfCursor(c.cursor) >= before) continue;
        if (q.room !== undefined && c.roomId !== q.room) continue;
        if (q.user !== undefined && userOfChange(c) !== q.user) continue;
        if (out.push(c) >= limit) return false;
      }
      return true;
    };
    const index = q.user !== undefined ? { ns: this.#deps.ns.changesByUser, id: q.user as string } : q.room !== undefined ? { ns: this.#deps.ns.changesByRoom, id: q.room as string } : undefined;
    if (index === undefined) {
      const it = this.#deps.ns.changes.iterator({ reverse: true, ...(before === undefined ? {} : { lte: changeKey(before) }) });
      try {
        for (let entry = await it.next(); entry !== undefined; entry = await it.next()) {
          if (!take(decodePage(entry[0], entry[1]))) break;
        }
      } finally {
        await it.close();
      }
      return out;
    }
    const range = prefixRange(index.id);
    // The page holding `before` starts at or before it: its older changes count.
    const it = index.ns.keys(before === undefined ? { ...range, reverse: true } : { gte: range.gte, lte: changeIndexKey(index.id, before), reverse: true });
    try {
      // Index keys a page at a time, their pages with one getMany.
      for (;;) {
        const keys = await it.nextv(Math.min(limit, 64));
        if (keys.length === 0) return out;
        const pageKeys = keys.map((k) => k.slice(k.lastIndexOf(SEP) + 1));
        const values = await this.#deps.ns.changes.getMany(pageKeys);
        for (const [i, value] of values.entries()) {
          // An index entry whose page a prune took in the same batch cannot exist; skip defensively.
          if (value === undefined) continue;
          if (!take(decodePage(pageKeys[i]!, value))) return out;
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
      const entries = await this.#deps.ns.changes.iterator({ limit: PRUNE_CHUNK_PAGES }).all();
      for (const [key, value] of entries) {
        const page = decodePage(key, value);
        if (page.at >= cutoffMs) break;
        batch.del(p.changes + key);
        const { rooms, users } = indexIdsOf(page.drafts);
        for (const room of rooms) batch.del(p.changesByRoom + changeIndexKey(room, page.firstSeq));
        for (const user of users) batch.del(p.changesByUser + changeIndexKey(user, page.firstSeq));
        n += page.drafts.length;
      }
      return n === 0 ? undefined : () => undefined;
    });
    return n;
  }
}
