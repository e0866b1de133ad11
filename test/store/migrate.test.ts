import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { SCHEMA_VERSION, Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';

/**
 * test/fixtures/schema-1/leveldb-entries.json is every raw LevelDB entry of a data dir that
 * roomkeeper's schema-1 code wrote (generate.mjs, run against that code's dist/): two rooms,
 * display names, a member who left, guard marks and a sync token.
 */
const FIXTURE = join(import.meta.dirname, '../fixtures/schema-1/leveldb-entries.json');

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

async function schema1Dir(edit: (entries: [string, string][]) => void = () => undefined): Promise<string> {
  const entries = JSON.parse(await readFile(FIXTURE, 'utf8')) as [string, string][];
  edit(entries);
  const dir = await dirs.make();
  const db = new ClassicLevel<string, string>(join(dir, 'leveldb'));
  await db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
  await db.close();
  return dir;
}

async function rawMeta(dir: string, key: string): Promise<string | undefined> {
  const db = new ClassicLevel<string, string>(join(dir, 'leveldb'));
  try {
    return await db.get(`!meta!${key}`);
  } finally {
    await db.close();
  }
}

const room = (s: string) => s as RoomId;
const user = (s: string) => s as UserId;

async function expectMigrated(store: Store): Promise<void> {
  expect(await store.rooms.membersOf(room('!lounge:x'))).toEqual([
    { userId: '@alice:x', membership: 'join', displayName: 'Alice' },
    { userId: '@bot:x', membership: 'join' },
  ]);
  expect(await store.rooms.membersOf(room('!dm:x'))).toEqual([
    { userId: '@alice:x', membership: 'join', displayName: 'Alice' },
    { userId: '@bot:x', membership: 'join', displayName: 'Keeper' },
  ]);
  expect(await store.rooms.roomsOf(user('@alice:x'))).toEqual(['!dm:x', '!lounge:x']);
  expect(await store.rooms.info(room('!lounge:x'))).toMatchObject({ name: 'Lounge', topic: 'Chat', needsRefresh: true });
  expect(await store.syncToken()).toBe('s2');
  expect(store.guard.count()).toBe(11);
  expect(await store.rooms.displayName(room('!dm:x'), user('@bot:x'))).toBe('Alice');
}

describe('schema 1 → 2', () => {
  it('upgrades a schema-1 data dir written by the previous version in place on first open', async () => {
    const dir = await schema1Dir();
    expect(await rawMeta(dir, 'schema-version')).toBe('1');
    const store = await Store.open(dir);
    try {
      await expectMigrated(store);
      // The upgraded store goes on: the guard still knows old events, new ones apply.
      const pipeline = new Pipeline(store, { botUserId: user('@bot:x'), log: memoryLogger('warn').log });
      const again = { event_id: '$s1e10', type: 'm.room.member', sender: '@bob:x', state_key: '@bob:x', content: { membership: 'leave' }, origin_server_ts: 1 };
      const dave = { event_id: '$new1', type: 'm.room.member', sender: '@dave:x', state_key: '@dave:x', content: { membership: 'join', displayname: 'Dave' }, origin_server_ts: 2 };
      const r = await pipeline.process({ next_batch: 's3', rooms: { join: { '!lounge:x': { timeline: { events: [again, dave] } } } } });
      expect(r.applied).toBe(1);
      expect((await store.rooms.membersOf(room('!lounge:x'))).map((m) => m.userId)).toEqual(['@alice:x', '@bot:x', '@dave:x']);
    } finally {
      await store.close();
    }
    expect(await rawMeta(dir, 'schema-version')).toBe(String(SCHEMA_VERSION));
    expect(await rawMeta(dir, 'schema-migration')).toBeUndefined();
  });

  it('finishes on the next open when the first one stopped part way through', async () => {
    const dir = await schema1Dir();
    let chunks = 0;
    const crash = new Error('stopped part way, as a crash would');
    await expect(
      Store.open(dir, {
        migration: {
          chunk: 1,
          afterChunk: () => {
            if (++chunks === 3) throw crash;
          },
        },
      }),
    ).rejects.toMatchObject({ code: 'STORE_OPEN_FAILED', cause: crash });
    // Part done: still schema 1, with a cursor past the RoomInfo pass and some members.
    expect(await rawMeta(dir, 'schema-version')).toBe('1');
    expect(await rawMeta(dir, 'schema-migration')).toMatch(/^members:/);
    const store = await Store.open(dir, { migration: { chunk: 1 } });
    try {
      await expectMigrated(store);
    } finally {
      await store.close();
    }
    expect(await rawMeta(dir, 'schema-version')).toBe('2');
  });

  it('keeps a room of unknown membership unknown: schema 1 (0.1 with issue 10) marked it, and privacy must still fail closed', async () => {
    // 0.1 writes `membershipUncertain` into the RoomInfo of a room whose member event it could not read.
    const dir = await schema1Dir((entries) => {
      const lounge = entries.find(([key]) => key === '!rooms!!lounge:x')!;
      lounge[1] = JSON.stringify({ ...(JSON.parse(lounge[1]) as object), membershipUncertain: true });
    });
    const store = await Store.open(dir);
    try {
      expect(await store.rooms.info(room('!lounge:x'))).toMatchObject({ name: 'Lounge', membershipUncertain: true, needsRefresh: true });
      expect((await store.rooms.info(room('!dm:x')))?.membershipUncertain).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
