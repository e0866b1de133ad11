import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RoomkeeperError } from '../errors.js';

// statfs(2) magic numbers of kernel file systems that look like directories but cannot hold a
// database: LevelDB on /proc waits forever for a lock file that cannot be created there.
const VIRTUAL_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x74726163, 'tracefs'],
  [0xcafe4a11, 'bpf'],
]);

/** What a command is about to do with the data directory. */
export type DataDirUse =
  /** `run` and `replay`: the directory may be created, and is written to. */
  | 'create'
  /** `prune`: an existing roomkeeper data directory, written to. */
  | 'write'
  /** `inspect`: an existing roomkeeper data directory, only read. */
  | 'read';

/** The state of a data directory as found on disk, without touching it. */
export type DataDirState =
  | { ok: true; exists: boolean; hasDatabase: boolean }
  | { ok: false; problem: string; hint: string };

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : String(err);
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Looks at `dataDir` (and its nearest existing parent) without creating or opening anything. */
export async function examineDataDir(dataDir: string, use: DataDirUse): Promise<DataDirState> {
  const path = resolve(dataDir);
  try {
    let existing = path;
    let st = await statOrUndefined(existing);
    while (st === undefined && dirname(existing) !== existing) {
      existing = dirname(existing);
      st = await statOrUndefined(existing);
    }
    const exists = existing === path;
    if (st === undefined) return { ok: false, problem: `${path}: no parent directory exists`, hint: 'check the path' };
    if (!st.isDirectory()) {
      return { ok: false, problem: `${existing} is not a directory`, hint: 'give --data-dir (or dataDir) a directory' };
    }
    const fsType = VIRTUAL_FILE_SYSTEMS.get(Number((await statfs(existing)).type));
    if (fsType !== undefined) {
      return { ok: false, problem: `${path} is on the kernel's ${fsType} file system, which cannot hold a database`, hint: 'give a directory on a disk' };
    }
    if (!exists && use !== 'create') {
      return { ok: false, problem: `no roomkeeper data directory at ${path}`, hint: 'check --data-dir' };
    }
    try {
      await access(existing, use === 'read' ? constants.R_OK | constants.X_OK : constants.W_OK | constants.X_OK);
    } catch (err) {
      const verb = use === 'read' ? 'readable' : 'writable';
      return { ok: false, problem: `${existing} is not ${verb}: ${codeOf(err)}`, hint: 'give the bot user access to it' };
    }
    // Whether what is inside is a roomkeeper database is for the store to say when it opens it.
    const hasDatabase = exists && (await statOrUndefined(resolve(path, 'leveldb', 'CURRENT'))) !== undefined;
    return { ok: true, exists, hasDatabase };
  } catch (err) {
    return { ok: false, problem: `${path} cannot be examined: ${codeOf(err)}`, hint: 'check the path and its permissions' };
  }
}

/** Fails fast with one STORE_OPEN_FAILED line when `dataDir` cannot serve `use`; touches nothing. */
export async function requireDataDir(dataDir: string, use: DataDirUse): Promise<void> {
  const state = await examineDataDir(dataDir, use);
  if (!state.ok) throw new RoomkeeperError('STORE_OPEN_FAILED', `${state.problem}; ${state.hint}`);
}
