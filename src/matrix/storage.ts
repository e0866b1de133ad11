import type { IFilterInfo, IStorageProvider } from 'matrix-bot-sdk';
import type { Logger } from '../log.js';
import { META_KEYS, META_PREFIXES } from '../store/meta-keys.js';

/** The string key-value view of the store's `meta` namespace that the storage provider writes to. */
export interface KeyValue {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

/** Where the client resumes /sync from: the token the pipeline committed with its last batch. */
export interface SyncTokenSource {
  getSyncToken(): Promise<string | null>;
}

function isFilterInfo(value: unknown): value is IFilterInfo {
  if (typeof value !== 'object' || value === null) return false;
  const id = (value as { id?: unknown }).id;
  return (typeof id === 'number' || typeof id === 'string') && 'filter' in value;
}

/**
 * matrix-bot-sdk's IStorageProvider (every method may be sync or async; these are async) over the
 * `meta` namespace of roomkeeper's LevelDB.
 */
export class MetaStorageProvider implements IStorageProvider, SyncTokenSource {
  readonly #kv: KeyValue;
  readonly #log: Logger;

  constructor(kv: KeyValue, log: Logger) {
    this.#kv = kv;
    this.#log = log;
  }

  /**
   * Deliberately a no-op. The pipeline commits `next_batch` in the same LevelDB batch as the events
   * it covers; a token written here first would, after a crash, skip events never committed.
   * (matrix-bot-sdk also calls this with null when the filter changes; tokens do not depend on the
   * filter, so keeping the committed one is right.)
   */
  async setSyncToken(_token: string | null): Promise<void> {}

  /** The token the pipeline committed last, or null before the first commit. */
  async getSyncToken(): Promise<string | null> {
    return (await this.#kv.get(META_KEYS.syncToken)) ?? null;
  }

  async setFilter(filter: IFilterInfo): Promise<void> {
    await this.#kv.put(META_KEYS.filter, JSON.stringify(filter));
  }

  // The SDK's type says IFilterInfo, its code (MatrixClient.start) checks for a falsy value.
  async getFilter(): Promise<IFilterInfo> {
    const raw = await this.#kv.get(META_KEYS.filter);
    if (raw === undefined) return null as unknown as IFilterInfo;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isFilterInfo(parsed)) return parsed;
      this.#log.warn({ key: META_KEYS.filter }, 'stored sync filter is malformed; a new one will be created');
    } catch (err) {
      // Continuing on purpose: without a stored filter, start() uploads a new one.
      this.#log.warn({ err, key: META_KEYS.filter }, 'stored sync filter is not JSON; a new one will be created');
    }
    return null as unknown as IFilterInfo;
  }

  async storeValue(key: string, value: string): Promise<void> {
    await this.#kv.put(META_PREFIXES.sdkValue + key, value);
  }

  async readValue(key: string): Promise<string | null | undefined> {
    return this.#kv.get(META_PREFIXES.sdkValue + key);
  }
}
