import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import type { UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';
import { Pipeline } from '../sync/pipeline.js';

/** What a replay did, line by line. */
export interface ReplaySummary {
  responses: number;
  applied: number;
  duplicates: number;
  invalid: number;
  /** Lines that are not a JSON object (not JSON at all, or an array, string, number or null). */
  badLines: number;
  /** Lines longer than the maximum, skipped unread. */
  longLines: number;
}

/** The longest line `replay` reads when given no maximum: 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export interface ReplayOptions {
  store: Store;
  botUserId: UserId;
  log: Logger;
  /** A path, or '-' for `stdin`. */
  file: string;
  stdin: Readable;
  /** Lines longer than this many bytes (without the line break) are reported and skipped. */
  maxLineBytes?: number;
  /** Called before each line is processed, with its number (from 1). */
  onLine?: (lineNo: number) => void;
  /** Called after each line with bytes read so far and the total, when the total is known. */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  now?: () => number;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Reads a size like `1048576`, `512KiB`, `64MiB` or `1GB` into bytes; undefined when it is not one or is 0. */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d{1,12})\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'none'];
  if (match === null || unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** One line of the input: its text, or how long it was when it was too long to keep. */
type Line = { lineNo: number; bytesRead: number } & ({ text: string } | { tooLong: number });

/**
 * Splits a byte stream into lines without ever holding more than `maxBytes` of one line: the
 * rest of a longer line is counted and dropped as it streams past.
 */
async function* linesOf(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let lineNo = 0;
  let bytesRead = 0;
  const end = (): Line => {
    lineNo++;
    const line: Line = tooLong ? { lineNo, bytesRead, tooLong: length } : { lineNo, bytesRead, text: Buffer.concat(parts, length).toString('utf8') };
    parts = [];
    length = 0;
    tooLong = false;
    return line;
  };
  const take = (piece: Buffer) => {
    length += piece.length;
    if (tooLong) return;
    if (length > maxBytes) {
      tooLong = true;
      parts = [];
    } else {
      parts.push(piece);
    }
  };
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let nl = buffer.indexOf(10, start); nl !== -1; nl = buffer.indexOf(10, start)) {
      bytesRead += nl + 1 - start;
      // A CRLF line ending leaves its CR on the line; JSON.parse takes it as white space.
      take(buffer.subarray(start, nl));
      yield end();
      start = nl + 1;
    }
    bytesRead += buffer.length - start;
    if (start < buffer.length) take(buffer.subarray(start));
  }
  if (length > 0 || tooLong) yield end();
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Feeds recorded /sync bodies, one JSON object per line, through the same pipeline the live
 * daemon uses. A line that is not a JSON object, or is longer than the maximum, is reported with
 * its number and skipped; the lines after it are still applied.
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
    total = st.isFile() ? st.size : undefined;
    input = handle.createReadStream();
  }
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const pipeline = new Pipeline(options.store, { botUserId: options.botUserId, log, now: options.now });
  const summary: ReplaySummary = { responses: 0, applied: 0, duplicates: 0, invalid: 0, badLines: 0, longLines: 0 };
  for await (const line of linesOf(input as AsyncIterable<Buffer | string>, maxLineBytes)) {
    options.onLine?.(line.lineNo);
    if ('tooLong' in line) {
      log.warn({ line: line.lineNo, bytes: line.tooLong, maxBytes: maxLineBytes }, 'line is longer than the maximum; skipped');
      summary.longLines++;
      options.onProgress?.(line.bytesRead, total);
      continue;
    }
    if (line.text.trim() === '') continue;
    let body: unknown;
    try {
      body = JSON.parse(line.text);
    } catch (err) {
      log.warn({ line: line.lineNo, reason: (err as Error).message }, 'line is not JSON; skipped');
      summary.badLines++;
      continue;
    }
    // An array or a scalar is one bad line, not a response with invalid events.
    if (!isJsonObject(body)) {
      log.warn({ line: line.lineNo, type: Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body }, 'line is not a JSON object; skipped');
      summary.badLines++;
      continue;
    }
    const r = await pipeline.process(body);
    summary.responses++;
    summary.applied += r.applied;
    summary.duplicates += r.duplicates;
    summary.invalid += r.invalid;
    options.onProgress?.(line.bytesRead, total);
  }
  return summary;
}
