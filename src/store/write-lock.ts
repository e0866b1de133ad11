import { serial } from '../serial.js';

/**
 * Runs a store's writes one at a time, in the order they were asked for. Commits and prune
 * chunks read the guard count (and a purge its room's members) and then write what that read
 * decides: two of them interleaved would each write a stale result.
 */
export class WriteLock {
  readonly #queue = serial();

  /** Runs `fn` once every write asked for before it has settled; a failure stays with its caller. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queue(fn);
  }

  /** Resolves once every write asked for so far has settled. */
  async settled(): Promise<void> {
    await this.#queue(() => Promise.resolve());
  }
}
