import { describe, expect, it } from 'vitest';
import { PruneScheduler } from '../../src/daemon/prune-scheduler.js';
import { memoryLogger } from '../support/memory-log.js';

/** A guard whose prunes finish when the test says, recording the cutoffs asked for. */
function heldGuard() {
  const calls: { cutoffMs: number; finish: (n: number) => void }[] = [];
  return {
    calls,
    prune: (cutoffMs: number) => new Promise<number>((resolve) => calls.push({ cutoffMs, finish: resolve })),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PruneScheduler', () => {
  it('runs one prune at a time when an admin prunes during a scheduled prune', async () => {
    const guard = heldGuard();
    const { log, lines } = memoryLogger('info');
    const pruning = new PruneScheduler({ guard, retentionMs: 1_000, intervalMs: 60_000, log, now: () => 10_000 });

    const scheduled = pruning.prune(1_000);
    const byHand = pruning.prune(5_000);
    await settle();
    expect(guard.calls.map((c) => c.cutoffMs)).toEqual([9_000]);

    guard.calls[0]!.finish(3);
    await settle();
    expect(guard.calls.map((c) => c.cutoffMs)).toEqual([9_000, 5_000]);
    guard.calls[1]!.finish(0);

    expect(await Promise.all([scheduled, byHand])).toEqual([3, 0]);
    expect(lines().filter((l) => l.msg === 'pruned the guard').map((l) => l['removed'])).toEqual([3, 0]);
  });

  it('prunes the change log with its own retention after the guard, one prune at a time', async () => {
    const order: string[] = [];
    const guard = { prune: (cutoffMs: number) => Promise.resolve(void order.push(`guard ${cutoffMs}`)).then(() => 0) };
    const log = { prune: (cutoffMs: number) => Promise.resolve(void order.push(`changes ${cutoffMs}`)).then(() => 2) };
    const pruning = new PruneScheduler({ guard, retentionMs: 1_000, intervalMs: 10, changes: { log, retentionMs: 5_000 }, log: memoryLogger().log, now: () => 50_000 });
    expect(await pruning.pruneChanges()).toBe(2);
    pruning.start();
    await new Promise((resolve) => setTimeout(resolve, 25));
    pruning.stop();
    expect(order.slice(0, 3)).toEqual(['changes 45000', 'guard 49000', 'changes 45000']);
  });

  it('prunes with the configured retention on every interval until stopped', async () => {
    const cutoffs: number[] = [];
    const guard = { prune: (cutoffMs: number) => Promise.resolve(void cutoffs.push(cutoffMs)).then(() => 0) };
    const pruning = new PruneScheduler({ guard, retentionMs: 1_000, intervalMs: 10, log: memoryLogger().log, now: () => 50_000 });
    pruning.start();
    await new Promise((resolve) => setTimeout(resolve, 45));
    pruning.stop();
    const count = cutoffs.length;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(cutoffs.every((c) => c === 49_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(cutoffs).toHaveLength(count);
  });
});
