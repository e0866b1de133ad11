import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { CRYPTO_UNAVAILABLE_WARNING, ENCRYPTION_HINT } from '../../src/matrix/crypto.js';
import type { JsonObject } from '../support/fake-homeserver.js';
import { WARN } from '../support/memory-log.js';
import { Harness } from './harness.js';

describe('daemon sync', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  const GAPPY_RECHECK = 'reconcile:\n  afterGappySync: true\n  minInterval: 1h\n';

  function stateReads(roomId: string, from = 0): number {
    return h.hs.requests.slice(from).filter((r) => r.route === 'state' && r.path.endsWith(`/rooms/${roomId}/state`)).length;
  }

  it('applies the member changes of the state block when the timeline is limited', async () => {
    const { hs } = h;
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((u) => hs.userId(u)) as [string, string, string, string];
    const room = hs.createRoom(alice, { name: 'Busy', joinRule: 'public', invite: [hs.botUserId] });
    hs.join(room, bob);
    await h.start();
    await h.joined(room);
    await h.stop();
    hs.leave(room, bob);
    hs.join(room, carol);
    hs.join(room, dave);
    hs.setName(room, alice, 'Busier');
    for (let i = 0; i < 80; i++) hs.sendMessage(room, alice, `filler ${i}`);
    const syncsBefore = hs.syncs.length;
    await h.start();
    await h.stop();
    const gappy = hs.syncs.slice(syncsBefore).find((s) => {
      const rooms = s.response?.['rooms'] as { join?: Record<string, { timeline: { limited: boolean } }> } | undefined;
      return rooms?.join?.[room]?.timeline.limited === true;
    });
    expect(gappy, 'the fake sent a limited timeline').toBeDefined();
    const doc = await h.inspect();
    expect(doc).toEqual(h.expected());
    expect(doc.rooms[0]).toMatchObject({ name: 'Busier', members: [alice, carol, dave, hs.botUserId].sort() });
    // Off by default: no re-check of the room.
    expect(stateReads(room, 0)).toBe(0);
  });

  it('does not re-check a room it has just joined, though Synapse marks the join\'s timeline limited', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    await h.start({}, { yaml: GAPPY_RECHECK });
    const room = hs.createRoom(alice, { joinRule: 'public', invite: [hs.botUserId] });
    await h.joined(room);
    await h.caughtUp();
    await h.stop();
    const joinSync = hs.syncs.find((s) => {
      const rooms = s.response?.['rooms'] as { join?: Record<string, { timeline: { limited: boolean } }> } | undefined;
      return rooms?.join?.[room]?.timeline.limited === true;
    });
    expect(joinSync, 'the join came with a limited timeline').toBeDefined();
    expect(stateReads(room)).toBe(0);
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('re-checks a gappy room from the server once per interval when afterGappySync is on', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { joinRule: 'public', invite: [hs.botUserId] });
    const quiet = hs.createRoom(alice, { joinRule: 'public', invite: [hs.botUserId] });
    await h.start({}, { yaml: GAPPY_RECHECK });
    await h.joined(room);
    await h.joined(quiet);
    const before = hs.requests.length;
    // Appended in one go, so that one response carries them all and its timeline is limited.
    for (let i = 0; i < 60; i++) hs.sendMessage(room, alice, `burst one ${i}`);
    await h.caughtUp();
    await hs.waitFor(() => stateReads(room, before) === 1, 5000, 'a re-check of the gappy room');
    hs.join(room, hs.userId('bob'));
    for (let i = 0; i < 60; i++) hs.sendMessage(room, alice, `burst two ${i}`);
    await h.caughtUp();
    hs.sendMessage(quiet, alice, 'not gappy');
    await h.caughtUp();
    await h.stop();
    const limited = hs.syncs.filter((s) => {
      const rooms = s.response?.['rooms'] as { join?: Record<string, { timeline: { limited: boolean } }> } | undefined;
      return rooms?.join?.[room]?.timeline.limited === true;
    });
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(stateReads(room, before)).toBe(1);
    expect(stateReads(quiet, before)).toBe(0);
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('sends a filter that does not lazy-load members when it syncs', async () => {
    const { hs } = h;
    await h.start();
    await h.stop();
    const syncs = hs.syncs.filter((s) => s.userId === hs.botUserId);
    expect(syncs.length).toBeGreaterThan(0);
    for (const s of syncs) {
      const room = s.filter?.['room'] as Record<string, JsonObject | undefined> | undefined;
      expect(room?.['state']?.['lazy_load_members']).not.toBe(true);
      expect(room?.['timeline']?.['lazy_load_members']).not.toBe(true);
      expect(s.fullState).toBe(false);
    }
  });

  it('warns once that encrypted DMs cannot be read, with a hint to the README, when the config enables encryption', async () => {
    await h.start({ ROOMKEEPER_ENCRYPTION: 'true' });
    await h.stop();
    const warnings = h.allLogs().filter((l) => l.level >= WARN && /encrypt/i.test(l.msg));
    expect(warnings).toEqual([expect.objectContaining({ msg: CRYPTO_UNAVAILABLE_WARNING, hint: ENCRYPTION_HINT })]);
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(ENCRYPTION_HINT).toContain('"Encryption"');
    expect(readme).toMatch(/^## Encryption$/m);
  });

  it('tracks an encrypted room without any encryption warning when encryption is left off', async () => {
    const { hs } = h;
    const [alice, bob] = [hs.userId('alice'), hs.userId('bob')];
    const room = hs.createRoom(alice, { name: 'Secret', encrypted: true, joinRule: 'public', invite: [hs.botUserId] });
    await h.start();
    await h.joined(room);
    hs.join(room, bob);
    hs.sendEvent(room, bob, 'm.room.encrypted', { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'AAAA', session_id: 's', sender_key: 'k', device_id: 'D' });
    await h.caughtUp();
    await h.stop();
    expect(h.allLogs().filter((l) => l.level >= WARN && /encrypt/i.test(l.msg))).toEqual([]);
    const doc = await h.inspect();
    expect(doc).toEqual(h.expected());
    expect(doc.rooms[0]).toMatchObject({ encrypted: true, members: [alice, bob, hs.botUserId].sort() });
  });

  it('skips malformed events with a warning and processes the rest when the server sends them', async () => {
    const { hs } = h;
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((u) => hs.userId(u)) as [string, string, string];
    const room = hs.createRoom(alice, { joinRule: 'public', invite: [hs.botUserId] });
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    await h.joined(room);
    hs.join(room, bob);
    const bad: unknown[] = [
      { type: 'm.room.member', sender: alice, state_key: carol, content: { membership: 'join' }, origin_server_ts: 1 },
      { type: 'm.room.member', event_id: '$nokey', sender: alice, content: { membership: 'join' }, origin_server_ts: 1 },
      { type: 'm.room.member', event_id: '$badmembership', sender: alice, state_key: carol, content: { membership: 42 }, origin_server_ts: 1 },
      { type: 'm.room.member', event_id: '$notauser', sender: alice, state_key: 'carol', content: { membership: 'join' }, origin_server_ts: 1 },
      { type: 'm.room.name', event_id: '$nocontent', sender: alice, state_key: '', origin_server_ts: 1 },
      42,
      null,
    ];
    for (const ev of bad) hs.sendRawEvent(room, ev);
    hs.join(room, carol);
    hs.sendMessage(room, alice, 'after the junk');
    await h.caughtUp();
    const invalid = await h.metric('roomkeeper_events_invalid_total');
    await h.stop();
    expect(invalid).toBe(bad.length);
    const skipped = h.logged('invalid event skipped');
    expect(skipped).toHaveLength(bad.length);
    expect(skipped.every((l) => l.level === WARN && l['roomId'] === room)).toBe(true);
    const doc = await h.inspect();
    expect(doc.rooms[0]?.members).toEqual([alice, bob, carol, hs.botUserId].sort());
  });
});
