import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { MetaStorageProvider } from '../../src/matrix/storage.js';
import { MemoryKeyValue } from './memory-kv.js';

const silent = createLogger({ level: 'silent' });

describe('MetaStorageProvider', () => {
  it('does not write the sync token when the SDK sets one', async () => {
    const kv = new MemoryKeyValue();
    const storage = new MetaStorageProvider(kv, silent);
    await storage.setSyncToken('s42');
    await storage.setSyncToken(null);
    expect(kv.map.size).toBe(0);
    expect(await storage.getSyncToken()).toBeNull();
  });

  it('returns the token under sync-token when the pipeline committed one', async () => {
    const kv = new MemoryKeyValue();
    kv.map.set('sync-token', 's7');
    expect(await new MetaStorageProvider(kv, silent).getSyncToken()).toBe('s7');
  });

  it('round-trips the filter when one was stored', async () => {
    const storage = new MetaStorageProvider(new MemoryKeyValue(), silent);
    expect(await storage.getFilter()).toBeNull();
    await storage.setFilter({ id: 3, filter: { room: { timeline: { limit: 5 } } } });
    expect(await storage.getFilter()).toEqual({ id: 3, filter: { room: { timeline: { limit: 5 } } } });
  });

  it('returns no filter when the stored one is not JSON', async () => {
    const kv = new MemoryKeyValue();
    kv.map.set('filter', '{nope');
    expect(await new MetaStorageProvider(kv, silent).getFilter()).toBeNull();
  });

  it('keeps SDK values apart from roomkeeper keys when the SDK stores a value', async () => {
    const kv = new MemoryKeyValue();
    const storage = new MetaStorageProvider(kv, silent);
    await storage.storeValue('sync-token', 'x');
    expect(await storage.readValue('sync-token')).toBe('x');
    expect(kv.map.get('sync-token')).toBeUndefined();
    expect(await storage.readValue('missing')).toBeUndefined();
  });
});
