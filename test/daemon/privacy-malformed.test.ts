import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-homeserver.js';
import { Conversation } from './conversation.js';
import { Harness } from './harness.js';

/**
 * A stranger joins a DM in a /sync response that is malformed elsewhere: the bot must not take
 * the room for private and list the asker's rooms where the stranger can read them.
 */

type Rooms = { join?: Record<string, { timeline?: { events?: JsonObject[] }; state?: { events?: JsonObject[] } }> };

describe('privacy when a /sync response is malformed (through the fake homeserver)', () => {
  const h = new Harness();
  const talk = new Conversation(h);

  beforeAll(async () => {
    await h.setup();
    await h.start({}, { yaml: 'commands:\n  rateLimit:\n    count: 1000\n' });
  });
  afterAll(async () => h.teardown());

  /** alice's DM with the bot, a private room of hers, and a stranger joining the DM in the next (mangled) response. */
  async function strangerJoins(mangle: (body: JsonObject, dm: string, stranger: string) => void): Promise<{ alice: string; dm: string }> {
    const { alice, stranger } = talk.users('alice', 'stranger');
    const dm = await talk.dm(alice);
    await talk.room(alice, { name: 'Secret garden' });
    h.hs.mangleNextSync((body) => mangle(body, dm, stranger));
    h.hs.invite(dm, alice, stranger);
    h.hs.join(dm, stranger);
    await h.caughtUp();
    return { alice, dm };
  }

  function expectNoRoomList(replies: { body: string }[]): void {
    for (const r of replies) {
      expect(r.body).not.toContain('Secret garden');
      expect(r.body).not.toMatch(/rooms? (in common|shared)|share \d/);
    }
  }

  it.each([
    ['rooms.invite is an array', (body: JsonObject) => void ((body['rooms'] as JsonObject)['invite'] = [])],
    ['rooms.leave is null', (body: JsonObject) => void ((body['rooms'] as JsonObject)['leave'] = null)],
    ['rooms.invite is a string', (body: JsonObject) => void ((body['rooms'] as JsonObject)['invite'] = 'junk')],
  ])('does not list rooms in a DM a stranger joined in a response where %s', async (_, spoil) => {
    const { alice, dm } = await strangerJoins((body) => spoil(body));
    // The stranger's join was applied: the record shows three members.
    const replies = await talk.say(alice, '!rooms');
    expectNoRoomList(replies);
    expect(h.hs.membership(dm, alice)).toBe('join');
  });

  it('does not list rooms in a DM whose stranger’s join event does not decode', async () => {
    const { alice } = await strangerJoins((body, dm, stranger) => {
      const room = (body['rooms'] as Rooms).join?.[dm];
      for (const e of [...(room?.state?.events ?? []), ...(room?.timeline?.events ?? [])]) {
        if (e['type'] === 'm.room.member' && e['state_key'] === stranger) e['state_key'] = `${stranger}\u0000`;
      }
    });
    expectNoRoomList(await talk.say(alice, '!rooms'));
    // Still not private in the next responses: the lost member is never taken for gone.
    expectNoRoomList(await talk.say(alice, '!rooms'));
  });
  it('does not list rooms when the record missed a join entirely: the homeserver is asked and shows three members', async () => {
    // The stranger's join is cut out of the response, as if our record had lost it: the record
    // alone shows a private DM, so only the /joined_members confirmation stands in the way.
    const { alice } = await strangerJoins((body, dm, stranger) => {
      const room = (body['rooms'] as Rooms).join?.[dm];
      for (const block of [room?.state, room?.timeline]) {
        if (block?.events) block.events = block.events.filter((e) => e['state_key'] !== stranger);
      }
    });
    const before = h.logged('room is not private on the homeserver; command not answered').length;
    expectNoRoomList(await talk.say(alice, '!rooms'));
    expect(h.logged('room is not private on the homeserver; command not answered').length).toBe(before + 1);
  });
});
