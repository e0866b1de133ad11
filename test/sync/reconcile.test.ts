import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { reconcile, type RoomSource } from '../../src/sync/reconcile.js';
import { memoryLogger } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

const BOT = '@bot:x' as UserId;
const state = (id: string, type: string, stateKey: string, content: Record<string, unknown>, sender = '@alice:x') => ({
  event_id: id,
  type,
  sender,
  state_key: stateKey,
  content,
  origin_server_ts: 1,
});

describe('reconcile after an upgrade from schema 1', () => {
  it('re-reads the rooms an upgrade marked, and then holds what schema 1 never kept', async () => {
    // The schema-1 fixture (see test/store/migrate.test.ts): !lounge:x and !dm:x.
    const entries = JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/schema-1/leveldb-entries.json'), 'utf8')) as [string, string][];
    const dir = await dirs.make();
    const db = new ClassicLevel<string, string>(join(dir, 'leveldb'));
    await db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
    await db.close();

    const store = await Store.open(dir);
    try {
      const { log } = memoryLogger('warn');
      const pipeline = new Pipeline(store, { botUserId: BOT, log });
      const asked: RoomId[] = [];
      const source: RoomSource = {
        joinedRooms: () => Promise.resolve(['!lounge:x', '!dm:x'] as RoomId[]),
        roomState: (roomId) => {
          asked.push(roomId);
          return Promise.resolve([
            state('$c', 'm.room.create', '', { room_version: '11' }),
            state('$pl', 'm.room.power_levels', '', { users: { '@alice:x': 100 } }),
            state('$a', 'm.room.member', '@alice:x', { membership: 'join', displayname: 'Alice', avatar_url: 'mxc://x/a' }),
            state('$b', 'm.room.member', BOT, { membership: 'join' }, BOT),
            state('$i', 'm.room.member', '@carol:x', { membership: 'invite' }),
          ]);
        },
      };
      const report = await reconcile({ store, pipeline, source, botUserId: BOT, log });
      expect(report).toMatchObject({ snapshotted: 2, unchanged: 0 });
      expect(asked.sort()).toEqual(['!dm:x', '!lounge:x']);
      const info = await store.rooms.info('!lounge:x' as RoomId);
      expect(info?.needsRefresh).toBeUndefined();
      expect(info).toMatchObject({ version: '11', powerLevels: { users: { '@alice:x': 100 } } });
      expect(await store.rooms.member('!lounge:x' as RoomId, '@alice:x' as UserId)).toMatchObject({ eventId: '$a', avatarUrl: 'mxc://x/a' });
      expect(await store.rooms.memberCounts('!lounge:x' as RoomId)).toMatchObject({ join: 2, invite: 1 });
      // Once refreshed, the rooms are complete: the next reconciliation leaves them alone.
      expect(await reconcile({ store, pipeline, source, botUserId: BOT, log })).toMatchObject({ snapshotted: 0, unchanged: 2 });
    } finally {
      await store.close();
    }
  });
});
