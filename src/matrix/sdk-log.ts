import type { ILogger, LogLevel as SdkLogThreshold } from 'matrix-bot-sdk';
import type { Logger } from '../log.js';
import { errcodeOf } from './homeserver-error.js';
import { matrixSdk } from './sdk.js';

export type SdkLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

// MatrixClientLite lines that describe the ordinary life of a sync loop.
const ROUTINE_CLIENT_LINES = [
  'Received sync',
  'Performing sync',
  'Client stop requested',
  'Backing off for',
  'End-to-end encryption client created',
];

/**
 * The pino level of one matrix-bot-sdk log call: its own level, except for known noise, which is
 * downgraded to debug (never upgraded).
 */
export function sdkLogLevel(level: SdkLevel, module: string, parts: readonly unknown[]): SdkLevel {
  if (level === 'trace' || level === 'debug') return level;
  // http.js logs every failed request at error ("(REQ-12)" + the error body). Our retry layer logs
  // retries with context and the caller gets the converted error, so this line only duplicates.
  if (module === 'MatrixHttpClient') return 'debug';
  // Reading account data or a state event that was never set is a normal miss, not a failure.
  if (parts.some((p) => errcodeOf(p) === 'M_NOT_FOUND')) return 'debug';
  if (
    module === 'MatrixClientLite' &&
    parts.some((p) => typeof p === 'string' && ROUTINE_CLIENT_LINES.some((line) => p.startsWith(line)))
  ) {
    return 'debug';
  }
  return level;
}

const SECRET_KEY = /^(access_?token|password|new_password|authorization|refresh_?token)$/i;
const REDACTED = '[redacted]';
const MIN_SECRET_LENGTH = 8;

/** Removes tokens from free text: query parameters, bearer headers, and any known secret verbatim. */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/(access_token=)[^&\s"']+/gi, `$1${REDACTED}`)
    .replace(/(Bearer\s+)[^\s"',}]+/gi, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  return out;
}

function redactValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 6) return '[too deep]';
  if (value instanceof Error) return errorDetails(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(v, secrets, depth + 1);
  }
  return out;
}

// A plain copy rather than the Error itself: the SDK's errors can be `request` responses whose
// `request.headers` hold the Authorization header, and messages can quote URLs.
function errorDetails(err: Error, secrets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.name,
    message: scrubText(err.message, secrets),
    stack: err.stack === undefined ? undefined : scrubText(err.stack, secrets),
  };
  for (const key of ['code', 'errcode', 'statusCode', 'syscall']) {
    const v = (err as unknown as Record<string, unknown>)[key];
    if (typeof v === 'string' || typeof v === 'number') out[key] = v;
  }
  return out;
}

/** Turns the SDK's `(module, ...messageOrObject)` into a pino binding object and a message. */
export function sdkLogEntry(
  module: string,
  parts: readonly unknown[],
  secrets: readonly string[] = [],
): { fields: Record<string, unknown>; msg: string } {
  const words: string[] = [];
  const details: unknown[] = [];
  let err: Record<string, unknown> | undefined;
  for (const part of parts) {
    if (typeof part === 'string') words.push(scrubText(part, secrets));
    else if (part instanceof Error && err === undefined) err = errorDetails(part, secrets);
    else if (typeof part === 'object' && part !== null) details.push(redactValue(part, secrets, 0));
    else words.push(String(part));
  }
  const fields: Record<string, unknown> = { sdkModule: module };
  if (err !== undefined) fields.err = err;
  if (details.length > 0) fields.detail = details.length === 1 ? details[0] : details;
  return { fields, msg: words.join(' ') || module };
}

class PinoSdkLogger implements ILogger {
  readonly #log: Logger;
  readonly #secrets: string[];

  constructor(log: Logger, secrets: string[]) {
    this.#log = log;
    this.#secrets = secrets;
  }

  #write(level: SdkLevel, module: string, parts: unknown[]): void {
    const { fields, msg } = sdkLogEntry(module, parts, this.#secrets);
    this.#log[sdkLogLevel(level, module, parts)](fields, msg);
  }

  trace(module: string, ...parts: unknown[]): void {
    this.#write('trace', module, parts);
  }
  debug(module: string, ...parts: unknown[]): void {
    this.#write('debug', module, parts);
  }
  info(module: string, ...parts: unknown[]): void {
    this.#write('info', module, parts);
  }
  warn(module: string, ...parts: unknown[]): void {
    this.#write('warn', module, parts);
  }
  error(module: string, ...parts: unknown[]): void {
    this.#write('error', module, parts);
  }
}

function sdkThreshold(pinoLevel: string): SdkLogThreshold {
  const { LogLevel } = matrixSdk();
  switch (pinoLevel) {
    case 'trace':
      return LogLevel.TRACE;
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

export interface SdkLogOptions {
  /** Strings that must never appear in a log line (the access token), removed wherever they occur. */
  secrets?: readonly string[];
}

/** The route routeSdkLogs set up: secrets learnt later (a password login's token) are added to it. */
export interface SdkLogRoute {
  /** From now on, scrubs `secret` too wherever it occurs. */
  addSecret(secret: string): void;
}

/**
 * Routes matrix-bot-sdk's process-wide LogService into a pino child (`mod: 'matrix-bot-sdk'`),
 * at the logger's level, with its known noise at debug and tokens scrubbed. The daemon calls it
 * once at start; a later call replaces the route for the whole process.
 */
export function routeSdkLogs(log: Logger, options: SdkLogOptions = {}): SdkLogRoute {
  const { LogService } = matrixSdk();
  const child = log.child({ mod: 'matrix-bot-sdk' });
  const secrets = [...(options.secrets ?? [])];
  LogService.setLogger(new PinoSdkLogger(child, secrets));
  // The SDK only builds trace-level payloads (request bodies) when its own level asks for them.
  LogService.setLevel(sdkThreshold(child.level));
  return { addSecret: (secret) => void secrets.push(secret) };
}
