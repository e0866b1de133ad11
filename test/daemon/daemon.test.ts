import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('daemon', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  it('tracks a room it is invited to, from the invite through kicks and a rejoin', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const bob = hs.userId('bob');
    const room = hs.createRoom(alice, { name: 'Team', joinRule: 'public' });
    hs.invite(room, alice, hs.botUserId);
    hs.join(room, bob);
    await h.start();
    await hs.waitFor(() => hs.membership(room, hs.botUserId) === 'join', 10_000, 'bot joined');
    await h.caughtUp();
    hs.kick(room, alice, bob);
    await h.caughtUp();
    hs.kick(room, alice, hs.botUserId);
    hs.join(room, bob);
    hs.invite(room, alice, hs.botUserId);
    await hs.waitFor(() => hs.membership(room, hs.botUserId) === 'join', 10_000, 'bot rejoined');
    await h.caughtUp();
    await h.stop();
    const doc = await h.inspect();
    expect(doc.rooms).toEqual([
      {
        roomId: room,
        displayName: 'Team',
        name: 'Team',
        canonicalAlias: null,
        topic: null,
        encrypted: false,
        members: [alice, bob, hs.botUserId].sort(),
        invited: [],
        banned: [],
        knocking: [],
        version: '10',
        predecessor: null,
        successor: null,
      },
    ]);
  });
});
