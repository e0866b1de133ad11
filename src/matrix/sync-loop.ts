import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import { isJsonObject } from '../state/json.js';
import { classify, retrying, type RetryPolicy } from './retry.js';
import type { SyncTokenSource } from './storage.js';

/** Receives each whole /sync response body; resolves once its events and `next_batch` are committed. */
export type SyncSink = (body: unknown) => Promise<void>;

export interface SyncLoopOptions {
  /** One /sync request; `since` null asks for an initial sync. */
  request: (since: string | null) => Promise<unknown>;
  /** The token the sink committed last: where each request resumes. */
  tokens: SyncTokenSource;
  sink: SyncSink;
  policy: RetryPolicy;
  log: Logger;
  /** Aborting it stops the loop: the request in flight is abandoned, the body being committed finishes. */
  signal: AbortSignal;
  /** Called once when syncing stops for good: the homeserver rejected the token, or a bug. */
  onFatal?: (err: unknown) => void;
}

const STOPPED = Symbol('stopped');

function nextBatchOf(body: unknown): string | undefined {
  const token = isJsonObject(body) ? body.next_batch : undefined;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/**
 * roomkeeper's /sync loop: each whole response goes to the sink, which is awaited (and given the
 * same body again while it fails) before the next request. The next request's `since` is the
 * token the sink committed, never the `next_batch` of a body it did not commit: a body the sink
 * skipped or failed on is fetched again, not lost. Resolves when the loop has stopped.
 */
export async function runSyncLoop(options: SyncLoopOptions): Promise<void> {
  const { log, signal } = options;
  try {
    let since = await options.tokens.getSyncToken();
    log.info({ resuming: since !== null }, 'sync started');
    while (!signal.aborted) {
      const body = await fetchBody(options, since);
      // Stopped while waiting: the response is dropped and its token never used.
      if (body === STOPPED) break;
      if (!(await deliver(options, body.body, body.next))) break;
      since = body.next;
    }
    log.info('sync stopped');
  } catch (err) {
    log.error({ err }, 'sync loop failed; syncing stopped');
    options.onFatal?.(err);
  }
}

/** One response with a `next_batch`, retrying failed requests; STOPPED when stopped first or for good. */
async function fetchBody(options: SyncLoopOptions, since: string | null): Promise<{ body: unknown; next: string } | typeof STOPPED> {
  const { log, signal } = options;
  try {
    return await retrying(
      async () => {
        const body = await unlessStopped(options.request(since), signal);
        if (body === STOPPED) return STOPPED;
        const next = nextBatchOf(body);
        if (next === undefined) throw new RoomkeeperError('HOMESERVER_ERROR', 'sync response has no next_batch');
        return { body, next };
      },
      { what: 'sync', policy: options.policy, log, signal, shouldRetry: (err) => classify(err) !== 'fatal-token' },
    );
  } catch (err) {
    if (signal.aborted) return STOPPED;
    // Only a rejected token ends up here: every other failure is retried.
    log.error({ err }, 'the homeserver rejected the access token; syncing stopped');
    options.onFatal?.(err);
    return STOPPED;
  }
}

/**
 * Hands one response to the sink until it has committed the response's token. The token only
 * moves on after that, so a body the sink did not finish is given to it again (the pipeline's
 * guard makes that harmless). False when stopped first.
 */
async function deliver(options: SyncLoopOptions, body: unknown, next: string): Promise<boolean> {
  const { log, signal } = options;
  try {
    await retrying(
      async () => {
        await options.sink(body);
        if ((await options.tokens.getSyncToken()) !== next) {
          throw new RoomkeeperError('SYNC_NOT_COMMITTED', 'the sync response was not committed');
        }
      },
      { what: 'committing a sync response', policy: options.policy, log, signal, shouldRetry: () => true },
    );
    return true;
  } catch (err) {
    // The only way out of the retries above is a stop.
    log.warn({ err }, 'sync response not committed before stopping; it will be synced again');
    return false;
  }
}

// Races a request with the stop signal. The loser is not awaited: a long-poll may take
// syncingTimeout to return and shutdown must not wait for it. Its eventual rejection is handled here.
function unlessStopped<T>(request: Promise<T>, signal: AbortSignal): Promise<T | typeof STOPPED> {
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
