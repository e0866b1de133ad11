import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-homeserver.js';
import { toClientEvent } from '../support/fake-homeserver/sync.js';
import { Conversation } from './conversation.js';
import { Harness } from './harness.js';

describe('metrics of a running daemon', () => {
  let h: Harness;
  let talk: Conversation;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
    talk = new Conversation(h);
  });
  afterEach(async () => h.teardown());

  it('counts each command by name and outcome when commands are answered', async () => {
    const alice = talk.user('alice');
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    await talk.dm(alice);

    await talk.say(alice, ['!help', '!rooms', '!frobnicate', '!prune', 'not a command']);

    const count = (labels: Record<string, string>) => h.metric('roomkeeper_commands_total', labels);
    expect(await count({ name: 'help', outcome: 'ok' })).toBe(1);
    expect(await count({ name: 'rooms', outcome: 'ok' })).toBe(1);
    // An unknown name is counted as `other`; an admin command from a user is refused.
    expect(await count({ name: 'other', outcome: 'rejected' })).toBe(1);
    expect(await count({ name: 'prune', outcome: 'rejected' })).toBe(1);
    expect(await count({})).toBe(4);
  });

  it('records a failed sync request under the error outcome', async () => {
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    const histogram = 'roomkeeper_sync_request_duration_seconds_count';
    expect(await h.metric(histogram, { outcome: 'error' })).toBe(0);
    const ok = await h.metric(histogram, { outcome: 'ok' });

    h.hs.failNext('sync', { status: 502, rawBody: 'Bad Gateway' });
    h.hs.failNext('sync', { drop: true });
    h.hs.sendMessage(h.hs.createRoom(h.hs.userId('alice'), { invite: [h.hs.botUserId] }), h.hs.userId('alice'), 'wake up');
    await h.hs.waitFor(() => h.hs.pendingFaults === 0, 10_000, 'both faults served');
    await h.caughtUp();

    expect(await h.metric(histogram, { outcome: 'error' })).toBe(2);
    expect(await h.metric(histogram, { outcome: 'ok' })).toBeGreaterThan(ok);
  });

  it('counts a state reset the store followed: an old name sent back in a state block', async () => {
    const { hs } = h;
    const alice = hs.userId('alice');
    const room = hs.createRoom(alice, { invite: [hs.botUserId] });
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    await h.joined(room);
    const before = hs.setName(room, alice, 'Before');
    hs.setName(room, alice, 'After');
    await h.caughtUp();
    expect(await h.metric('roomkeeper_state_resets_total')).toBe(0);

    // The server's resolved state goes back to the first name, as after a state reset.
    hs.mangleNextSync((body) => {
      const joined = (body['rooms'] as { join: Record<string, JsonObject> }).join[room]!;
      joined['state'] = { events: [toClientEvent(before)] };
      (joined['timeline'] as JsonObject)['limited'] = true;
    });
    hs.sendMessage(room, alice, 'after the reset');
    await h.caughtUp();
    expect(await h.metric('roomkeeper_state_resets_total')).toBe(1);
    await h.stop();
    expect((await h.inspect()).rooms[0]).toMatchObject({ roomId: room, name: 'Before' });
  });
});
