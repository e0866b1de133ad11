import { setTimeout as delay } from 'node:timers/promises';
import { isRoomkeeperError, type RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import { errcodeOf, HomeserverError } from './homeserver-error.js';

/** Exponential backoff bounds: the n-th delay is drawn from [0, min(capMs, baseMs * 2^(n-1))). */
export interface Backoff {
  baseMs: number;
  capMs: number;
}

/** How requests to the homeserver are retried. Injectable so tests run in milliseconds. */
export interface RetryPolicy extends Backoff {
  /** Attempts per request (first try included) before its error is thrown; sync has no limit. */
  maxAttempts: number;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  baseMs: 1_000,
  capMs: 60_000,
  maxAttempts: 8,
  random: Math.random,
};

/** A server-given Retry-After beyond this is treated as this: a typo on the server must not park us for a day. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** What to do about a failed request. */
export type RetryClass = 'retry' | 'fatal-token' | 'fail';

/** The request a failure belongs to, for messages and logs. Never carries the query string. */
export interface RequestInfo {
  method: string;
  path: string;
}

const TOKEN_ERRCODES = new Set(['M_UNKNOWN_TOKEN', 'M_MISSING_TOKEN']);

// Connection-level failures: refused while the server is down, reset or hung up mid-response,
// timeouts of the `request` library (ESOCKETTIMEDOUT) and of the OS, DNS hiccups.
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** The full-jitter backoff delay in ms before retry number `attempt` (1 for the first retry). */
export function nextDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new TypeError(`attempt must be an integer >= 1, got ${attempt}`);
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

interface Failure {
  status: number | undefined;
  errcode: string | undefined;
  networkCode: string | undefined;
  isUiaChallenge: boolean;
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

// matrix-bot-sdk throws three shapes: a MatrixError (body had an errcode), the raw `request`
// response for any other non-2xx (it holds the request, Authorization header included: never log
// it), and the `request` library's network errors. Ours (HomeserverError) carries the same fields.
function describeFailure(err: unknown): Failure {
  const status = field(err, 'statusCode');
  const code = field(err, 'code');
  const body = field(err, 'body');
  return {
    status: typeof status === 'number' ? status : undefined,
    errcode: errcodeOf(err),
    networkCode: typeof code === 'string' && !isRoomkeeperError(err) ? code : undefined,
    isUiaChallenge: field(body, 'flows') !== undefined,
  };
}

/** Whether a failed request is worth retrying, means the access token is bad, or simply failed. */
export function classify(err: unknown): RetryClass {
  if (isRoomkeeperError(err)) {
    if (err.code === 'TOKEN_INVALID') return 'fatal-token';
    if (err.code === 'HOMESERVER_UNREACHABLE') return 'retry';
    if (err.code !== 'HOMESERVER_ERROR') return 'fail';
  }
  const f = describeFailure(err);
  if (f.errcode !== undefined && TOKEN_ERRCODES.has(f.errcode)) return 'fatal-token';
  if (f.status === 401 && f.errcode === undefined && !f.isUiaChallenge) return 'fatal-token';
  if (f.status === 429 || f.errcode === 'M_LIMIT_EXCEEDED') return 'retry';
  if (f.status !== undefined) return f.status >= 500 || f.status === 408 ? 'retry' : 'fail';
  if (f.networkCode !== undefined && RETRYABLE_NETWORK_CODES.has(f.networkCode)) return 'retry';
  return 'fail';
}

function parseRetryAfterHeader(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at - now;
}

/**
 * The wait the server asked for on a 429, in ms: `retry_after_ms` of the error body (MatrixError
 * keeps it as `retryAfterMs`), else a Retry-After header. MatrixError drops the response headers,
 * so the header is only seen on 429s whose body had no errcode.
 */
export function retryAfterMs(err: unknown, now: number = Date.now()): number | undefined {
  const candidates = [
    field(err, 'retryAfterMs'),
    field(field(err, 'body'), 'retry_after_ms'),
    parseRetryAfterHeader(field(field(err, 'headers'), 'retry-after'), now),
  ];
  for (const ms of candidates) {
    if (typeof ms === 'number' && Number.isFinite(ms)) return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
  }
  return undefined;
}

/** Strips the query string, which for some endpoints can carry secrets. */
export function pathOf(endpoint: string): string {
  const q = endpoint.indexOf('?');
  return q === -1 ? endpoint : endpoint.slice(0, q);
}

function safeBody(body: unknown): unknown {
  if (typeof body === 'string') return body.length > 500 ? `${body.slice(0, 500)}…` : body;
  return typeof body === 'object' && body !== null ? body : undefined;
}

/** Converts whatever matrix-bot-sdk threw into a HomeserverError that is safe to log. */
export function toHomeserverError(err: unknown, request: RequestInfo): RoomkeeperError {
  if (isRoomkeeperError(err)) return err;
  const f = describeFailure(err);
  // Only Error instances are kept as cause: the raw response object holds the Authorization header.
  const details = {
    ...request,
    statusCode: f.status,
    errcode: f.errcode,
    body: safeBody(field(err, 'body')),
    cause: err instanceof Error ? err : undefined,
  };
  const where = `${request.method} ${request.path}`;
  if (classify(err) === 'fatal-token') {
    return new HomeserverError('TOKEN_INVALID', `${where}: the access token was rejected (${f.errcode ?? `HTTP ${f.status}`})`, details);
  }
  if (f.status !== undefined) {
    const error = field(field(err, 'body'), 'error');
    let what = `HTTP ${f.status}`;
    if (f.errcode !== undefined) what += ` ${f.errcode}`;
    if (typeof error === 'string') what += `: ${error}`;
    return new HomeserverError('HOMESERVER_ERROR', `${where} failed: ${what}`, details);
  }
  if (f.networkCode !== undefined) {
    return new HomeserverError('HOMESERVER_UNREACHABLE', `${where} failed: ${f.networkCode}`, details);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HomeserverError('HOMESERVER_ERROR', `${where} failed: ${message}`, details);
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Waits `ms`; resolves false at once if `signal` aborts (then or earlier), true otherwise. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (isAborted(signal)) return false;
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
    return true;
  } catch (err) {
    if (isAborted(signal)) return false;
    throw err;
  }
}

/** The short reason of a failure for a retry's log line: a network code, an HTTP status, or a message's first line. */
export function failureReason(err: unknown): string {
  const f = describeFailure(err);
  if (f.status !== undefined) return f.errcode === undefined ? `HTTP ${f.status}` : `HTTP ${f.status} ${f.errcode}`;
  if (f.networkCode !== undefined) return f.networkCode;
  const cause = err instanceof Error ? err.cause : undefined;
  // A HomeserverError's message repeats the request ("GET /x failed: …"); its cause is the why.
  if (isRoomkeeperError(err) && cause !== undefined) return failureReason(cause);
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

// The delay before the next attempt: what the server asked for on a 429, else jittered backoff.
function retryDelay(err: unknown, attempt: number, policy: Backoff & { random?: () => number }): number {
  return retryAfterMs(err) ?? nextDelay(attempt, policy, policy.random);
}

/** How one piece of work is retried by `retrying`. */
export interface RetryOptions {
  /** What is tried, a constant phrase: the log line reads "<what> failed, retrying". */
  what: string;
  /** The backoff; its `random` (the jitter source) defaults to Math.random. */
  policy: Backoff & { random?: () => number };
  log: Logger;
  /** Bindings for the log line (ids, the request path). */
  fields?: Record<string, unknown>;
  /** Attempts, the first included, before the last error is thrown; unlimited when left out. */
  maxAttempts?: number;
  /** Aborting it ends the retries: the backoff in progress is cut short and the last error thrown. */
  signal?: AbortSignal;
  /** Whether a failure is worth another try; by default what `classify` calls 'retry'. */
  shouldRetry?: (err: unknown) => boolean;
}

/**
 * Runs `fn` until it succeeds, waiting a capped, jittered backoff (or the server's Retry-After)
 * between attempts; a failure `shouldRetry` refuses, the last attempt's or one after an abort is
 * thrown as it is. Each retry logs one line: what failed, why, the attempt and the next delay.
 */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? Infinity;
  const shouldRetry = options.shouldRetry ?? ((err: unknown) => classify(err) === 'retry');
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (isAborted(options.signal) || attempt >= maxAttempts || !shouldRetry(err)) throw err;
      const retryInMs = retryDelay(err, attempt, options.policy);
      options.log.warn({ ...options.fields, reason: failureReason(err), attempt, retryInMs }, `${options.what} failed, retrying`);
      if (!(await sleep(retryInMs, options.signal))) throw err;
    }
  }
}

/** How `withRetry` retries one homeserver request. */
export interface RequestRetryOptions {
  policy: RetryPolicy;
  log: Logger;
  /** Aborting it cuts the current backoff short; the last error is then thrown. */
  signal?: AbortSignal;
  /** Overrides policy.maxAttempts (Infinity for sync). */
  maxAttempts?: number;
}

/**
 * Runs one homeserver request, retrying network errors, 5xx and 429; anything else, or the last
 * failure, is thrown as a HomeserverError.
 */
export async function withRetry<T>(fn: () => Promise<T>, request: RequestInfo, options: RequestRetryOptions): Promise<T> {
  try {
    return await retrying(fn, {
      what: 'homeserver request',
      fields: { method: request.method, path: request.path },
      policy: options.policy,
      log: options.log,
      signal: options.signal,
      maxAttempts: options.maxAttempts ?? options.policy.maxAttempts,
    });
  } catch (raw) {
    throw toHomeserverError(raw, request);
  }
}
