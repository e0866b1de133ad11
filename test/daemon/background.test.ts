import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventId, RoomId } from '../../src/state/ids.js';
import { Conversation } from './conversation.js';
import { Harness } from './harness.js';

const OLD_ENTRIES = 120_000;

describe('!prune in the background', () => {
  let h: Harness;
  let talk: Conversation;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
    talk = new Conversation(h);
  });
  afterEach(async () => h.teardown());

  it('keeps syncing and answering others while a big prune runs, then replies when it is done', async () => {
    // A guard with many entries from two days ago, as a long-running bot has.
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    await h.withStore(async (store) => {
      for (let start = 0; start < OLD_ENTRIES; start += 20_000) {
        const eventIds = Array.from({ length: 20_000 }, (_, i) => `$e${start + i}` as EventId);
        await store.commit({ marks: [{ roomId: '!old:hs.test' as RoomId, eventIds }], ops: [], now: twoDaysAgo });
      }
    });
    const { admin, bob } = talk.users('admin', 'bob');
    await h.start({ ROOMKEEPER_ADMINS: admin });
    const adminDm = await talk.dm(admin);
    const bobDm = await talk.dm(bob);

    h.hs.sendMessage(adminDm, admin, '!prune 1d');
    await h.hs.waitFor(() => h.logs!().some((l) => l.msg === 'command' && l['command'] === 'prune'), 10_000, 'the prune started');
    h.hs.sendMessage(bobDm, bob, '!help');
    await h.hs.waitFor(() => h.hs.sent(adminDm).length > 0, 20_000, 'the prune reply');

    const order = h.hs.sent().map((e) => e['room_id']);
    expect(order.indexOf(bobDm)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(bobDm)).toBeLessThan(order.indexOf(adminDm));
    const [reply] = talk.replies(adminDm);
    expect(reply?.body).toBe(`Pruned ${OLD_ENTRIES.toLocaleString('en-US')} guard entries older than 1d.\nPruned 0 changes of the change log older than 90d.`);
  });
});
