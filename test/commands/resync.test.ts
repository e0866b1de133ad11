import { describe, expect, it, vi } from 'vitest';
import { resyncCommand } from '../../src/commands/resync.js';
import type { RoomId } from '../../src/state/ids.js';
import { makeWorld, roomsCtx } from './world.js';

function ctx() {
  const reconcile = vi.fn((_roomId?: RoomId) => Promise.resolve({ purged: 1, snapshotted: 2, unchanged: 30, failed: 0 }));
  return { ...roomsCtx(makeWorld(), undefined, { isAdmin: true }), reconcile };
}

describe('resync', () => {
  it('reconciles every room and reports when no ref is given', async () => {
    const c = ctx();
    const r = await resyncCommand.run(c, []);
    expect(c.reconcile).toHaveBeenCalledWith();
    expect(r.body).toBe('Reconciled all rooms: 1 purged, 2 snapshotted again, 30 unchanged.');
  });

  it('reconciles one shared room when a ref is given', async () => {
    const c = ctx();
    const r = await resyncCommand.run(c, ['Team']);
    expect(c.reconcile).toHaveBeenCalledWith('!team:hs.test');
    expect(r.body).toBe('Reconciled Team chat (!team:hs.test): 1 purged, 2 snapshotted again, 30 unchanged.');
  });

  it('reconciles nothing when the ref is not a shared room', async () => {
    const c = ctx();
    const r = await resyncCommand.run(c, ['!secret:hs.test']);
    expect(c.reconcile).not.toHaveBeenCalled();
    expect(r.body).toMatch(/^I know no room “!secret:hs.test”/);
  });

  it('says how many rooms could not be read when the homeserver failed for some', async () => {
    const c = { ...ctx(), reconcile: vi.fn(() => Promise.resolve({ purged: 0, snapshotted: 1, unchanged: 2, failed: 3 })) };
    const r = await resyncCommand.run(c, []);
    expect(r.body).toBe('Reconciled all rooms: 0 purged, 1 snapshotted again, 2 unchanged, 3 could not be read from the homeserver.');
  });

  it('is marked admin-only', () => {
    expect(resyncCommand.adminOnly).toBe(true);
  });
});
