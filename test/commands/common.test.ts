import { describe, expect, it } from 'vitest';
import { commonCommand } from '../../src/commands/common.js';
import { alice, makeWorld, roomsCtx } from './world.js';

describe('common', () => {
  it('lists the rooms the sender, the other user and the bot share, numbered as in !rooms', async () => {
    const r = await commonCommand.run(roomsCtx(makeWorld(), alice), ['@bob:hs.test']);
    expect(r.body).toBe(['You, @bob:hs.test and I share 1 room (numbers as in !rooms):', '• 3 Team chat — 4 members'].join('\n'));
  });

  it('never mentions rooms only the other user is in', async () => {
    const r = await commonCommand.run(roomsCtx(makeWorld(), alice), ['@carol:hs.test']);
    expect(r.body).not.toMatch(/secret|Bob/);
    expect(r.body).toContain('1 room');
  });

  it('says they share nothing in the same words whether the user exists or not', async () => {
    const world = makeWorld().add({ id: '!dave:hs.test', name: 'Dave only', members: ['@rk:hs.test', '@dave:hs.test'] });
    const real = await commonCommand.run(roomsCtx(world, alice), ['@dave:hs.test']);
    const unknown = await commonCommand.run(roomsCtx(world, alice), ['@nobody:hs.test']);
    expect(real.body).toBe('You, @dave:hs.test and I share no rooms.');
    expect(unknown.body.replace('@nobody:hs.test', '@dave:hs.test')).toBe(real.body);
  });

  it('asks for a user id when the argument is not one', async () => {
    const r = await commonCommand.run(roomsCtx(makeWorld()), ['Bob']);
    expect(r.body).toMatch(/^Give one full user id/);
  });

  it('asks for a user id when none is given', async () => {
    expect((await commonCommand.run(roomsCtx(makeWorld()), [])).body).toMatch(/^Give one full user id/);
  });
});
