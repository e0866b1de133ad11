import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';
import { Harness } from './harness.js';

const ENCRYPTED = { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'AAAA', session_id: 's', sender_key: 'k', device_id: 'D' };

describe('DMs the bot cannot trust or read', () => {
  let h: Harness;
  let talk: Conversation;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
    talk = new Conversation(h);
  });
  afterEach(async () => h.teardown());

  it('lists no rooms in a DM whose record shows two members when the homeserver shows a third', async () => {
    const alice = talk.user('alice');
    await h.start();
    const dm = await talk.dm(alice);
    await talk.room(alice, { name: 'Private plans' });
    // A stranger's join that our decoder rejects (U+00FF is not allowed in ids): our record keeps
    // two members, the server has three.
    const stranger = '@stranger\u00ff:hs.test';
    h.hs.sendRawEvent(dm, { type: 'm.room.member', event_id: '$stranger', sender: stranger, state_key: stranger, content: { membership: 'join' }, origin_server_ts: Date.now() });

    const replies = await talk.say(alice, ['!rooms', '!members 1']);

    expect(replies.map((r) => r.body)).toEqual(['I only answer in a private chat with just you and me. Start a direct chat with me and ask there.']);
    expect(h.logged('room is not private on the homeserver; command not answered')).toHaveLength(2);
  });

  it('tells a person once per room, unencrypted and across restarts, that it cannot read their encrypted DM', async () => {
    const alice = talk.user('alice');
    await h.start();
    const dm = await talk.dm(alice);
    const group = await talk.room(alice, { members: [talk.user('bob')] });

    h.hs.sendEvent(dm, alice, 'm.room.encrypted', ENCRYPTED);
    h.hs.sendEvent(dm, alice, 'm.room.encrypted', ENCRYPTED);
    h.hs.sendEvent(group, alice, 'm.room.encrypted', ENCRYPTED);
    await h.caughtUp();
    await h.stop();
    await h.start();
    h.hs.sendEvent(dm, alice, 'm.room.encrypted', ENCRYPTED);
    await h.caughtUp();

    const sent = h.hs.sent(dm);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'm.room.message', content: { msgtype: 'm.notice' } });
    expect(String((sent[0]!['content'] as { body: string }).body)).toBe(
      "I can't read encrypted messages, so I did not see what you wrote here.\nTo talk to me, start a new direct chat with me with encryption turned off, and say !help there.",
    );
    expect(h.hs.sent(group)).toEqual([]);
    // Plain commands in the same DM are still answered.
    expect((await talk.ask(alice, '!help')).body).toContain('!rooms');
  });
});
