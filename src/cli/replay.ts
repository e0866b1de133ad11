import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';
import { Pipeline } from '../sync/pipeline.js';
import { RoomkeeperError } from '../errors.js';

export interface ReplaySummary {
  responses: number;
  applied: number;
  duplicates: number;
  invalid: number;
  badLines: number;
}

export interface ReplayOptions {
  store: Store;
  botUserId: UserId;
  log: Logger;
  /** A path, or '-' for `stdin`. */
  file: string;
  stdin: Readable;
  /** Called after each line with bytes read so far and the total, when the total is known. */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  now?: () => number;
}

/**
 * Feeds recorded /sync bodies, one JSON object per line, through the same pipeline the live
 * daemon uses. A line that is not JSON is reported with its number and skipped.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { file, log } = options;
  let input: Readable;
  let total: number | undefined;
  if (file === '-') {
    input = options.stdin;
  } else {
    // Open before reading: a file that cannot be opened (missing, unreadable) or a directory
    // fails here as one line, not later as a stream error with a stack trace.
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw new RoomkeeperError('INPUT_NOT_FOUND', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    const st = await handle.stat();
    if (st.isDirectory()) {
      await handle.close();
      throw new RoomkeeperError('INPUT_NOT_FOUND', `cannot read ${file}: it is a directory`);
    }
    total = st.size;
    input = handle.createReadStream();
  }
  const pipeline = new Pipeline(options.store, { botUserId: options.botUserId, log, now: options.now });
  const summary: ReplaySummary = { responses: 0, applied: 0, duplicates: 0, invalid: 0, badLines: 0 };
  let lineNo = 0;
  let bytes = 0;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch (err) {
      log.warn({ line: lineNo, reason: (err as Error).message }, 'line is not JSON; skipped');
      summary.badLines++;
      continue;
    }
    const r = await pipeline.process(body);
    summary.responses++;
    summary.applied += r.applied;
    summary.duplicates += r.duplicates;
    summary.invalid += r.invalid;
    options.onProgress?.(bytes, total);
  }
  return summary;
}
