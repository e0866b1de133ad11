import { afterEach } from 'vitest';
import { Store } from '../../src/store/store.js';
import { TempDirs } from '../support/temp-dir.js';
import { syncStoreSuite } from './suite.js';

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

syncStoreSuite('the LevelDB store', async () => {
  const store = await Store.open(await dirs.make());
  return {
    store,
    membersOf: async (roomId) => (await store.rooms.membersOf(roomId)).map((m) => m.userId),
    roomsOf: (userId) => store.rooms.roomsOf(userId),
    meta: (key) => store.meta.get(key),
    close: () => store.close(),
  };
});
