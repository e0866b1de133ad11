import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RoomkeeperError } from '../errors.js';

/**
 * What a data directory holds, found by reading its files and never writing one: LevelDB's own
 * open rotates its LOG, writes a new MANIFEST and CURRENT, and on a directory without CURRENT
 * creates an empty database and then deletes the old tables as obsolete. Whatever must be
 * refused is refused here, before LevelDB is asked.
 */

/** The file that says a directory is a roomkeeper data directory (written before its database). */
export const MARKER_FILE = 'ROOMKEEPER';

/** What `inspectDataDir` found. */
export type DataDirState =
  /** No database yet (no directory, or no files of one): only a create may go on. */
  | { kind: 'absent' }
  /** A LevelDB database whose files look whole; `marked` when the marker file is there. */
  | { kind: 'database'; marked: boolean };

/** Entries of a data directory that roomkeeper itself puts there, besides `leveldb`. */
const OWN_ENTRIES = new Set([MARKER_FILE, 'crypto', 'leveldb']);

/** Files LevelDB writes before a database exists; a directory holding only these holds no data. */
const PRE_DATABASE = /^(LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.dbtmp)$/;

const TABLE = /^\d+\.(ldb|sst)$/;
const TABLE_FOOTER_BYTES = 48;
/** LevelDB's table magic number 0xdb4775248b80fb57, as the footer stores it (little-endian). */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);

const RESTORE = 'restore the data directory from a backup';

function corrupt(dataDir: string, what: string, cause?: unknown): RoomkeeperError {
  return new RoomkeeperError('STORE_CORRUPT', `data directory ${dataDir}: ${what}; ${RESTORE}`, { cause });
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Looks at a data directory without changing it. Throws STORE_CORRUPT for a database whose
 * files are visibly damaged (no CURRENT, a CURRENT or MANIFEST that does not read, a table of
 * the MANIFEST missing, cut or zeroed), STORE_FOREIGN for a directory that holds something
 * else, and STORE_LOCKED when another process holds the database.
 */
export async function inspectDataDir(dataDir: string): Promise<DataDirState> {
  const top = await entriesOf(dataDir);
  if (top === undefined) return { kind: 'absent' };
  const dbDir = join(dataDir, 'leveldb');
  const info = await stat(dbDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info !== undefined && !info.isDirectory()) throw corrupt(dataDir, `${dbDir} is a file, not a database directory`);
  const files = info === undefined ? [] : ((await entriesOf(dbDir)) ?? []);
  if (files.every((f) => PRE_DATABASE.test(f))) {
    // Nothing of a database: it may be created, unless the directory holds something else.
    if (top.includes('CURRENT') || top.some((f) => TABLE.test(f))) {
      throw new RoomkeeperError('STORE_FOREIGN', `${dataDir} is not a roomkeeper data directory: it is a LevelDB database itself (roomkeeper keeps its own in ${dbDir})`);
    }
    const other = top.filter((f) => !f.startsWith('.') && !OWN_ENTRIES.has(f));
    if (other.length > 0) {
      throw new RoomkeeperError('STORE_FOREIGN', `${dataDir} is not a roomkeeper data directory: it holds ${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''} and no roomkeeper database`);
    }
    return { kind: 'absent' };
  }
  // A running daemon's files are mid-write (a compaction's table, an appended MANIFEST): say it
  // is in use rather than read them as damaged.
  if ((await lockedElsewhere(dbDir)) === true) {
    throw new RoomkeeperError('STORE_LOCKED', `data directory ${dataDir} is in use by another roomkeeper process`);
  }
  if (!files.includes('CURRENT')) {
    throw corrupt(dataDir, `${dbDir} holds database files but no CURRENT file (opening it would start an empty database and delete the old tables)`);
  }
  await checkManifest(dataDir, dbDir, files);
  return { kind: 'database', marked: top.includes(MARKER_FILE) };
}

async function checkManifest(dataDir: string, dbDir: string, files: readonly string[]): Promise<void> {
  const current = await readFile(join(dbDir, 'CURRENT'), 'latin1');
  const named = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (named === undefined) throw corrupt(dataDir, `${join(dbDir, 'CURRENT')} is damaged (it does not name a MANIFEST file)`);
  if (!files.includes(named)) throw corrupt(dataDir, `${join(dbDir, named)}, which CURRENT names, is missing`);
  const read = readLog(await readFile(join(dbDir, named)));
  const live = read.problem === undefined ? liveTables(read.records) : { problem: read.problem };
  if ('problem' in live) throw corrupt(dataDir, `${join(dbDir, named)} is damaged (${live.problem})`);
  await checkTables(dataDir, dbDir, live.tables, new Set(files));
}

/**
 * Every table the MANIFEST lists must be there, of the size it lists, and end with LevelDB's
 * magic number: a missing, cut or zeroed table does not. Tables it does not list (a compaction's
 * output being written, or leftovers LevelDB deletes) are not looked at.
 */
async function checkTables(dataDir: string, dbDir: string, tables: ReadonlyMap<number, number>, files: ReadonlySet<string>): Promise<void> {
  const footer = Buffer.alloc(TABLE_MAGIC.length);
  for (const [number, size] of tables) {
    const base = String(number).padStart(6, '0');
    const name = files.has(`${base}.ldb`) ? `${base}.ldb` : files.has(`${base}.sst`) ? `${base}.sst` : undefined;
    if (name === undefined) throw corrupt(dataDir, `table ${join(dbDir, `${base}.ldb`)}, which the MANIFEST lists, is missing`);
    const path = join(dbDir, name);
    const handle = await open(path, 'r');
    try {
      const actual = (await handle.stat()).size;
      if (actual !== size || actual < TABLE_FOOTER_BYTES) throw corrupt(dataDir, `table ${path} is ${actual} bytes, not the ${size} the MANIFEST lists (cut short or overwritten)`);
      await handle.read(footer, 0, footer.length, actual - footer.length);
      if (!footer.equals(TABLE_MAGIC)) throw corrupt(dataDir, `table ${path} is damaged (no table footer: overwritten)`);
    } finally {
      await handle.close();
    }
  }
}

/**
 * Whether another process holds the database's LOCK file, read from /proc/locks (Linux): LevelDB
 * takes an fcntl lock on it, which shows there with the file's device and inode. Undefined where
 * that cannot be told.
 */
export async function lockedElsewhere(dbDir: string): Promise<boolean | undefined> {
  let locks: string;
  let id: { dev: bigint; ino: bigint };
  try {
    [locks, id] = await Promise.all([readFile('/proc/locks', 'latin1'), stat(join(dbDir, 'LOCK'), { bigint: true })]);
  } catch {
    // No /proc (not Linux) or no LOCK file: LevelDB's own open answers.
    return undefined;
  }
  const major = ((id.dev >> 8n) & 0xfffn) | ((id.dev >> 32n) & ~0xfffn);
  const minor = (id.dev & 0xffn) | ((id.dev >> 12n) & ~0xffn);
  const pattern = new RegExp(`^\\d+: POSIX\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+([0-9a-f]+):([0-9a-f]+):(\\d+)\\s`, 'gm');
  for (const m of locks.matchAll(pattern)) {
    if (BigInt(`0x${m[2]!}`) === major && BigInt(`0x${m[3]!}`) === minor && BigInt(m[4]!) === id.ino && Number(m[1]) !== process.pid) return true;
  }
  return false;
}

// --- LevelDB's log format, in which the MANIFEST is written -----------------------------------
//
// Blocks of 32 KiB holding records: a 7-byte header (masked CRC-32C of type and payload, payload
// length, type) and the payload. A record never crosses a block; fewer than 7 bytes left at the
// end of a block are zero padding.

const BLOCK = 32 * 1024;
const HEADER = 7;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function masked(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The records of a log-format file as LevelDB reads them, or why it does not read. */
export function readLog(data: Buffer): { records: Buffer[]; problem?: string } {
  const records: Buffer[] = [];
  let parts: Buffer[] | undefined;
  let offset = 0;
  while (offset + HEADER <= data.length) {
    const left = BLOCK - (offset % BLOCK);
    if (left < HEADER) {
      offset += left;
      continue;
    }
    const length = data.readUInt16LE(offset + 4);
    const type = data[offset + 6]!;
    // Zero-length records of type 0 are preallocated space: the rest of the block is empty.
    if (type === 0 && length === 0) {
      offset += left;
      continue;
    }
    if (HEADER + length > left) return { records, problem: `a record at byte ${offset} runs past its block` };
    // A record cut off by the end of the file is where a crash stopped writing: LevelDB reads up to it.
    if (offset + HEADER + length > data.length) break;
    if (type < 1 || type > 4) return { records, problem: `a record at byte ${offset} has an unknown type ${type}` };
    const crc = masked(crc32c(data.subarray(offset + 6, offset + HEADER + length)));
    if (crc !== data.readUInt32LE(offset)) return { records, problem: `the checksum of the record at byte ${offset} does not match` };
    const payload = data.subarray(offset + HEADER, offset + HEADER + length);
    // 1 full, 2 first, 3 middle, 4 last fragment of a record.
    if (type === 1) records.push(payload);
    else if (type === 2) parts = [payload];
    else if (parts === undefined) return { records, problem: `a record fragment at byte ${offset} has no start` };
    else {
      parts.push(payload);
      if (type === 4) {
        records.push(Buffer.concat(parts));
        parts = undefined;
      }
    }
    offset += HEADER + length;
  }
  return records.length === 0 ? { records, problem: 'it holds no record' } : { records };
}

/** Reads LevelDB's varints and length-prefixed slices from a VersionEdit. */
class EditReader {
  #at = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.#at >= this.buf.length;
  }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.#at++];
      if (b === undefined) throw new RangeError('a number runs past the record');
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new RangeError('a number is too long');
  }
  skipSlice(): void {
    const n = this.varint();
    if (this.#at + n > this.buf.length) throw new RangeError('a key runs past the record');
    this.#at += n;
  }
}

/**
 * The tables the MANIFEST's VersionEdits leave live (file number → size), or why they do not
 * read. Tags of leveldb/db/version_edit.cc.
 */
export function liveTables(records: readonly Buffer[]): { tables: Map<number, number> } | { problem: string } {
  const tables = new Map<number, number>();
  try {
    for (const record of records) {
      const r = new EditReader(record);
      while (!r.done) {
        const tag = r.varint();
        switch (tag) {
          case 1: // comparator
            r.skipSlice();
            break;
          case 2: // log number
          case 3: // next file number
          case 4: // last sequence
          case 9: // previous log number
            r.varint();
            break;
          case 5: // compact pointer: level, key
            r.varint();
            r.skipSlice();
            break;
          case 6: // deleted file: level, number
            r.varint();
            tables.delete(r.varint());
            break;
          case 7: {
            // new file: level, number, size, smallest, largest
            r.varint();
            const number = r.varint();
            const size = r.varint();
            r.skipSlice();
            r.skipSlice();
            tables.set(number, size);
            break;
          }
          default:
            return { problem: `a VersionEdit has an unknown tag ${tag}` };
        }
      }
    }
  } catch (err) {
    return { problem: (err as Error).message };
  }
  return { tables };
}
