import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WARN } from '../support/memory-log.js';
import { AppserviceHarness, HS_TOKEN } from './appservice-harness.js';
import { Conversation } from './conversation.js';

describe('daemon in appservice mode', () => {
  let h: AppserviceHarness;
  let talk: Conversation;
  beforeEach(async () => {
    h = new AppserviceHarness();
    await h.setup();
    talk = new Conversation(h);
  });
  afterEach(async () => h.teardown());

  /** PUTs a transaction body to the daemon as a homeserver would, with `token` (the hs_token by default). */
  async function put(txnId: string, body: unknown, init: { token?: string | null; path?: string } = {}): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = init.token === undefined ? HS_TOKEN : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${h.daemon!.appserviceUrl}${init.path ?? '/_matrix/app/v1/transactions/'}${txnId}`, {
      method: 'PUT',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  it('joins a room it is invited to, rebuilds it from /state and tracks its members', async () => {
    await h.start();
    const alice = talk.user('alice');
    const bob = talk.user('bob');
    const room = h.hs.createRoom(alice, { name: 'Garden', invite: [h.hs.botUserId, bob] });
    h.hs.join(room, bob);
    await talk.joined(room);
    const carol = talk.user('carol');
    h.hs.invite(room, alice, carol);
    h.hs.join(room, carol);
    h.hs.setName(room, alice, 'Walled garden');
    await h.caughtUp();

    expect(h.hs.requests.some((r) => r.route === 'state' && r.method === 'GET' && r.path.endsWith(`${room}/state`))).toBe(true);
    expect(h.hs.syncs).toEqual([]);
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('purges a room the bot is kicked from', async () => {
    await h.start();
    const alice = talk.user('alice');
    const room = await talk.room(alice, { members: [talk.user('bob')] });
    h.hs.kick(room, alice, h.hs.botUserId);
    await h.caughtUp();
    await h.stop();
    const doc = await h.inspect();
    expect(doc.rooms).toEqual([]);
    expect(doc).toEqual(h.expected());
  });

  it('forgets a room the bot is kicked from while the state for its join is being read', async () => {
    await h.start();
    const alice = talk.user('alice');
    h.hs.failNext('state', { delayMs: 300 });
    const room = h.hs.createRoom(alice, { name: 'Brief', invite: [h.hs.botUserId] });
    await h.hs.waitFor(() => h.hs.membership(room, h.hs.botUserId) === 'join', 10_000, 'bot joined');
    h.hs.kick(room, alice, h.hs.botUserId);
    await h.caughtUp();
    expect(h.logged('could not read the state of a room the bot joined; applied without it')).toHaveLength(1);
    await h.stop();
    expect((await h.inspect()).rooms).toEqual([]);
  });

  it('answers a command in a DM privately', async () => {
    await h.start();
    const alice = talk.user('alice');
    const group = await talk.room(alice, { name: 'Team' });
    await talk.dm(alice);
    const r = await talk.ask(alice, '!rooms');
    expect(r.body).toContain('Team');
    // Nothing went to the group room but the bot's own join.
    expect(h.hs.sent(group)).toEqual([]);
    expect(await talk.say(alice, '!rooms', group)).toEqual([]);
  });

  it('acknowledges a duplicated transaction without applying it again', async () => {
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    const alice = talk.user('alice');
    await talk.dm(alice);
    h.pusher.duplicateNext();
    const reply = await talk.ask(alice, '!help');
    expect(reply.body).toContain('!rooms');
    await h.caughtUp();
    const twice = h.pusher.transactions.filter((t, i, all) => all.findIndex((u) => u.txnId === t.txnId) !== i);
    expect(twice).toHaveLength(1);
    expect(twice[0]!.done).toBe(true);
    expect(await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'duplicate' })).toBe(1);
    // One reply: the duplicate applied nothing and answered nothing.
    expect(h.hs.sent(talk.dmOf(alice)).filter((e) => String((e['content'] as { body?: unknown }).body).includes('!rooms'))).toHaveLength(1);
    expect(h.logged('appservice transaction already committed; acknowledged again')).toHaveLength(1);
  });

  it('refuses a missing token with 401 and a wrong one with 403, and records nothing', async () => {
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    expect(await put('x1', { events: [] }, { token: null })).toEqual({ status: 401, body: { errcode: 'M_UNAUTHORIZED', error: 'missing hs_token' } });
    expect(await put('x1', { events: [] }, { token: 'nope' })).toEqual({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'bad hs_token' } });
    const legacy = await fetch(`${h.daemon!.appserviceUrl}/transactions/x1?access_token=${HS_TOKEN}`, { method: 'PUT', body: '{"events":[]}' });
    expect(legacy.status).toBe(200);
    expect(await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'rejected' })).toBe(2);
    // x1 was applied only by the good request: its retry is a duplicate.
    expect((await put('x1', { events: [] })).status).toBe(200);
    expect(await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'duplicate' })).toBe(1);
  });

  it('applies concurrent PUTs of one txnId once', async () => {
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    const alice = talk.user('alice');
    const room = await talk.room(alice);
    const applied = await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'applied' });
    const msg = { room_id: room, type: 'm.room.message', event_id: '$concurrent', sender: alice, origin_server_ts: 1, content: { body: 'hi' } };
    const answers = await Promise.all([put('c1', { events: [msg] }), put('c1', { events: [msg] }), put('c1', { events: [msg] })]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'applied' })).toBe(applied + 1);
    expect(await h.metric('roomkeeper_appservice_transactions_total', { outcome: 'duplicate' })).toBe(2);
  });

  it('answers the user and alias queries 404 and a ping 200', async () => {
    await h.start();
    const url = h.daemon!.appserviceUrl!;
    const auth = { authorization: `Bearer ${HS_TOKEN}` };
    const user = await fetch(`${url}/_matrix/app/v1/users/${encodeURIComponent('@someone:fake.test')}`, { headers: auth });
    expect([user.status, await user.json()]).toEqual([404, { errcode: 'M_NOT_FOUND', error: 'no such user' }]);
    const alias = await fetch(`${url}/_matrix/app/v1/rooms/${encodeURIComponent('#a:fake.test')}`, { headers: auth });
    expect(alias.status).toBe(404);
    const ping = await fetch(`${url}/_matrix/app/v1/ping`, { method: 'POST', headers: auth, body: '{"transaction_id":"p1"}' });
    expect([ping.status, await ping.json()]).toEqual([200, {}]);
  });

  it('refuses a malformed transaction with 400 without recording it, and applies its retry', async () => {
    await h.start();
    const alice = talk.user('alice');
    const room = await talk.room(alice);
    h.pusher.mangleNext(() => '{"events": {}}');
    h.hs.setTopic(room, alice, 'after the bad body');
    await h.caughtUp();
    const txn = h.pusher.transactions.at(-1)!;
    expect(txn.attempts.map((a) => a.status)).toEqual([400, 200]);
    expect(txn.attempts[0]!.body).toEqual({ errcode: 'M_BAD_JSON', error: 'transaction body: events-not-an-array' });
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('skips a malformed event with a warning and applies the rest of its transaction', async () => {
    await h.start();
    const alice = talk.user('alice');
    const room = await talk.room(alice);
    h.pusher.pause();
    h.hs.sendRawEvent(room, { type: 'm.room.member', state_key: 42, sender: alice, content: { membership: 'join' }, event_id: '$bad', origin_server_ts: 1 });
    const bob = talk.user('bob');
    h.hs.invite(room, alice, bob);
    h.hs.join(room, bob);
    h.pusher.resume();
    await h.caughtUp();
    expect(h.logged('invalid event skipped').length).toBeGreaterThanOrEqual(1);
    expect(h.logged('invalid event skipped')[0]!.level).toBe(WARN);
    await h.stop();
    const doc = await h.inspect();
    expect(doc.rooms[0]?.members).toContain(bob);
  });

  it('ignores ephemeral events under the stable and the unstable key', async () => {
    await h.start();
    const alice = talk.user('alice');
    const room = await talk.room(alice);
    const typing = { type: 'm.typing', room_id: room, content: { user_ids: [alice] } };
    h.pusher.addToNext({ ephemeral: [typing], 'de.sorunome.msc2409.ephemeral': [typing], to_device: [{ type: 'x' }] });
    h.hs.setTopic(room, alice, 'with ephemeral');
    await h.caughtUp();
    expect(h.pusher.transactions.at(-1)!.attempts.map((a) => a.status)).toEqual([200]);
    expect(h.logged('invalid event skipped')).toEqual([]);
    await h.stop();
    expect(await h.inspect()).toEqual(h.expected());
  });

  it('refuses to start when the appservice token acts as another user than senderLocalpart', async () => {
    await expect(h.launch({}, { yaml: 'appservice:\n  port: 0\n  senderLocalpart: someone-else\n' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('appservice.senderLocalpart: the appservice token acts as @roomkeeper:fake.test') as unknown,
    });
  });

  it('is ready once the listener is up, before any transaction', async () => {
    await h.start({ ROOMKEEPER_HTTP_LISTEN: '127.0.0.1:0' });
    const res = await fetch(`${h.daemon!.httpUrl}/readyz`);
    expect(res.status).toBe(200);
  });
});
