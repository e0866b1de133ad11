import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/commands/rate-limit.js';
import { uid } from './fake-rooms.js';
import { alice, bob } from './world.js';

describe('rate-limit', () => {
  it('allows five commands within ten seconds by default', () => {
    const l = new RateLimiter();
    expect([0, 1, 2, 3, 4].map((i) => l.check(alice, i * 1000))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('says limited-first for the sixth command and limited-silent after it', () => {
    const l = new RateLimiter();
    for (let i = 0; i < 5; i++) l.check(alice, i);
    expect([l.check(alice, 5000), l.check(alice, 6000), l.check(alice, 9999)]).toEqual(['limited-first', 'limited-silent', 'limited-silent']);
  });

  it('answers again when the window has passed', () => {
    const l = new RateLimiter();
    for (let i = 0; i < 7; i++) l.check(alice, i);
    expect(l.check(alice, 10_000)).toBe('ok');
  });

  it('counts each user apart', () => {
    const l = new RateLimiter({ limit: 1 });
    l.check(alice, 0);
    expect([l.check(bob, 1), l.check(alice, 2)]).toEqual(['ok', 'limited-first']);
  });

  it('uses the configured limit and window', () => {
    const l = new RateLimiter({ limit: 2, windowMs: 1000 });
    expect([l.check(alice, 0), l.check(alice, 1), l.check(alice, 2), l.check(alice, 1000)]).toEqual(['ok', 'ok', 'limited-first', 'ok']);
  });

  it('forgets users whose window has passed', () => {
    const l = new RateLimiter();
    for (let i = 0; i < 100; i++) l.check(uid(`@u${i}:hs`), i);
    l.check(alice, 20_000);
    expect(l.size).toBe(1);
  });

  it('never tracks more users than the cap when many arrive within one window', () => {
    const l = new RateLimiter({ maxUsers: 50 });
    for (let i = 0; i < 1000; i++) l.check(uid(`@u${i}:hs`), i);
    expect(l.size).toBe(50);
  });

  it('drops the oldest window first when the cap is reached', () => {
    const l = new RateLimiter({ limit: 1, maxUsers: 2 });
    l.check(alice, 0);
    l.check(bob, 1);
    l.check(uid('@carol:hs'), 2);
    // bob is still remembered and limited; alice was forgotten and starts over.
    expect([l.check(bob, 3), l.check(alice, 4)]).toEqual(['limited-first', 'ok']);
  });

  it('throws a TypeError when the limit is not positive', () => {
    expect(() => new RateLimiter({ limit: 0 })).toThrow(TypeError);
  });
});
