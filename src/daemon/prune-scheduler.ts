import type { Logger } from '../log.js';
import { serial } from '../serial.js';

/** What the scheduler prunes: the guard's entries older than a cutoff, a chunk at a time. */
export interface PrunableGuard {
  prune(cutoffMs: number): Promise<number>;
}

export interface PruneSchedulerOptions {
  guard: PrunableGuard;
  /** Entries older than this go at every scheduled run (config `guard.retention`). */
  retentionMs: number;
  /** Time between scheduled runs (config `guard.pruneInterval`). */
  intervalMs: number;
  log: Logger;
  now: () => number;
  /** The change log, pruned with the guard at every run (config `changes.retention`). */
  changes?: { log: PrunableGuard; retentionMs: number };
}

/**
 * The guard's and the change log's pruning: on a schedule, and on demand (`!prune`). Runs one
 * prune at a time, so a scheduled run and an admin's never walk the same range together; each
 * prune yields between chunks, so syncing goes on meanwhile.
 */
export class PruneScheduler {
  readonly #options: PruneSchedulerOptions;
  readonly #log: Logger;
  readonly #oneAtATime = serial();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PruneSchedulerOptions) {
    this.#options = options;
    this.#log = options.log.child({ mod: 'prune' });
  }

  /** Deletes guard entries older than `olderThanMs`; resolves with how many went. */
  prune(olderThanMs: number): Promise<number> {
    return this.#oneAtATime(async () => {
      const started = this.#options.now();
      const removed = await this.#options.guard.prune(started - olderThanMs);
      this.#log.info({ removed, durationMs: this.#options.now() - started }, 'pruned the guard');
      return removed;
    });
  }

  /** Deletes changes older than the change log's retention; resolves with how many went (0 without a log). */
  pruneChanges(): Promise<number> {
    const changes = this.#options.changes;
    if (changes === undefined) return Promise.resolve(0);
    return this.#oneAtATime(async () => {
      const started = this.#options.now();
      const removed = await changes.log.prune(started - changes.retentionMs);
      this.#log.info({ removed, durationMs: this.#options.now() - started }, 'pruned the change log');
      return removed;
    });
  }

  /** Starts the schedule: the guard and the change log pruned with their retentions every interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.prune(this.#options.retentionMs)
        .then(() => this.pruneChanges())
        .catch((err: unknown) => this.#log.error({ err }, 'scheduled prune failed'));
    }, this.#options.intervalMs);
  }

  /** Stops the schedule; a prune under way stops at its next chunk when the store closes. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
