import { describe, expect, it } from 'vitest';
import { assessHealth } from '../../src/http/health.js';

const base = { storeOpen: true, lastSyncAt: 1_000_000, now: 1_030_000, maxSyncAgeMs: 120_000 };

describe('http/health', () => {
  it('is ok with the age of the last sync when it is recent', () => {
    expect(assessHealth(base)).toEqual({ ok: true, lastSyncAgeMs: 30_000 });
  });

  it('is unavailable when the last sync is older than the limit', () => {
    expect(assessHealth({ ...base, now: 1_000_000 + 120_001 })).toEqual({ ok: false, reason: 'last sync too old', lastSyncAgeMs: 120_001 });
  });

  it('is unavailable before the first sync', () => {
    expect(assessHealth({ ...base, lastSyncAt: undefined })).toEqual({ ok: false, reason: 'no sync completed yet' });
  });

  it('is unavailable with what start-up waits for while it is not over', () => {
    expect(assessHealth({ ...base, starting: 'starting: waiting for the homeserver' })).toEqual({ ok: false, reason: 'starting: waiting for the homeserver' });
  });

  it('is unavailable when the store is not open, whatever the sync', () => {
    expect(assessHealth({ ...base, storeOpen: false })).toEqual({ ok: false, reason: 'store not open' });
  });

  it('reads a sync stamped after now (clock step) as age 0', () => {
    expect(assessHealth({ ...base, now: base.lastSyncAt - 5 })).toEqual({ ok: true, lastSyncAgeMs: 0 });
  });
});
