import { setTimeout as sleep } from 'node:timers/promises';
import type { WriteLock } from './write-lock.js';

/**
 * Runs `chunk` under the write lock, again and again, until it removes nothing or the store
 * closes; returns how many it removed in all. Used by the guard's and the change log's prunes.
 */
export async function pruneInChunks(lock: WriteLock, closing: () => boolean, chunk: () => Promise<number>): Promise<number> {
  let removed = 0;
  // A prune of millions of entries must not hold up a shutdown: stop between chunks.
  while (!closing()) {
    const started = performance.now();
    const n = await lock.run(chunk);
    if (n === 0) return removed;
    removed += n;
    // Rest as long as the chunk took. Chunks back to back leave a sync commit one chunk of
    // waiting every time and write delete markers faster than LevelDB flushes its memtable,
    // which then blocks every writer for the length of a flush (bench/: 150 ms stalls while
    // pruning 1M entries; with the rest, under 100 ms and 7× the sync events processed
    // meanwhile, for a prune that takes ~1.7× as long).
    await sleep(performance.now() - started);
  }
  return removed;
}
