import { RoomkeeperError } from '../errors.js';
import { guardKey, prefixRange, SEP, timeKeyBefore, txnKey } from './keys.js';
import type { Db, Namespaces, Prefixes } from './level.js';
import { META_KEYS } from './meta-keys.js';
import type { GuardReader, RoomEvents, TransactionRef } from './sync-store.js';
import { writeBatch } from './commit.js';
import { pruneInChunks } from './prune-chunks.js';
import type { WriteLock } from './write-lock.js';

/** A room with at least this many events to check has them answered from its range of the guard. */
const RANGE_READ_MIN_KEYS = 32;

/** Guard keys deleted per prune batch: small enough that a commit waiting behind it barely notices. */
const PRUNE_CHUNK_KEYS = 4096;

/** What the guard shares with the store it is part of. */
export interface GuardDeps {
  db: Db;
  ns: Namespaces;
  prefix: Prefixes;
  lock: WriteLock;
  /** The count stored by the last commit or prune. */
  count: number;
  /** True once the store is closing: a prune stops between chunks. */
  closing: () => boolean;
}

/** The processed-event guard: which events earlier commits processed, and forgetting old ones. */
export class Guard implements GuardReader {
  readonly #deps: GuardDeps;
  #count: number;

  constructor(deps: GuardDeps) {
    this.#deps = deps;
    this.#count = deps.count;
  }

  /**
   * For each room, whether each of its events is marked, in as few reads as the rooms allow.
   *
   * A room with many events to check (a join's state block, a re-delivered response) is read as
   * one range of at most twice as many keys: a room new to the store costs one seek instead of
   * one lookup per event, and a room whose guard holds little more than the response is
   * answered from its whole range. The range reads run side by side (bench/: on a cold 1M-event
   * replay the guard read went from ~3.8 to ~2 µs an event). A room with a longer history than
   * that, and every room with few events (an incremental sync), goes to one getMany for the rest.
   * Not hasMany: classic-level's hasMany seeks an iterator per key, and after a prune each seek
   * walks every delete marker up to the next live key until compaction drops them (bench/:
   * commits stalled 150 ms while pruning); getMany's point lookups never look past their key.
   */
  async has(rooms: readonly RoomEvents[]): Promise<boolean[][]> {
    const db = this.#deps.db;
    const prefix = this.#deps.prefix.guard;
    const seen = rooms.map((room) => new Array<boolean>(room.eventIds.length).fill(false));
    const point: number[] = [];
    const ranges: Promise<void>[] = [];
    for (const [r, { roomId, eventIds }] of rooms.entries()) {
      if (eventIds.length === 0) continue;
      if (eventIds.length < RANGE_READ_MIN_KEYS) {
        point.push(r);
        continue;
      }
      ranges.push(
        (async () => {
          const limit = 2 * eventIds.length;
          const marked = await db.keys({ ...prefixRange(prefix + roomId), limit }).all();
          if (marked.length >= limit) {
            point.push(r);
            return;
          }
          const set = new Set(marked);
          const base = prefix + roomId + SEP;
          const answers = seen[r]!;
          for (let j = 0; j < eventIds.length; j++) answers[j] = set.has(base + eventIds[j]!);
        })(),
      );
    }
    await Promise.all(ranges);
    if (point.length > 0) {
      const keys: string[] = [];
      for (const r of point) for (const eventId of rooms[r]!.eventIds) keys.push(prefix + guardKey(rooms[r]!.roomId, eventId));
      const values = await db.getMany(keys);
      let k = 0;
      for (const r of point) {
        const answers = seen[r]!;
        for (let j = 0; j < answers.length; j++) answers[j] = values[k++] !== undefined;
      }
    }
    return seen;
  }

  /** Whether an earlier commit completed this appservice transaction (until it is pruned). */
  async hasTransaction(ref: TransactionRef): Promise<boolean> {
    return (await this.#deps.db.get(this.#deps.prefix.guard + txnKey(ref.registrationId, ref.txnId))) !== undefined;
  }

  /** Number of guard entries (events remembered as processed). */
  count(): number {
    return this.#count;
  }

  /** @internal Takes note of `n` marks a commit has written. */
  added(n: number): void {
    this.#count += n;
  }

  /**
   * Forgets events processed before `cutoffMs` (epoch ms) through the time index, a chunk at a
   * time so that commits running alongside wait at most one chunk. Returns how many it removed;
   * a close stops it between chunks. STORE_CLOSED once the store is closed.
   */
  async prune(cutoffMs: number): Promise<number> {
    if (this.#deps.closing()) throw new RoomkeeperError('STORE_CLOSED', 'the roomkeeper store is closed');
    return pruneInChunks(this.#deps.lock, this.#deps.closing, () => this.#pruneChunk(cutoffMs));
  }

  async #pruneChunk(cutoffMs: number): Promise<number> {
    let n = 0;
    await writeBatch(this.#deps.db, async (batch) => {
      const { guard, guardByTime, meta } = this.#deps.prefix;
      let entries = 0;
      const it = this.#deps.ns.guardByTime.iterator({ lt: timeKeyBefore(cutoffMs) });
      try {
        while (n < PRUNE_CHUNK_KEYS) {
          const entry = await it.next();
          if (entry === undefined) break;
          const [key, value] = entry;
          entries++;
          // One commit's entry can list up to maxBatchKeys marks; take what fits in this chunk
          // and leave the rest listed under the same key, so no chunk outgrows PRUNE_CHUNK_KEYS.
          const keys = value.split('\n');
          const take = Math.min(keys.length, PRUNE_CHUNK_KEYS - n);
          for (let i = 0; i < take; i++) batch.del(guard + keys[i]!);
          n += take;
          if (take < keys.length) batch.put(guardByTime + key, keys.slice(take).join('\n'));
          else batch.del(guardByTime + key);
        }
      } finally {
        await it.close();
      }
      if (entries === 0) return undefined;
      const count = Math.max(0, this.#count - n);
      batch.put(meta + META_KEYS.guardCount, String(count));
      return () => void (this.#count = count);
    });
    return n;
  }
}
