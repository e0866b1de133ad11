import type { IStorageProvider, IWhoAmI, MatrixClient } from 'matrix-bot-sdk';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import { isJsonObject } from '../state/json.js';
import { errcodeOf } from './homeserver-error.js';
import { classify, DEFAULT_RETRY_POLICY, pathOf, retrying, withRetry, type RetryPolicy } from './retry.js';
import { matrixSdk } from './sdk.js';
import type { SyncTokenSource } from './storage.js';
import { runSyncLoop, type SyncSink } from './sync-loop.js';

export type { SyncSink } from './sync-loop.js';

export const SYNC_PATH = '/_matrix/client/v3/sync';
const WHOAMI_PATH = '/_matrix/client/v3/account/whoami';

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

/**
 * The /sync query parameter that asks for MSC4222's `state_after` (the room state at the end of
 * the timeline, authoritative where `state` is only a start), read from a `/versions` answer:
 * the stable `use_state_after` from spec v1.16 on, the unstable one when `unstable_features`
 * has `org.matrix.msc4222`; undefined when the server offers neither.
 */
export function stateAfterParam(versions: unknown): string | undefined {
  if (!isJsonObject(versions)) return undefined;
  const listed = Array.isArray(versions['versions']) ? versions['versions'] : [];
  const stable = listed.some((v) => {
    const m = typeof v === 'string' ? /^v(\d+)\.(\d+)$/.exec(v) : null;
    return m !== null && (Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) >= 16));
  });
  if (stable) return 'use_state_after';
  const unstable = versions['unstable_features'];
  return isJsonObject(unstable) && unstable['org.matrix.msc4222'] === true ? 'org.matrix.msc4222.use_state_after' : undefined;
}

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
  retry?: Partial<RetryPolicy>;
  syncFilter?: Record<string, unknown>;
  /** Called once when syncing stops for good: the homeserver rejected the token, or a bug. */
  onFatal?: (err: unknown) => void;
  /** Told how long each /sync request attempt took and how it ended (metrics); retries are attempts of their own. */
  onSyncRequest?: (seconds: number, outcome: 'ok' | 'error') => void;
}

/**
 * matrix-bot-sdk's MatrixClient with roomkeeper's sync loop (sync-loop.ts) and retries. It never
 * sets up end-to-end encryption: roomkeeper does not decrypt, and a device with keys would invite
 * clients to encrypt to it.
 */
export interface RoomkeeperClient extends MatrixClient {
  /** Sets where sync responses go; must happen before start(). */
  setSyncSink(sink: SyncSink): void;
  /**
   * Who the token belongs to. Waits out an unreachable homeserver (retrying until stopped); a
   * rejected token (M_UNKNOWN_TOKEN, M_FORBIDDEN, 401) throws TOKEN_INVALID at once.
   */
  whoAmIOrFail(): Promise<IWhoAmI>;
  /** Stops syncing and resolves once the response being committed (if any) is committed. */
  stopAndDrain(): Promise<void>;
}

type ClientClass = new (options: RoomkeeperClientOptions) => RoomkeeperClient;
let clientClass: ClientClass | undefined;

/** A new RoomkeeperClient; the first call defines its class on the loaded matrix-bot-sdk. */
export function createRoomkeeperClient(options: RoomkeeperClientOptions): RoomkeeperClient {
  clientClass ??= defineClientClass(matrixSdk().MatrixClient);
  return new clientClass(options);
}

/**
 * The SDK's loop (startSync) persists the token before processing, swallows errors, and its
 * processSync drops the state block, `limited` and others' leaves. This class keeps the SDK's
 * start() preamble and replaces the loop behind startSyncInternal() with runSyncLoop. processSync
 * is never called, so the SDK's `room.*` events do not fire.
 */
function defineClientClass(Base: typeof MatrixClient): ClientClass {
  return class RoomkeeperClientImpl extends Base implements RoomkeeperClient {
    readonly #log: Logger;
    readonly #syncTokens: SyncTokenSource;
    readonly #policy: RetryPolicy;
    readonly #filter: Record<string, unknown>;
    readonly #onFatal: ((err: unknown) => void) | undefined;
    readonly #onSyncRequest: RoomkeeperClientOptions['onSyncRequest'];
    #sink: SyncSink | undefined;
    #stopController = new AbortController();
    #loop: Promise<void> | undefined;
    /** The /sync parameter asking for `state_after`, once the server is known to offer it. */
    #stateAfter: string | undefined;

    constructor(options: RoomkeeperClientOptions) {
      super(options.homeserverUrl, options.accessToken, options.storage);
      this.#log = options.log;
      this.#syncTokens = options.syncTokens;
      this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
      this.#filter = options.syncFilter ?? SYNC_FILTER;
      this.#onFatal = options.onFatal;
      this.#onSyncRequest = options.onSyncRequest;
      this.#sink = options.onSync;
    }

    setSyncSink(sink: SyncSink): void {
      this.#sink = sink;
    }

    /**
     * Every request the bot sends (sync, replies, joins, state reads) goes through here: network
     * errors, 5xx and 429 are retried with backoff (sync and whoami until stopped); the error
     * finally thrown is a HomeserverError.
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
      if (path === SYNC_PATH && this.#stateAfter !== undefined) qs = { ...qs, [this.#stateAfter]: 'true' };
      const once = () => super.doRequest(method, endpoint, qs, body, timeout, raw, contentType, noEncoding);
      return withRetry(
        path === SYNC_PATH ? () => this.#timed(once) : once,
        { method, path },
        {
          policy: this.#policy,
          log: this.#log,
          signal: this.#stopController.signal,
          maxAttempts: path === SYNC_PATH || path === WHOAMI_PATH ? Infinity : undefined,
        },
      );
    }

    /** One attempt of a /sync request, its duration and outcome told to onSyncRequest. */
    async #timed(request: () => Promise<unknown>): Promise<unknown> {
      const started = performance.now();
      try {
        const result = await request();
        this.#onSyncRequest?.((performance.now() - started) / 1000, 'ok');
        return result;
      } catch (err) {
        this.#onSyncRequest?.((performance.now() - started) / 1000, 'error');
        throw err;
      }
    }

    async whoAmIOrFail(): Promise<IWhoAmI> {
      try {
        return await this.getWhoAmI();
      } catch (err) {
        if (classify(err) === 'fatal-token' || errcodeOf(err) === 'M_FORBIDDEN') {
          const status = (err as { statusCode?: unknown }).statusCode;
          const why = errcodeOf(err) ?? (typeof status === 'number' ? `HTTP ${status}` : 'rejected');
          throw new RoomkeeperError('TOKEN_INVALID', `the access token was rejected by ${this.homeserverUrl}: ${why}`, { cause: err });
        }
        throw err;
      }
    }

    /**
     * Runs the SDK's start-up (m.direct, joined rooms, user id, filter upload), retrying it while
     * the homeserver is unreachable, then starts the sync loop; resolves once it runs.
     */
    override async start(filter: unknown = this.#filter): Promise<void> {
      if (this.#sink === undefined) throw new TypeError('RoomkeeperClient.start() needs a sync sink (onSync or setSyncSink)');
      if (this.#loop !== undefined) throw new TypeError('RoomkeeperClient is already syncing');
      this.#stopController = new AbortController();
      const signal = this.#stopController.signal;
      try {
        await retrying(
          async () => {
            this.#stateAfter = stateAfterParam(await this.getServerVersions());
            await super.start(filter);
          },
          { what: 'start-up', policy: this.#policy, log: this.#log, signal },
        );
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      if (this.#stateAfter !== undefined) this.#log.info({ param: this.#stateAfter }, 'the homeserver offers state_after (MSC4222): syncing with it');
    }

    /** Replaces the SDK's loop (startSync), which would persist the token before processing. */
    protected override startSyncInternal(): Promise<void> {
      const sink = this.#sink;
      if (sink === undefined) throw new TypeError('no sync sink');
      this.#loop = runSyncLoop({
        // An empty token makes the SDK leave `since` out: an initial sync.
        request: (since) => this.doSync(since ?? ''),
        tokens: this.#syncTokens,
        sink,
        policy: this.#policy,
        log: this.#log,
        signal: this.#stopController.signal,
        onFatal: this.#onFatal,
      });
      return Promise.resolve();
    }

    /** Asks syncing to stop: the long-poll in flight is abandoned, retries stop waiting. */
    override stop(): void {
      this.#stopController.abort();
      super.stop();
    }

    async stopAndDrain(): Promise<void> {
      this.stop();
      const loop = this.#loop;
      this.#loop = undefined;
      await loop;
    }
  };
}
