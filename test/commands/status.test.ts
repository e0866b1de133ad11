import { describe, expect, it, vi } from 'vitest';
import { statusCommand, type StatusSource } from '../../src/commands/status.js';
import { NOW, alice } from './world.js';

function source(lastSyncAt: number | undefined) {
  const adminStats = vi.fn(() => Promise.resolve({ dataDirBytes: 5 * 1024 * 1024, guardEntries: 98765 }));
  const s: StatusSource = {
    version: '0.1.0',
    startedAt: NOW - 90_061_000,
    stats: () =>
      Promise.resolve({ roomsTracked: 12, usersTracked: 3400, eventsApplied: 123456, duplicatesSkipped: 7, invalidEvents: 1, lastSyncAt }),
    adminStats,
  };
  return Object.assign(s, { adminStatsSpy: adminStats });
}

const ctx = (status: StatusSource, isAdmin: boolean) => ({ status, sender: alice, now: NOW, isAdmin, prefix: '!' });

describe('status', () => {
  it('shows version, uptime, counters and last sync', async () => {
    const r = await statusCommand.run(ctx(source(NOW - 5_000), false), []);
    expect(r.body).toBe(
      [
        'roomkeeper status',
        '• Version: 0.1.0',
        '• Uptime: 1d 1h',
        '• Rooms tracked: 12',
        '• Users tracked: 3,400',
        '• Events applied: 123,456',
        '• Duplicates skipped: 7',
        '• Invalid events: 1',
        '• Last sync: 2024-05-01 11:59 UTC (5s ago)',
      ].join('\n'),
    );
  });

  it('does not ask for or show storage figures when the sender is not an admin', async () => {
    const s = source(NOW - 5_000);
    const r = await statusCommand.run(ctx(s, false), []);
    expect(s.adminStatsSpy).not.toHaveBeenCalled();
    expect(r.body).not.toMatch(/Data directory|Guard entries/);
  });

  it('shows data dir size and guard entries when the sender is an admin', async () => {
    const r = await statusCommand.run(ctx(source(NOW - 5_000), true), []);
    expect(r.body).toContain('• Data directory: 5.0 MiB');
    expect(r.body).toContain('• Guard entries: 98,765');
  });

  it('says not yet when there has been no sync', async () => {
    expect((await statusCommand.run(ctx(source(undefined), false), [])).body).toContain('Last sync: not yet');
  });
});
