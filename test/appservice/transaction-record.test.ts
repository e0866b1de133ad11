import { afterEach, describe, expect, it } from 'vitest';
import type { UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';

const dirs = new TempDirs();
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await dirs.cleanup();
});

async function openStore(dir?: string): Promise<Store> {
  const store = await Store.open(dir ?? (await dirs.make()), { create: true });
  stores.push(store);
  return store;
}

const bot = '@bot:x' as UserId;
const ref = (txnId: string) => ({ registrationId: 'roomkeeper', txnId });

describe('appservice transaction record', () => {
  it('records a transaction in the same batch as its events, scoped to the registration', async () => {
    const dir = await dirs.make();
    let store = await openStore(dir);
    const pipeline = new Pipeline(store, { botUserId: bot, log: memoryLogger().log, now: () => 1000 });
    const body = { rooms: { join: { '!r:x': { timeline: { events: [{ type: 'm.room.message', event_id: '$m', sender: '@a:x', origin_server_ts: 1, content: { body: 'hi' } }] } } } } };
    const result = await pipeline.process(body, { transaction: ref('7') });
    expect(result.tokenCommitted).toBe(false);
    expect(await store.guard.hasTransaction(ref('7'))).toBe(true);
    expect(await store.guard.hasTransaction(ref('8'))).toBe(false);
    expect(await store.guard.hasTransaction({ registrationId: 'other', txnId: '7' })).toBe(false);
    // One event mark and the transaction.
    expect(store.guard.count()).toBe(2);
    await stores.pop()!.close();
    store = await openStore(dir);
    expect(await store.guard.hasTransaction(ref('7'))).toBe(true);
    expect(store.guard.count()).toBe(2);
  });

  it('records a transaction without events', async () => {
    const store = await openStore();
    await store.commit({ marks: [], ops: [], now: 5, transaction: ref('empty') });
    expect(await store.guard.hasTransaction(ref('empty'))).toBe(true);
    expect(store.guard.count()).toBe(1);
  });

  it('forgets a transaction with the guard entries of its time when pruned', async () => {
    const store = await openStore();
    await store.commit({ marks: [], ops: [], now: 1000, transaction: ref('1') });
    await store.commit({ marks: [], ops: [], now: 3000, transaction: ref('2') });
    expect(await store.guard.prune(2000)).toBe(1);
    expect(await store.guard.hasTransaction(ref('1'))).toBe(false);
    expect(await store.guard.hasTransaction(ref('2'))).toBe(true);
    expect(store.guard.count()).toBe(1);
  });
});
