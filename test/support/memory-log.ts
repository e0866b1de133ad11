import { createLogger, type Logger } from '../../src/log.js';

/** A parsed pino JSON line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** pino's numeric level of `warn`. */
export const WARN = 40;

/** A real pino logger writing JSON lines into memory, for asserting on what was logged. */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'info'): { log: Logger; lines: () => LogLine[] } {
  const chunks: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void chunks.push(s) } });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as LogLine),
  };
}
