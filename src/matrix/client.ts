import type { CryptoClient, ICryptoStorageProvider, IStorageProvider, IWhoAmI } from 'matrix-bot-sdk';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import { errcodeOf } from './homeserver-error.js';
import {
  classify,
  DEFAULT_RETRY_POLICY,
  nextDelay,
  pathOf,
  retryDelay,
  sleep,
  withRetry,
  type RetryPolicy,
} from './retry.js';
import { cryptoAvailability, EncryptedRoomEvent, MatrixClient } from './sdk.js';
import type { SyncTokenSource } from './storage.js';

/** Receives each whole /sync response body; resolves once its events and `next_batch` are committed. */
export type SyncSink = (body: unknown) => Promise<void>;

export const SYNC_PATH = '/_matrix/client/v3/sync';

/**
 * The sync filter. Members are never lazy-loaded: a join rebuilds the room from the state block,
 * which then must hold every member (spec: "Lazy-loading room members", off unless asked for; set
 * explicitly so a server default cannot change it). Presence and ephemeral events are not used.
 */
export const SYNC_FILTER = {
  presence: { not_types: ['*'] },
  room: {
    state: { lazy_load_members: false },
    timeline: { limit: 50, lazy_load_members: false },
    ephemeral: { not_types: ['*'] },
  },
};

export interface RoomkeeperClientOptions {
  homeserverUrl: string;
  accessToken: string;
  /** Filter and SDK key-values (MetaStorageProvider); its setSyncToken must not persist anything. */
  storage: IStorageProvider;
  /** The token the pipeline committed last: where syncing resumes. */
  syncTokens: SyncTokenSource;
  log: Logger;
  /** May also be set later with setSyncSink(), e.g. once the pipeline has the client for replies. */
  onSync?: SyncSink;
  /** Only when cryptoAvailability().available and encryption is enabled in the config. */
  cryptoStore?: ICryptoStorageProvider;
  retry?: Partial<RetryPolicy>;
  syncFilter?: Record<string, unknown>;
  /** Called once when syncing stops for good: the homeserver rejected the token, or a bug. */
  onFatal?: (err: unknown) => void;
}

const STOPPED = Symbol('stopped');

interface CryptoSyncParts {
  to_device?: { events?: unknown[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
  'org.matrix.msc2732.device_unused_fallback_key_types'?: string[];
  device_lists?: { changed?: string[]; left?: string[] };
  rooms?: {
    join?: Record<string, { state?: { events?: unknown[] }; timeline?: { events?: unknown[] } }>;
  };
}

function nextBatchOf(body: unknown): string | undefined {
  const token = typeof body === 'object' && body !== null ? (body as { next_batch?: unknown }).next_batch : undefined;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

function checkedCryptoStore(store: ICryptoStorageProvider | undefined): ICryptoStorageProvider | undefined {
  const crypto = cryptoAvailability();
  if (store !== undefined && !crypto.available) {
    throw new RoomkeeperError('CRYPTO_UNAVAILABLE', `end-to-end encryption was requested but is unavailable: ${crypto.reason}`);
  }
  return store;
}

/**
 * matrix-bot-sdk's MatrixClient with roomkeeper's sync loop and retries.
 *
 * The SDK's loop (startSync) persists the token before processing, swallows errors, and its
 * processSync drops the state block, `limited` and others' leaves. This class keeps the SDK's
 * start() preamble and replaces the loop behind startSyncInternal(): each whole response goes to
 * the sink, which is awaited (and retried with the same body if it throws) before the next
 * request, whose `since` is the `next_batch` of the last response the sink finished. processSync
 * is never called, so the SDK's `room.*` events do not fire.
 */
export class RoomkeeperClient extends MatrixClient {
  readonly #log: Logger;
  readonly #syncTokens: SyncTokenSource;
  readonly #policy: RetryPolicy;
  readonly #filter: Record<string, unknown>;
  readonly #onFatal: ((err: unknown) => void) | undefined;
  #sink: SyncSink | undefined;
  #stopping = false;
  #stopController = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: RoomkeeperClientOptions) {
    super(options.homeserverUrl, options.accessToken, options.storage, checkedCryptoStore(options.cryptoStore));
    this.#log = options.log;
    this.#syncTokens = options.syncTokens;
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#filter = options.syncFilter ?? SYNC_FILTER;
    this.#onFatal = options.onFatal;
    this.#sink = options.onSync;
  }

  /** Sets where sync responses go; must happen before start(). */
  setSyncSink(sink: SyncSink): void {
    this.#sink = sink;
  }

  /** Whether this client decrypts (a crypto store was given and the binding loaded). */
  get isEncryptionEnabled(): boolean {
    return this.#crypto() !== undefined;
  }

  #crypto(): CryptoClient | undefined {
    // Typed as always present; undefined at runtime when no crypto store was given.
    return this.crypto;
  }

  /**
   * Every request the bot sends (sync, replies, joins, state reads) goes through here: network
   * errors, 5xx and 429 are retried with backoff; the error finally thrown is a HomeserverError.
   */
  override doRequest(
    method: string,
    endpoint: string,
    qs: Record<string, unknown> | null = null,
    body: unknown = null,
    timeout = 60_000,
    raw = false,
    contentType = 'application/json',
    noEncoding = false,
  ): Promise<unknown> {
    const path = pathOf(String(endpoint));
    return withRetry(
      () => super.doRequest(method, endpoint, qs, body, timeout, raw, contentType, noEncoding),
      { method, path },
      {
        policy: this.#policy,
        log: this.#log,
        signal: this.#stopController.signal,
        maxAttempts: path === SYNC_PATH ? Infinity : undefined,
      },
    );
  }

  /**
   * Who the token belongs to. Waits out an unreachable homeserver (retrying forever); a rejected
   * token (M_UNKNOWN_TOKEN, M_FORBIDDEN, 401) throws TOKEN_INVALID at once.
   */
  async whoAmIOrFail(): Promise<IWhoAmI> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getWhoAmI();
      } catch (err) {
        const kind = classify(err);
        const errcode = errcodeOf(err);
        if (kind === 'fatal-token' || errcode === 'M_FORBIDDEN') {
          const status = (err as { statusCode?: unknown }).statusCode;
          const why = errcode ?? (typeof status === 'number' ? `HTTP ${status}` : 'rejected');
          throw new RoomkeeperError('TOKEN_INVALID', `the access token was rejected by ${this.homeserverUrl}: ${why}`, {
            cause: err,
          });
        }
        if (kind === 'fail' || this.#stopping) throw err;
        const delayMs = retryDelay(err, attempt, this.#policy);
        this.#log.warn({ err, attempt, delayMs }, 'homeserver not reachable yet, retrying whoami');
        if (!(await sleep(delayMs, this.#stopController.signal))) throw err;
      }
    }
  }

  /**
   * Runs the SDK's start-up (m.direct, joined rooms, user id, crypto, filter upload), retrying it
   * while the homeserver is unreachable, then starts the sync loop; resolves once it runs.
   */
  override async start(filter: unknown = this.#filter): Promise<void> {
    if (this.#sink === undefined) throw new TypeError('RoomkeeperClient.start() needs a sync sink (onSync or setSyncSink)');
    if (this.#loop !== undefined) throw new TypeError('RoomkeeperClient is already syncing');
    this.#stopping = false;
    this.#stopController = new AbortController();
    for (let attempt = 1; ; attempt++) {
      try {
        await super.start(filter);
        return;
      } catch (err) {
        if (this.#stopping) return;
        if (classify(err) !== 'retry') throw err;
        const delayMs = retryDelay(err, attempt, this.#policy);
        this.#log.warn({ err, attempt, delayMs }, 'start-up request failed, retrying');
        if (!(await sleep(delayMs, this.#stopController.signal))) return;
      }
    }
  }

  /** Replaces the SDK's loop (startSync), which would persist the token before processing. */
  protected override async startSyncInternal(): Promise<void> {
    const token = await this.#syncTokens.getSyncToken();
    this.#log.info({ resuming: token !== null }, 'sync started');
    this.#loop = this.#syncLoop(token);
  }

  /** Asks syncing to stop: the long-poll in flight is abandoned, retries stop waiting. */
  override stop(): void {
    this.#stopping = true;
    this.#stopController.abort();
    super.stop();
  }

  /** Stops syncing and resolves once the response being committed (if any) is committed. */
  async stopAndDrain(): Promise<void> {
    this.stop();
    const loop = this.#loop;
    this.#loop = undefined;
    await loop;
  }

  /** Decrypts an m.room.encrypted event; throws CRYPTO_UNAVAILABLE when encryption is off. */
  async decryptEvent(roomId: string, event: Record<string, unknown>): Promise<Record<string, unknown>> {
    const crypto = this.#crypto();
    if (crypto === undefined) {
      throw new RoomkeeperError('CRYPTO_UNAVAILABLE', 'end-to-end encryption is not enabled for this client');
    }
    const decrypted = await crypto.decryptRoomEvent(new EncryptedRoomEvent(event), roomId);
    return decrypted.raw as Record<string, unknown>;
  }

  async #syncLoop(initialToken: string | null): Promise<void> {
    try {
      let token = initialToken;
      let failures = 0;
      while (!this.#stopping) {
        let body: unknown;
        try {
          // An empty token makes the SDK leave `since` out: an initial sync.
          body = await this.#unlessStopped(this.doSync(token ?? ''));
        } catch (err) {
          if (this.#stopping) break;
          if (classify(err) === 'fatal-token') {
            this.#log.error({ err }, 'the homeserver rejected the access token; syncing stopped');
            this.#onFatal?.(err);
            break;
          }
          failures++;
          const delayMs = retryDelay(err, failures, this.#policy);
          this.#log.error({ err, attempt: failures, delayMs }, 'sync request failed, retrying');
          await sleep(delayMs, this.#stopController.signal);
          continue;
        }
        // Stopped while waiting: the response is dropped and its token never used.
        if (body === STOPPED) break;
        const next = nextBatchOf(body);
        if (next === undefined) {
          failures++;
          const delayMs = nextDelay(failures, this.#policy, this.#policy.random);
          this.#log.error({ attempt: failures, delayMs }, 'sync response has no next_batch, syncing again');
          await sleep(delayMs, this.#stopController.signal);
          continue;
        }
        failures = 0;
        if (!(await this.#deliver(body))) break;
        token = next;
      }
      this.#log.info('sync stopped');
    } catch (err) {
      this.#log.error({ err }, 'sync loop failed; syncing stopped');
      this.#onFatal?.(err);
    }
  }

  // Hands one response to the sink until it succeeds. The token only moves on after that, so a
  // body the sink did not finish is fetched again (the pipeline's guard makes that harmless).
  async #deliver(body: unknown): Promise<boolean> {
    const sink = this.#sink;
    if (sink === undefined) throw new TypeError('no sync sink');
    await this.#feedCrypto(body);
    for (let attempt = 1; ; attempt++) {
      try {
        await sink(body);
        return true;
      } catch (err) {
        if (this.#stopping) {
          this.#log.error({ err }, 'sync sink failed while stopping; the response will be synced again');
          return false;
        }
        const delayMs = nextDelay(attempt, this.#policy, this.#policy.random);
        this.#log.error({ err, attempt, delayMs }, 'sync sink failed, retrying the same response');
        if (!(await sleep(delayMs, this.#stopController.signal))) return false;
      }
    }
  }

  // Races a request with stop(). The loser is not awaited: a long-poll may take syncingTimeout to
  // return and shutdown must not wait for it. Its eventual rejection is handled here.
  #unlessStopped<T>(request: Promise<T>): Promise<T | typeof STOPPED> {
    const signal = this.#stopController.signal;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(STOPPED);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      request.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  // What the SDK's processSync does for encryption, done before the sink so that keys arriving
  // in this response are known when the pipeline decrypts its events. A failure here must not
  // hold up state tracking: it is logged, and those events stay undecryptable.
  async #feedCrypto(body: unknown): Promise<void> {
    const crypto = this.#crypto();
    if (crypto === undefined) return;
    try {
      const raw = body as CryptoSyncParts;
      await crypto.updateSyncData(
        (raw.to_device?.events ?? []) as Parameters<CryptoClient['updateSyncData']>[0],
        raw.device_one_time_keys_count ?? {},
        (raw['org.matrix.msc2732.device_unused_fallback_key_types'] ??
          raw.device_unused_fallback_key_types ??
          []) as Parameters<CryptoClient['updateSyncData']>[2],
        raw.device_lists?.changed ?? [],
        raw.device_lists?.left ?? [],
      );
      const me = await this.getUserId();
      for (const [roomId, room] of Object.entries(raw.rooms?.join ?? {})) {
        for (const event of [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])]) {
          await crypto.onRoomEvent(roomId, event);
          const e = event as { type?: unknown; state_key?: unknown; content?: { membership?: unknown } };
          if (e.type === 'm.room.member' && e.state_key === me && e.content?.membership === 'join') {
            await crypto.onRoomJoin(roomId);
          }
        }
      }
    } catch (err) {
      this.#log.error({ err }, 'encryption could not process a sync response; its encrypted events may not decrypt');
    }
  }
}
