import type { KeyValue } from '../../src/matrix/storage.js';

/** The `meta` KeyValue in memory, as the store's LevelDB namespace would hold it. */
export class MemoryKeyValue implements KeyValue {
  readonly map = new Map<string, string>();

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.map.get(key));
  }

  put(key: string, value: string): Promise<void> {
    this.map.set(key, value);
    return Promise.resolve();
  }
}
