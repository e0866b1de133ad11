import { createLogger, type Logger } from '../../src/log.js';

/** A parsed pino JSON line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A real pino logger at trace level writing into memory: `text()` is everything it wrote. */
export function captureLog(): { log: Logger; lines: () => LogLine[]; text: () => string } {
  const chunks: string[] = [];
  const log = createLogger({ level: 'trace', destination: { write: (s: string) => void chunks.push(s) } });
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
