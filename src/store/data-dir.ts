import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RoomkeeperError } from '../errors.js';

/**
 * What a data directory holds, found by reading its files and never writing one: LevelDB's own
 * open rotates its LOG, writes a new MANIFEST and CURRENT, and on a directory without CURRENT
 * creates an empty database and then deletes the old tables as obsolete. Whatever must be
 * refused is refused here, before LevelDB is asked.
 */

/** The file that says a directory is a roomkeeper data directory (written once its database is). */
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
 * files are visibly damaged (no CURRENT, a CURRENT or MANIFEST that does not read, a cut or
 * zeroed table) and STORE_FOREIGN for a directory that holds something else.
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
  if (!files.includes('CURRENT')) {
    throw corrupt(dataDir, `${dbDir} holds database files but no CURRENT file (opening it would start an empty database and delete the old tables)`);
  }
  await checkManifest(dataDir, dbDir, files);
  await checkTables(dataDir, dbDir, files.filter((f) => TABLE.test(f)));
  return { kind: 'database', marked: top.includes(MARKER_FILE) };
}

async function checkManifest(dataDir: string, dbDir: string, files: readonly string[]): Promise<void> {
  const current = await readFile(join(dbDir, 'CURRENT'), 'latin1');
  const named = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (named === undefined) throw corrupt(dataDir, `${join(dbDir, 'CURRENT')} is damaged (it does not name a MANIFEST file)`);
  if (!files.includes(named)) throw corrupt(dataDir, `${join(dbDir, named)}, which CURRENT names, is missing`);
  const problem = logProblem(await readFile(join(dbDir, named)));
  if (problem !== undefined) throw corrupt(dataDir, `${join(dbDir, named)} is damaged (${problem})`);
}

/** Every table ends with LevelDB's magic number: a cut or zeroed table does not. */
async function checkTables(dataDir: string, dbDir: string, tables: readonly string[]): Promise<void> {
  const footer = Buffer.alloc(TABLE_MAGIC.length);
  for (const name of tables) {
    const path = join(dbDir, name);
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size < TABLE_FOOTER_BYTES) throw corrupt(dataDir, `table ${path} is cut short (${size} bytes)`);
      await handle.read(footer, 0, footer.length, size - footer.length);
      if (!footer.equals(TABLE_MAGIC)) throw corrupt(dataDir, `table ${path} is damaged (no table footer: cut short or overwritten)`);
    } finally {
      await handle.close();
    }
  }
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

/** Why a log-format file does not read as LevelDB would read it; undefined when it does. */
export function logProblem(data: Buffer): string | undefined {
  let records = 0;
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
    if (HEADER + length > left) return `a record at byte ${offset} runs past its block`;
    // A record cut off by the end of the file is where a crash stopped writing: LevelDB reads up to it.
    if (offset + HEADER + length > data.length) break;
    if (type < 1 || type > 4) return `a record at byte ${offset} has an unknown type ${type}`;
    const crc = masked(crc32c(data.subarray(offset + 6, offset + HEADER + length)));
    if (crc !== data.readUInt32LE(offset)) return `the checksum of the record at byte ${offset} does not match`;
    records++;
    offset += HEADER + length;
  }
  return records === 0 ? 'it holds no record' : undefined;
}
