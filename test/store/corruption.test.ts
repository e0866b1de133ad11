import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoomkeeperError, type ErrorCode } from '../../src/errors.js';
import type { UserId } from '../../src/state/ids.js';
import { lockedElsewhere } from '../../src/store/data-dir.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { runCli } from '../support/cli.js';
import { memoryLogger } from '../support/memory-log.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

/**
 * Damaged and foreign data directories on real temp dirs: each is refused with its own error
 * code, and no file of the directory changes (bytes and mtime), whether or not the caller may
 * create a database.
 */

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const BOT = '@bot:x';

/** Every file under `dir`, with a hash of its bytes and its mtime. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(d, name);
      const info = await stat(path);
      if (info.isDirectory()) {
        out[`${rel}${name}/`] = 'dir';
        await walk(path, `${rel}${name}/`);
      } else {
        out[rel + name] = `${createHash('sha256').update(await readFile(path)).digest('hex')} ${info.mtimeMs}`;
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** A real roomkeeper data dir with rooms in both a table (.ldb) and the write-ahead log. */
async function healthyStore(): Promise<string> {
  const dir = await dirs.make();
  const s = new SyncBuilder();
  for (let round = 0; round < 2; round++) {
    const store = await Store.open(dir, { create: true });
    const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger('silent').log });
    await pipeline.process(s.response({ [`!r${round}:x`]: { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    await store.close();
  }
  return dir;
}

async function fileOf(dir: string, pattern: RegExp): Promise<string> {
  const name = (await readdir(join(dir, 'leveldb'))).find((f) => pattern.test(f));
  if (name === undefined) throw new Error(`no file like ${String(pattern)} in ${dir}/leveldb`);
  return join(dir, 'leveldb', name);
}

async function expectRefused(dir: string, code: ErrorCode, words: string): Promise<void> {
  const before = await fingerprint(dir);
  for (const create of [false, true]) {
    let err: unknown;
    try {
      const store = await Store.open(dir, { create });
      await store.close();
    } catch (e) {
      err = e;
    }
    expect(isRoomkeeperError(err, code), `create: ${String(create)} gives ${code}, got ${String(err)}`).toBe(true);
    expect((err as Error).message).toContain(words);
    expect((err as Error).message).not.toContain('\n');
  }
  expect(await fingerprint(dir), 'no file of the data dir changes').toEqual(before);
}

describe('damaged data directories', () => {
  it('refuses with STORE_CORRUPT when leveldb is a file', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, 'leveldb'), 'not a directory');
    await expectRefused(dir, 'STORE_CORRUPT', 'is a file');
  });

  it('refuses with STORE_CORRUPT when CURRENT is missing, instead of starting over and deleting the tables', async () => {
    const dir = await healthyStore();
    await rm(join(dir, 'leveldb', 'CURRENT'));
    await expectRefused(dir, 'STORE_CORRUPT', 'no CURRENT');
  });

  it('refuses with STORE_CORRUPT when CURRENT does not name a MANIFEST', async () => {
    const dir = await healthyStore();
    await writeFile(join(dir, 'leveldb', 'CURRENT'), 'garbage');
    await expectRefused(dir, 'STORE_CORRUPT', 'CURRENT');
  });

  it('refuses with STORE_CORRUPT when the MANIFEST that CURRENT names is missing', async () => {
    const dir = await healthyStore();
    await rm(await fileOf(dir, /^MANIFEST-/));
    await expectRefused(dir, 'STORE_CORRUPT', 'is missing');
  });

  it('refuses with STORE_CORRUPT when the MANIFEST holds garbage', async () => {
    const dir = await healthyStore();
    const manifest = await fileOf(dir, /^MANIFEST-/);
    const size = (await stat(manifest)).size;
    await writeFile(manifest, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7919 + 13) % 251)));
    await expectRefused(dir, 'STORE_CORRUPT', 'MANIFEST');
  });

  it('refuses with STORE_CORRUPT when the MANIFEST is zeroed', async () => {
    const dir = await healthyStore();
    const manifest = await fileOf(dir, /^MANIFEST-/);
    await writeFile(manifest, Buffer.alloc((await stat(manifest)).size));
    await expectRefused(dir, 'STORE_CORRUPT', 'MANIFEST');
  });

  it('refuses with STORE_CORRUPT when a table is cut short', async () => {
    const dir = await healthyStore();
    const table = await fileOf(dir, /\.ldb$/);
    await truncate(table, Math.floor((await stat(table)).size / 2));
    await expectRefused(dir, 'STORE_CORRUPT', 'restore the data directory from a backup');
  });

  it('refuses with STORE_CORRUPT when a table the MANIFEST lists is missing', async () => {
    const dir = await healthyStore();
    await rm(await fileOf(dir, /\.ldb$/));
    await expectRefused(dir, 'STORE_CORRUPT', 'is missing');
  });

  it('ignores a table the MANIFEST does not list (a compaction output being written)', async () => {
    const dir = await healthyStore();
    await writeFile(join(dir, 'leveldb', '999999.ldb'), 'half a table');
    const store = await Store.open(dir);
    try {
      expect(await store.rooms.allRooms()).toEqual(['!r0:x', '!r1:x']);
    } finally {
      await store.close();
    }
  });

  it('refuses with STORE_CORRUPT when a table is zeroed', async () => {
    const dir = await healthyStore();
    const table = await fileOf(dir, /\.ldb$/);
    await writeFile(table, Buffer.alloc((await stat(table)).size));
    await expectRefused(dir, 'STORE_CORRUPT', 'table');
  });

  it('refuses with STORE_FOREIGN, writing nothing, when leveldb is another application’s database', async () => {
    const dir = await dirs.make();
    const other = new ClassicLevel<string, string>(join(dir, 'leveldb'));
    await other.open();
    await other.batch([{ type: 'put', key: 'settings', value: '{"theme":"dark"}' }, { type: 'put', key: '!meta!owner', value: 'someone else' }]);
    await other.close();
    await expectRefused(dir, 'STORE_FOREIGN', 'not a roomkeeper data directory');
  });

  it('refuses with STORE_FOREIGN when the data dir is itself a LevelDB database', async () => {
    const dir = await dirs.make();
    const other = new ClassicLevel<string, string>(dir);
    await other.open();
    await other.put('k', 'v');
    await other.close();
    await expectRefused(dir, 'STORE_FOREIGN', 'not a roomkeeper data directory');
  });

  it('refuses with STORE_FOREIGN to create a database in a directory that holds other files', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, 'notes.txt'), 'my files');
    await expectRefused(dir, 'STORE_FOREIGN', 'notes.txt');
  });

  it('refuses with STORE_NOT_FOUND, creating nothing, when the directory is empty or missing and create is not asked', async () => {
    const dir = await dirs.make();
    const missing = join(dir, 'typo', 'data');
    for (const path of [dir, missing]) {
      const err = await Store.open(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRoomkeeperError(err, 'STORE_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toBe(`no roomkeeper data directory at ${path}`);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('opens a healthy store whose marker file is gone (written before markers existed) and keeps its rooms', async () => {
    const dir = await healthyStore();
    await rm(join(dir, 'ROOMKEEPER'));
    const store = await Store.open(dir);
    try {
      expect(await store.rooms.allRooms()).toEqual(['!r0:x', '!r1:x']);
    } finally {
      await store.close();
    }
    expect(await readdir(dir)).toContain('ROOMKEEPER');
  });

  it('creates a database after a first start that was killed before LevelDB wrote CURRENT', async () => {
    const dir = await dirs.make();
    await mkdir(join(dir, 'leveldb'));
    await writeFile(join(dir, 'leveldb', 'LOCK'), '');
    await writeFile(join(dir, 'leveldb', 'MANIFEST-000001'), '');
    const store = await Store.open(dir, { create: true });
    await store.close();
  });

  it('finishes a creation that was killed between LevelDB’s CURRENT and the schema version', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, 'ROOMKEEPER'), 'roomkeeper data directory\n');
    const cut = new ClassicLevel<string, string>(join(dir, 'leveldb'));
    await cut.open();
    await cut.close();
    const store = await Store.open(dir, { create: true });
    try {
      expect(await store.rooms.allRooms()).toEqual([]);
    } finally {
      await store.close();
    }
    // Without the marker, the same empty database could be anyone's.
    await rm(join(dir, 'ROOMKEEPER'));
    const other = await dirs.make();
    const foreign = new ClassicLevel<string, string>(join(other, 'leveldb'));
    await foreign.open();
    await foreign.close();
    await expectRefused(other, 'STORE_FOREIGN', 'not a roomkeeper data directory');
  });

  it('gives one line with the path and what to do, and exit 2, from the CLI', async () => {
    const dir = await healthyStore();
    await rm(join(dir, 'leveldb', 'CURRENT'));
    const before = await fingerprint(dir);
    const r = await runCli(['inspect', '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(join(dir, 'leveldb'));
    expect(r.stderr).toContain('restore the data directory from a backup');
    expect(await fingerprint(dir)).toEqual(before);
  });
});

describe('a data directory another process holds', () => {
  it('is STORE_LOCKED before any file is judged: a running daemon’s files are mid-write', async () => {
    const dir = await healthyStore();
    const storeModule = new URL('../../dist/store/store.js', import.meta.url).href;
    const script = `
      const { Store } = await import(${JSON.stringify(storeModule)});
      await Store.open(process.argv[1]);
      console.log('open');
      await new Promise((resolve) => process.stdin.once('data', resolve));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      expect(await lockedElsewhere(join(dir, 'leveldb'))).toBe(true);
      // What a reader in the middle of a compaction could see: a listed table already deleted.
      await rm(await fileOf(dir, /\.ldb$/));
      const err = await Store.open(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRoomkeeperError(err, 'STORE_LOCKED'), String(err)).toBe(true);
    } finally {
      child.stdin.end('bye');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(await lockedElsewhere(join(dir, 'leveldb'))).toBe(false);
  });
});
