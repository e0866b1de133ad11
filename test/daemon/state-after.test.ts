import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-homeserver.js';
import { Harness } from './harness.js';

/**
 * MSC4222 against the fake homeserver, as the spec has it (Synapse 1.67 predates it): when the
 * server offers `state_after`, the daemon asks for it, and the record follows that state.
 */
describe.each([
  { mode: 'unstable' as const, param: 'org.matrix.msc4222.use_state_after', field: 'org.matrix.msc4222.state_after' },
  { mode: 'stable' as const, param: 'use_state_after', field: 'state_after' },
])('daemon sync with MSC4222 state_after ($mode)', ({ mode, param, field }) => {
  let h: Harness;
  afterEach(async () => h.teardown());

  it('asks for state_after and keeps the exact record through a gap, renames, leaves and a kick', async () => {
    h = new Harness();
    await h.setup({ stateAfter: mode });
    const { hs } = h;
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((u) => hs.userId(u)) as [string, string, string, string];
    const room = hs.createRoom(alice, { name: 'Busy', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, bob);
    await h.start();
    await h.joined(room);
    hs.setName(room, alice, 'Renamed live');
    hs.join(room, carol);
    await h.caughtUp();
    await h.stop();
    // While it is down: more than a timeline's worth, so the next sync is gappy.
    hs.leave(room, bob);
    hs.join(room, dave);
    hs.kick(room, alice, carol);
    hs.setName(room, alice, 'Busier');
    for (let i = 0; i < 80; i++) hs.sendMessage(room, alice, `filler ${i}`);
    await h.start();
    await h.stop();

    const syncs = hs.requests.filter((r) => r.route === 'sync');
    expect(syncs.length).toBeGreaterThan(2);
    expect(syncs.every((r) => r.query[param] === 'true')).toBe(true);
    const withStateAfter = hs.syncs.filter((s) => {
      const joined = (s.response?.['rooms'] as { join?: Record<string, JsonObject> } | undefined)?.join?.[room];
      return joined !== undefined && field in joined && !('state' in joined);
    });
    expect(withStateAfter.length, 'the fake answered with state_after').toBeGreaterThan(0);
    const doc = await h.inspect();
    expect(doc).toEqual(h.expected());
    expect(doc.rooms[0]).toMatchObject({ name: 'Busier', members: [alice, dave, hs.botUserId].sort() });
  });
});

describe('daemon sync without MSC4222', () => {
  it('does not ask a server that does not offer it', async () => {
    const h = new Harness();
    await h.setup();
    try {
      await h.start();
      const syncs = h.hs.requests.filter((r) => r.route === 'sync');
      expect(syncs.length).toBeGreaterThan(0);
      expect(syncs.some((r) => 'use_state_after' in r.query || 'org.matrix.msc4222.use_state_after' in r.query)).toBe(false);
    } finally {
      await h.teardown();
    }
  });
});
