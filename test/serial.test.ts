import { describe, expect, it } from 'vitest';
import { serial } from '../src/serial.js';

describe('serial', () => {
  it('starts each piece once the one before has settled, in the order given', async () => {
    const queue = serial();
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = queue(async () => {
      events.push('first starts');
      await held;
      events.push('first ends');
      return 1;
    });
    const second = queue(() => {
      events.push('second starts');
      return Promise.resolve(2);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['first starts']);

    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(events).toEqual(['first starts', 'first ends', 'second starts']);
  });

  it('gives a failure to its caller and still runs the pieces after it', async () => {
    const queue = serial();
    const failed = queue(() => Promise.reject(new Error('disk full')));
    const next = queue(() => Promise.resolve('ran'));
    await expect(failed).rejects.toThrow('disk full');
    await expect(next).resolves.toBe('ran');
  });
});
