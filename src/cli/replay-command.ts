import type { Readable } from 'node:stream';
import { RoomkeeperError } from '../errors.js';
import { createLogger, type LogLevel } from '../log.js';
import { parseUserId } from '../state/ids.js';
import { withStore, type Io } from './io.js';
import { progressBar } from './progress-bar.js';
import { parseByteSize, replay } from './replay.js';

/** The flags of `roomkeeper replay`. */
export interface ReplayFlags {
  dataDir: string;
  userId: string;
  logLevel: LogLevel;
  json?: boolean;
  maxLineLength: number;
}

/** `roomkeeper replay FILE`: feeds the recording into the data dir and prints the summary. */
export async function replayCommand(file: string, flags: ReplayFlags, io: Io): Promise<number> {
  const botUserId = parseUserId(flags.userId);
  if (botUserId === undefined) throw new RoomkeeperError('USAGE', `--user-id: "${flags.userId}" is not a user id like @bot:example.org`);
  const progress = io.stderr.isTTY === true ? progressBar(io.stderr) : undefined;
  let lineNo = 0;
  const log = createLogger({
    level: flags.logLevel,
    // Every line the pipeline logs names the input line it came from.
    mixin: () => (lineNo === 0 ? {} : { line: lineNo }),
    destination:
      progress === undefined
        ? undefined
        : {
            write(text: string) {
              progress.clear();
              io.stderr.write(text);
              progress.redraw();
            },
          },
  });
  const summary = await withStore(flags.dataDir, 'create', (store) =>
    replay({
      store,
      botUserId,
      log,
      file,
      stdin: io.stdin as Readable,
      maxLineBytes: flags.maxLineLength,
      onLine: (n) => (lineNo = n),
      onProgress: progress?.update,
    }),
  );
  progress?.done();
  if (flags.json === true) {
    io.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    io.stdout.write(
      `responses: ${summary.responses}\nevents applied: ${summary.applied}\nduplicates skipped: ${summary.duplicates}\n` +
        `invalid events rejected: ${summary.invalid}\nlines not a JSON object: ${summary.badLines}\n` +
        `lines too long: ${summary.longLines}\n`,
    );
  }
  return 0;
}

/** Parses `--max-line-length`. */
export function maxLineLength(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new RoomkeeperError('USAGE', `--max-line-length: "${text}" is not a size like 64MiB, 512KiB or 1048576`);
  return bytes;
}
