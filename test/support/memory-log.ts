import { createLogger, type Logger, type LogLevel } from '../../src/log.js';

/** A parsed pino JSON line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** pino's numeric level of `warn`. */
export const WARN = 40;

/**
 * A real pino logger writing JSON lines into memory, for asserting on what was logged:
 * `lines()` parsed, `text()` exactly as written.
 */
export function memoryLogger(level: LogLevel = 'info'): { log: Logger; lines: () => LogLine[]; text: () => string } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as LogLine),
  };
}
