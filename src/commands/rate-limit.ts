import type { UserId } from '../state/ids.js';

export type RateDecision = 'ok' | 'limited-first' | 'limited-silent';

export interface RateLimitOptions {
  /** Commands a user may send per window. */
  limit?: number;
  windowMs?: number;
  /** Most users remembered at once; beyond it the oldest window is forgotten. */
  maxUsers?: number;
}

interface Window {
  startedAt: number;
  count: number;
}

/**
 * A per-user fixed-window rate limit: `limit` commands per `windowMs`, then one 'limited-first'
 * (answer politely once) and 'limited-silent' until the window passes. Memory is one small entry
 * per user seen within the last window, and never more than `maxUsers` entries.
 */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxUsers: number;
  // Insertion order is window-start order, because an entry is (re)inserted exactly when its
  // window starts. So expired entries are always at the front, and the front is the entry to
  // drop when the map is full. This holds as long as `now` does not go backwards.
  readonly #windows = new Map<UserId, Window>();

  constructor(options: RateLimitOptions = {}) {
    this.limit = options.limit ?? 5;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxUsers = options.maxUsers ?? 10_000;
    if (!(this.limit >= 1 && this.windowMs > 0 && this.maxUsers >= 1)) {
      throw new TypeError('rate limit needs limit >= 1, windowMs > 0 and maxUsers >= 1');
    }
  }

  /** Counts one command of `user` at `now` and says whether to answer it. */
  check(user: UserId, now: number): RateDecision {
    this.#evictExpired(now);
    const current = this.#windows.get(user);
    if (current === undefined || now - current.startedAt >= this.windowMs) {
      this.#windows.delete(user);
      if (this.#windows.size >= this.maxUsers) this.#evictOldest();
      this.#windows.set(user, { startedAt: now, count: 1 });
      return 'ok';
    }
    current.count += 1;
    if (current.count <= this.limit) return 'ok';
    return current.count === this.limit + 1 ? 'limited-first' : 'limited-silent';
  }

  /** How many users are remembered right now. */
  get size(): number {
    return this.#windows.size;
  }

  #evictExpired(now: number): void {
    for (const [user, w] of this.#windows) {
      if (now - w.startedAt < this.windowMs) return;
      this.#windows.delete(user);
    }
  }

  #evictOldest(): void {
    for (const user of this.#windows.keys()) {
      this.#windows.delete(user);
      return;
    }
  }
}
