import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Every level a logger can be set to, most verbose first; the config and the CLI accept these. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** One of `LOG_LEVELS`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; stderr when left out (stdout is kept for command output). */
  destination?: DestinationStream;
  /** File descriptor to write to when no destination is given: 1 for the daemon, 2 for CLI tools. */
  fd?: 1 | 2;
  /** Human-readable lines instead of JSON (the daemon on a terminal, or by config). */
  pretty?: boolean;
  /** Fields added to every line, computed when it is written (replay's current input line). */
  mixin?: () => Record<string, unknown>;
}

/** Paths that may hold secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'accessToken',
  'access_token',
  'password',
  '*.accessToken',
  '*.access_token',
  '*.password',
  // The start-up config dump; redactConfig already replaces these, this is the second lock.
  'config.auth.accessToken',
  'config.auth.password',
  'headers.authorization',
  '*.headers.authorization',
];

/** Creates the one root logger of the process; modules take children of it. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'roomkeeper' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      ...(options.mixin === undefined ? {} : { mixin: options.mixin }),
    },
    options.destination ??
      (options.pretty === true
        ? // One line per entry: the start-up config dump would otherwise take ~40 lines.
          pretty({ destination: options.fd ?? 2, sync: true, colorize: true, translateTime: 'SYS:standard', singleLine: true })
        : pino.destination({ fd: options.fd ?? 2, sync: true })),
  );
}
