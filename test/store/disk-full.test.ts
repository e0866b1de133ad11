import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

/**
 * A full disk and a read-only mount, on a small tmpfs mounted for the test (the tests run as
 * root, where permissions cannot be taken away, but a mount can be made).
 */

const BOT = '@bot:x';
const dirs = new TempDirs();
let mnt: string;

beforeAll(async () => {
  mnt = await dirs.make();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
});

afterAll(async () => {
  execFileSync('umount', [mnt]);
  await dirs.cleanup();
});

function bigRoom(s: SyncBuilder, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => s.member(`@user${i}:x`, 'join', { displayname: `User number ${i} `.padEnd(120, 'x') }));
}

async function fill(path: string): Promise<void> {
  try {
    await writeFile(path, Buffer.alloc(16 * 1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

describe('store on a full or read-only disk', () => {
  it('fails a commit with STORE_NO_SPACE naming the directory, keeps the token, and resumes with nothing lost once space is freed', async () => {
    const dataDir = join(mnt, 'data');
    const s = new SyncBuilder();
    const log = memoryLogger('silent').log;
    let store = await Store.open(dataDir, { create: true });
    let pipeline = new Pipeline(store, { botUserId: BOT as UserId, log });
    await pipeline.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join')] } }, {}, 'tok1'));
    const filler = join(mnt, 'filler');
    await fill(filler);
    const body = s.response({ '!r:x': { timeline: bigRoom(s, 3000) } }, {}, 'tok2');
    const err = await pipeline.process(body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRoomkeeperError(err, 'STORE_NO_SPACE'), String(err)).toBe(true);
    expect((err as Error).message).toContain(dataDir);
    expect((err as Error).message).toContain('free space');
    expect(await store.syncToken()).toBe('tok1');
    await store.close().catch(() => undefined);

    await rm(filler);
    store = await Store.open(dataDir);
    try {
      expect(await store.syncToken()).toBe('tok1');
      pipeline = new Pipeline(store, { botUserId: BOT as UserId, log });
      // The client sends the same body again: it is applied whole, once.
      const r = await pipeline.process(body);
      expect(r.applied).toBe(3000);
      expect(await store.syncToken()).toBe('tok2');
      expect(await store.rooms.memberCount('!r:x' as RoomId)).toBe(3001);
    } finally {
      await store.close();
    }
  });

  it('refuses to open on a read-only mount with STORE_UNWRITABLE and what to do', async () => {
    const dataDir = join(mnt, 'ro');
    await mkdir(dataDir);
    const store = await Store.open(dataDir, { create: true });
    await store.close();
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const err = await Store.open(dataDir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRoomkeeperError(err, 'STORE_UNWRITABLE'), String(err)).toBe(true);
      expect((err as Error).message).toContain('read-write');
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});
