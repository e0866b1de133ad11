import { MemoryStore } from '../../bench/stores/memory-store.js';
import { syncStoreSuite } from './suite.js';

syncStoreSuite("the benchmark's in-memory store", () => {
  const store = new MemoryStore();
  return Promise.resolve({
    store,
    membersOf: (roomId) => Promise.resolve([...(store.roomUsers.get(roomId)?.keys() ?? [])].sort()),
    roomsOf: (userId) => Promise.resolve(store.roomsOf(userId)),
    meta: (key) => Promise.resolve(store.meta.get(key)),
    close: () => Promise.resolve(),
  });
});
