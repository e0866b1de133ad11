import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WARN } from '../support/memory-log.js';
import { Harness } from './harness.js';

describe('daemon auto-join', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  /** Settles once the bot's membership in `roomId` is no longer `invite`; returns it. */
  async function answered(roomId: string): Promise<string | undefined> {
    await h.hs.waitFor(() => h.hs.membership(roomId, h.hs.botUserId) !== 'invite', 10_000, `invite of ${roomId} answered`);
    await h.caughtUp();
    return h.hs.membership(roomId, h.hs.botUserId);
  }

  /** A public room created by `creator` (any server), into which `creator` invites the bot. */
  function invitedBy(creator: string, name: string): string {
    return h.hs.createRoom(creator, { name, invite: [h.hs.botUserId] });
  }

  it('joins every room it is invited to when the policy is all', async () => {
    const { hs } = h;
    await h.start({ ROOMKEEPER_AUTO_JOIN: 'all' });
    const rooms = [invitedBy(hs.userId('alice'), 'A'), invitedBy('@zed:elsewhere.test', 'B')];
    for (const r of rooms) expect(await answered(r)).toBe('join');
    expect(h.logged('invite accepted, room joined')).toHaveLength(2);
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('rejects every invite and tracks nothing when the policy is none', async () => {
    const { hs } = h;
    await h.start({ ROOMKEEPER_AUTO_JOIN: 'none' });
    const room = invitedBy(hs.userId('alice'), 'A');
    expect(await answered(room)).toBe('leave');
    expect(hs.requests.filter((r) => r.route === 'join')).toEqual([]);
    expect(h.logged('invite declined')).toHaveLength(1);
    await h.stop();
    expect((await h.inspect()).rooms).toEqual([]);
  });

  it('joins only the listed users invites when the allowlist names users', async () => {
    const { hs } = h;
    const [alice, mallory] = [hs.userId('alice'), hs.userId('mallory')];
    await h.start({ ROOMKEEPER_AUTO_JOIN: alice });
    const fromAlice = invitedBy(alice, 'Alice');
    const fromMallory = invitedBy(mallory, 'Mallory');
    expect(await answered(fromAlice)).toBe('join');
    expect(await answered(fromMallory)).toBe('leave');
    await h.stop();
    expect((await h.inspect()).rooms.map((r) => r.roomId)).toEqual([fromAlice]);
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('joins only invites from users of the listed servers when the allowlist names servers', async () => {
    const { hs } = h;
    await h.start({ ROOMKEEPER_AUTO_JOIN: 'friends.test' });
    const fromFriend = invitedBy('@pat:friends.test', 'Friend');
    const fromLocal = invitedBy(hs.userId('alice'), 'Local');
    expect(await answered(fromFriend)).toBe('join');
    expect(await answered(fromLocal)).toBe('leave');
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('retries a join that fails and joins in the end when the server refuses it twice', async () => {
    const { hs } = h;
    await h.start();
    hs.failNext('join', { status: 403, errcode: 'M_FORBIDDEN', error: 'try later' }, 2);
    const room = invitedBy(hs.userId('alice'), 'Eventually');
    expect(await answered(room)).toBe('join');
    expect(h.logged('joining an invited room failed, retrying')).toHaveLength(2);
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('gives up on a join with a warning and keeps running when every attempt fails', async () => {
    const { hs } = h;
    await h.start();
    const doomed = hs.createRoom(hs.userId('alice'), { name: 'Doomed' });
    const escaped = doomed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    hs.failNext({ method: 'POST', path: new RegExp(`${escaped}(/join)?$`) }, { status: 500 }, 1000);
    hs.invite(doomed, hs.userId('alice'), hs.botUserId);
    await hs.waitFor(() => h.logged('joining an invited room failed; giving up').length > 0, 15_000, 'the join given up');
    expect(h.logged('joining an invited room failed; giving up')).toEqual([expect.objectContaining({ level: WARN, roomId: doomed })]);
    expect(h.logged('joining an invited room failed, retrying').length).toBeGreaterThan(0);
    expect(hs.membership(doomed, hs.botUserId)).toBe('invite');

    // Still running: a later invite is joined and tracked.
    const later = invitedBy(hs.userId('alice'), 'Later');
    expect(await answered(later)).toBe('join');
    await h.stop();
    expect((await h.inspect()).rooms.map((r) => r.roomId)).toEqual([later]);
  });

  it('answers the renewed invite when an invite is withdrawn and renewed while its join is failing', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    await h.start();
    const room = hs.createRoom(alice, { name: 'Renewed' });
    // Five refusals: the whole first answer (five attempts) fails.
    hs.failNext({ method: 'POST', path: new RegExp(`${room.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/join)?$`) }, { status: 403 }, 5);
    hs.invite(room, alice, hs.botUserId);
    await hs.waitFor(() => h.logged('joining an invited room failed, retrying').length > 0, 5000, 'a failed join');
    hs.kick(room, alice, hs.botUserId);
    hs.invite(room, alice, hs.botUserId);
    expect(await answered(room)).toBe('join');
    expect(h.logged('joining an invited room failed; giving up')).toHaveLength(1);
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });
});
