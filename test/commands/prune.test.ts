import { describe, expect, it, vi } from 'vitest';
import { parseAge, pruneCommand } from '../../src/commands/prune.js';
import { NOW, alice } from './world.js';

function ctx() {
  const prune = vi.fn((_ms: number) => Promise.resolve(1234));
  return { prune, defaultPruneAgeMs: 30 * 86_400_000, sender: alice, now: NOW, isAdmin: true, prefix: '!' };
}

describe('prune', () => {
  it('prunes with the given age and reports the count', async () => {
    const c = ctx();
    const r = await pruneCommand.run(c, ['12h']);
    expect(c.prune).toHaveBeenCalledWith(12 * 3_600_000);
    expect(r.body).toBe('Pruned 1,234 guard entries older than 12h.');
  });

  it('prunes the change log to its own retention along with the guard', async () => {
    const pruneChanges = vi.fn(() => Promise.resolve(1));
    const r = await pruneCommand.run({ ...ctx(), pruneChanges, changeRetentionMs: 90 * 86_400_000 }, ['12h']);
    expect(pruneChanges).toHaveBeenCalledOnce();
    expect(r.body).toBe('Pruned 1,234 guard entries older than 12h.\nPruned 1 change of the change log older than 90d.');
  });

  it('uses the configured default when no age is given', async () => {
    const c = ctx();
    await pruneCommand.run(c, []);
    expect(c.prune).toHaveBeenCalledWith(30 * 86_400_000);
  });

  it('prunes nothing and explains the format when the age is not one', async () => {
    const c = ctx();
    const r = await pruneCommand.run(c, ['soon']);
    expect(c.prune).not.toHaveBeenCalled();
    expect(r.body).toMatch(/^Give one age such as 30d/);
  });

  it('is marked admin-only', () => {
    expect(pruneCommand.adminOnly).toBe(true);
  });
});

describe('prune parseAge', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect([parseAge('30d'), parseAge('12h'), parseAge('90m'), parseAge('45s')]).toEqual([2_592_000_000, 43_200_000, 5_400_000, 45_000]);
  });

  it('adds up several units', () => {
    expect(parseAge('1d12h')).toBe(129_600_000);
  });

  it('rejects zero, units it does not know, and absurd ages', () => {
    expect([parseAge('0d'), parseAge('3y'), parseAge('-1d'), parseAge('999999d'), parseAge('')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
