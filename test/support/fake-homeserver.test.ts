import Module, { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as BotSdk from 'matrix-bot-sdk';
import { type FakeHomeserver, type JsonObject, startFakeHomeserver } from './fake-homeserver.js';

/** The parts of client-server API bodies these tests read. */
interface WireEvent {
  type: string;
  state_key?: string;
  sender: string;
  event_id: string;
  room_id?: string;
  content: { membership?: string; body?: string; [key: string]: unknown };
  unsigned?: { prev_content?: unknown; transaction_id?: string };
}
interface WireRoom {
  timeline: { events: WireEvent[]; limited: boolean; prev_batch: string };
  state: { events: WireEvent[] };
}
interface WireSync {
  next_batch: string;
  rooms?: {
    join?: Record<string, WireRoom>;
    leave?: Record<string, WireRoom>;
    invite?: Record<string, { invite_state: { events: WireEvent[] } }>;
  };
  account_data?: { events: { type: string; content: unknown }[] };
}

interface Reply<T> {
  status: number;
  body: T;
}

/** A bare client over fetch, so these tests see exactly what goes over the wire. */
function clientOf(hs: FakeHomeserver, token: string | null = hs.botToken) {
  const call = async <T = unknown>(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<Reply<T>> => {
    const url = new URL(`${hs.url}/_matrix/client/v3/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
    return { status: res.status, body: parsed as T };
  };
  const id = (roomId: string) => encodeURIComponent(roomId);
  return {
    call,
    /** A /sync that must succeed. */
    sync: async (query: Record<string, string> = {}): Promise<WireSync> => {
      const res = await call<WireSync>('GET', 'sync', undefined, query);
      expect(res.status).toBe(200);
      return res.body;
    },
    join: (roomId: string) => call<{ room_id: string }>('POST', `rooms/${id(roomId)}/join`, {}),
    leave: (roomId: string) => call('POST', `rooms/${id(roomId)}/leave`, {}),
    send: (roomId: string, txnId: string, content: JsonObject) =>
      call<{ event_id: string }>('PUT', `rooms/${id(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`, content),
  };
}

function joinedIn(sync: WireSync, roomId: string): WireRoom {
  const entry = sync.rooms?.join?.[roomId];
  if (entry === undefined) throw new Error(`${roomId} is not under rooms.join`);
  return entry;
}

function leftIn(sync: WireSync, roomId: string): WireRoom {
  const entry = sync.rooms?.leave?.[roomId];
  if (entry === undefined) throw new Error(`${roomId} is not under rooms.leave`);
  return entry;
}

const types = (events: WireEvent[]) => events.map((e) => `${e.type}${e.state_key === undefined ? '' : `|${e.state_key}`}`);
const bodies = (events: WireEvent[]) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
const memberships = (events: WireEvent[]) => events.map((e) => `${e.state_key}:${e.content.membership}`);

let hs: FakeHomeserver;
let alice: string;
let bob: string;
let bot: string;

beforeEach(async () => {
  hs = await startFakeHomeserver();
  alice = hs.userId('alice');
  bob = hs.userId('bob');
  bot = hs.botUserId;
});

afterEach(async () => {
  await hs.close();
  expect(hs.internalErrors).toEqual([]);
});

describe('fake homeserver: basics', () => {
  it('serves /versions without a token and whoami with the bot token', async () => {
    const versions = await fetch(`${hs.url}/_matrix/client/versions`);
    expect(versions.status).toBe(200);
    expect(((await versions.json()) as { versions: string[] }).versions).toContain('v1.6');
    const whoami = await clientOf(hs).call('GET', 'account/whoami');
    expect(whoami).toEqual({ status: 200, body: { user_id: '@roomkeeper:fake.test', device_id: 'FAKEBOTDEVICE', is_guest: false } });
  });

  it('accepts the r0 prefix as well as v3', async () => {
    const res = await fetch(`${hs.url}/_matrix/client/r0/account/whoami`, { headers: { authorization: `Bearer ${hs.botToken}` } });
    expect(res.status).toBe(200);
  });

  it('rejects an unknown token with 401 M_UNKNOWN_TOKEN and a missing one with M_MISSING_TOKEN', async () => {
    expect(await clientOf(hs, 'nope').call('GET', 'account/whoami')).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
    expect(await clientOf(hs, null).call('GET', 'sync')).toMatchObject({ status: 401, body: { errcode: 'M_MISSING_TOKEN' } });
    hs.revokeToken(hs.botToken);
    expect(await clientOf(hs).call('GET', 'joined_rooms')).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
  });

  it('logs in with m.login.password and issues a working token', async () => {
    const anon = clientOf(hs, null);
    const login = await anon.call<{ access_token: string }>('POST', 'login', {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'roomkeeper' },
      password: 'fake-bot-password',
    });
    expect(login).toMatchObject({ status: 200, body: { user_id: bot, access_token: expect.any(String), device_id: expect.any(String) } });
    const whoami = await clientOf(hs, login.body.access_token).call('GET', 'account/whoami');
    expect(whoami.body).toMatchObject({ user_id: bot });
    const wrong = await anon.call('POST', 'login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: bot }, password: 'x' });
    expect(wrong).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
  });

  it('answers unknown endpoints with 404 M_UNRECOGNIZED and records them', async () => {
    const res = await clientOf(hs).call('POST', 'rooms/!x:fake.test/receipt/m.read/$e', {});
    expect(res).toEqual({ status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } });
    expect(hs.requests.at(-1)).toMatchObject({
      method: 'POST',
      route: 'unknown',
      path: '/_matrix/client/v3/rooms/!x:fake.test/receipt/m.read/$e',
      status: 404,
    });
  });

  it('resolves aliases, lists joined rooms, state and members', async () => {
    const room = hs.createRoom(alice, { name: 'Ops', alias: '#ops:fake.test', joinRule: 'public' });
    const c = clientOf(hs);
    const r = encodeURIComponent(room);
    expect((await c.call('GET', `directory/room/${encodeURIComponent('#ops:fake.test')}`)).body).toEqual({ room_id: room, servers: ['fake.test'] });
    expect((await c.call('POST', `join/${encodeURIComponent('#ops:fake.test')}`, {})).body).toEqual({ room_id: room });
    hs.setProfile(bob, { displayName: 'Bob' });
    hs.join(room, bob);
    expect((await c.call('GET', 'joined_rooms')).body).toEqual({ joined_rooms: [room] });
    const state = (await c.call<WireEvent[]>('GET', `rooms/${r}/state`)).body;
    expect(types(state)).toContain(`m.room.member|${bob}`);
    expect(state.every((e) => e.room_id === room)).toBe(true);
    expect((await c.call('GET', `rooms/${r}/joined_members`)).body).toEqual({
      joined: {
        [alice]: { display_name: null, avatar_url: null },
        [bot]: { display_name: null, avatar_url: null },
        [bob]: { display_name: 'Bob', avatar_url: null },
      },
    });
    const members = (await c.call<{ chunk: WireEvent[] }>('GET', `rooms/${r}/members`)).body.chunk;
    expect(members.map((e) => e.state_key)).toEqual([alice, bot, bob]);
    expect((await c.call('GET', `rooms/${r}/state/m.room.name/`)).body).toEqual({ name: 'Ops' });
    expect((await c.call('GET', `profile/${encodeURIComponent(bob)}`)).body).toEqual({ displayname: 'Bob' });
  });

  it('refuses the state of a room the bot is not in with 403 M_FORBIDDEN', async () => {
    const room = hs.createRoom(alice);
    const res = await clientOf(hs).call('GET', `rooms/${encodeURIComponent(room)}/state`);
    expect(res).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
  });
});

describe('fake homeserver: the membership story over /sync', () => {
  it('shows an invite with stripped state, is_direct, the name and the inviter', async () => {
    const room = hs.createRoom(alice, { name: 'Chat', invite: [bot], isDirect: true });
    const sync = await clientOf(hs).sync();
    const inviteState = sync.rooms?.invite?.[room]?.invite_state.events ?? [];
    expect(types(inviteState)).toEqual(['m.room.create|', 'm.room.join_rules|', 'm.room.name|', `m.room.member|${alice}`, `m.room.member|${bot}`]);
    expect(inviteState.at(-1)).toMatchObject({ sender: alice, content: { membership: 'invite', is_direct: true }, event_id: expect.stringMatching(/^\$/) });
    expect(sync.rooms?.join).toBeUndefined();
  });

  it('gives a room joined since the last sync its whole history as a limited timeline, the first new event twice, as Synapse does', async () => {
    const room = hs.createRoom(alice, { name: 'Chat', topic: 'talk', invite: [bot] });
    const c = clientOf(hs);
    const first = await c.sync();
    expect((await c.join(room)).body).toEqual({ room_id: room });

    // Synapse v1.67 (checked by test/e2e/parity.test.ts): history back-filled up to and
    // including the first event after `since`, that event kept in place as well, `limited`
    // always true for a newly joined room, and no state block when the history fits.
    const joined = joinedIn(await c.sync({ since: first.next_batch }), room);
    expect(types(joined.timeline.events)).toEqual([
      'm.room.create|',
      `m.room.member|${alice}`,
      'm.room.power_levels|',
      'm.room.join_rules|',
      'm.room.history_visibility|',
      'm.room.name|',
      'm.room.topic|',
      `m.room.member|${bot}`,
      `m.room.member|${bot}`,
      `m.room.member|${bot}`,
    ]);
    expect(memberships(joined.timeline.events.slice(-3))).toEqual([`${bot}:invite`, `${bot}:join`, `${bot}:join`]);
    expect(joined.timeline.events.at(-1)?.event_id).toBe(joined.timeline.events.at(-2)?.event_id);
    expect(joined.timeline.events.at(-1)?.unsigned?.prev_content).toEqual({ membership: 'invite' });
    expect(joined.timeline.limited).toBe(true);
    expect(joined.state.events).toEqual([]);
  });

  it('leaves out of a gappy state block the value that the first timeline event replaced, as Synapse does', async () => {
    const room = hs.createRoom(alice, { topic: 'one', joinRule: 'public', invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const start = await c.sync();
    hs.setTopic(room, alice, 'two');
    hs.join(room, bob);
    hs.setTopic(room, alice, 'three');
    hs.sendMessage(room, alice, 'after');
    const gappy = joinedIn(await c.sync({ since: start.next_batch, filter: JSON.stringify({ room: { timeline: { limit: 2 } } }) }), room);
    expect(types(gappy.timeline.events)).toEqual(['m.room.topic|', 'm.room.message']);
    expect(gappy.timeline.limited).toBe(true);
    // bob's join is in the gap; topic "two" is too, but "three" (in the timeline) replaced it.
    expect(types(gappy.state.events)).toEqual([`m.room.member|${bob}`]);
  });

  it('tells of a kick in the leave section, up to the kick and nothing after', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const start = await c.sync();
    hs.invite(room, alice, bob);
    hs.join(room, bob);
    hs.kick(room, alice, bob);
    const seen = await c.sync({ since: start.next_batch });
    expect(memberships(joinedIn(seen, room).timeline.events)).toEqual([`${bob}:invite`, `${bob}:join`, `${bob}:leave`]);

    hs.sendMessage(room, alice, 'before');
    hs.kick(room, alice, bot, { reason: 'bye' });
    hs.sendMessage(room, alice, 'after');
    const kicked = await c.sync({ since: seen.next_batch });
    expect(kicked.rooms?.join).toBeUndefined();
    const left = leftIn(kicked, room);
    expect(bodies(left.timeline.events)).toEqual(['before']);
    expect(left.timeline.events.at(-1)).toMatchObject({ state_key: bot, sender: alice, content: { membership: 'leave', reason: 'bye' } });

    const quiet = await c.sync({ since: kicked.next_batch, timeout: '0' });
    expect(quiet.rooms).toBeUndefined();
  });

  it('sends the full state again when the bot rejoins after a kick, old member events included', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    hs.invite(room, alice, bob);
    hs.join(room, bob);
    const c = clientOf(hs);
    let since = (await c.sync()).next_batch;
    hs.kick(room, alice, bot);
    since = (await c.sync({ since })).next_batch;
    hs.invite(room, alice, bot);
    since = (await c.sync({ since })).next_batch;
    await c.join(room);

    const rejoined = joinedIn(await c.sync({ since }), room);
    expect(memberships(rejoined.timeline.events.slice(-2))).toEqual([`${bot}:join`, `${bot}:join`]);
    const all = [...rejoined.state.events, ...rejoined.timeline.events];
    expect(types(all)).toEqual(expect.arrayContaining(['m.room.create|', `m.room.member|${alice}`, `m.room.member|${bob}`]));
    expect(all.filter((e) => e.state_key === bob).at(-1)?.content.membership).toBe('join');
  });

  it('treats unban, invite and join within one sync as a newly joined room', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const start = await c.sync();
    hs.ban(room, alice, bot);
    const banned = await c.sync({ since: start.next_batch });
    expect(leftIn(banned, room).timeline.events.at(-1)?.content.membership).toBe('ban');
    expect(await c.join(room)).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });

    hs.unban(room, alice, bot);
    hs.invite(room, alice, bot);
    hs.join(room, bot);
    const back = await c.sync({ since: banned.next_batch });
    expect(back.rooms?.leave).toBeUndefined();
    expect(types(joinedIn(back, room).state.events)).toContain('m.room.create|');
  });

  it('shows a rejected invite in the leave section with only the leave event', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    const c = clientOf(hs);
    const start = await c.sync();
    hs.sendMessage(room, alice, 'secret');
    await c.leave(room);
    const left = leftIn(await c.sync({ since: start.next_batch }), room);
    expect(memberships(left.timeline.events)).toEqual([`${bot}:leave`]);
    expect(left.state.events).toEqual([]);
  });
});

describe('fake homeserver: timelines and tokens', () => {
  it('cuts a long gap to the last `limit` events, marks it limited and puts gap state in the state block', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    for (let i = 0; i < 5; i++) hs.sendMessage(room, alice, `m${i}`);
    hs.setTopic(room, alice, 'new topic');
    for (let i = 5; i < 15; i++) hs.sendMessage(room, alice, `m${i}`);

    const gappy = joinedIn(await c.sync({ since }), room);
    expect(bodies(gappy.timeline.events)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14']);
    expect(gappy.timeline.limited).toBe(true);
    expect(gappy.timeline.prev_batch).toEqual(expect.any(String));
    expect(gappy.state.events).toEqual([expect.objectContaining({ type: 'm.room.topic', content: { topic: 'new topic' } })]);

    const small = joinedIn(await c.sync({ since, filter: JSON.stringify({ room: { timeline: { limit: 3 } } }) }), room);
    expect(bodies(small.timeline.events)).toEqual(['m12', 'm13', 'm14']);
  });

  it('uses a filter created by id and records it for assertions', async () => {
    const c = clientOf(hs);
    const definition = { room: { timeline: { limit: 2 }, state: { lazy_load_members: false } } };
    const created = await c.call<{ filter_id: string }>('POST', `user/${encodeURIComponent(bot)}/filter`, definition);
    const filterId = created.body.filter_id;
    expect(filterId).toEqual(expect.any(String));
    expect((await c.call('GET', `user/${encodeURIComponent(bot)}/filter/${filterId}`)).body).toEqual(definition);
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    for (let i = 0; i < 4; i++) hs.sendMessage(room, alice, `m${i}`);

    expect(bodies(joinedIn(await c.sync({ filter: filterId }), room).timeline.events)).toEqual(['m2', 'm3']);
    expect(hs.syncs[0]).toMatchObject({ filterParam: filterId, filter: definition, timelineLimit: 2 });
    expect((await c.call('GET', 'sync', undefined, { filter: 'nope' })).body).toMatchObject({ errcode: 'M_INVALID_PARAM' });
  });

  it('replays from an old token, so a client resuming from it gets the same events again', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const old = (await c.sync()).next_batch;
    hs.sendMessage(room, alice, 'once');
    const first = await c.sync({ since: old });
    const again = await c.sync({ since: old });
    expect(joinedIn(again, room).timeline.events).toEqual(joinedIn(first, room).timeline.events);
    expect(again.next_batch).toBe(first.next_batch);
  });

  it('includes changed global account data, and only when changed', async () => {
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    hs.setDirect(bot, { [alice]: ['!dm:fake.test'] });
    const changed = await c.sync({ since });
    expect(changed.account_data?.events).toEqual([{ type: 'm.direct', content: { [alice]: ['!dm:fake.test'] } }]);
    expect((await c.sync({ since: changed.next_batch, timeout: '0' })).account_data).toBeUndefined();

    const path = `user/${encodeURIComponent(bot)}/account_data`;
    expect((await c.call('PUT', `${path}/m.direct`, { [bob]: ['!b:fake.test'] })).status).toBe(200);
    expect((await c.call('GET', `${path}/m.direct`)).body).toEqual({ [bob]: ['!b:fake.test'] });
    expect((await c.call('GET', `${path}/m.other`)).body).toMatchObject({ errcode: 'M_NOT_FOUND' });
  });

  it('answers full_state at once with the whole state of every joined room', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    const full = joinedIn(await c.sync({ since, full_state: 'true', timeout: '10000' }), room);
    expect(full.timeline.events).toEqual([]);
    expect(types(full.state.events)).toEqual(expect.arrayContaining(['m.room.create|', `m.room.member|${bot}`]));
  });

  it('stamps events with the controllable clock', () => {
    const room = hs.createRoom(alice);
    hs.clock.set(1_000);
    hs.clock.advance(500);
    expect(hs.sendMessage(room, alice, 'tick').event['origin_server_ts']).toBe(1_500);
  });

  it('passes raw events through unchanged, malformed ones included', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    hs.sendRawEvent(room, { type: 'm.room.member', state_key: 42, content: null });
    hs.sendRawEvent(room, 'not an event');
    const timeline: unknown[] = joinedIn(await c.sync({ since }), room).timeline.events;
    expect(timeline).toEqual([{ type: 'm.room.member', state_key: 42, content: null }, 'not an event']);
  });
});

describe('fake homeserver: long-polling', () => {
  it('holds a sync until something happens for the bot', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    const started = Date.now();
    const pending = c.sync({ since, timeout: '10000' });
    await hs.waitFor(() => hs.syncs.length === 2);
    hs.createRoom(bob); // not the bot's business: the poll keeps waiting
    setTimeout(() => hs.sendMessage(room, alice, 'wake up'), 100);
    expect(bodies(joinedIn(await pending, room).timeline.events)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers an empty response at the same position when the timeout passes', async () => {
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    const started = Date.now();
    const res = await c.sync({ since, timeout: '200' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(res).toEqual({ next_batch: since });
  });

  it('ends a pending long-poll promptly on close', async () => {
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    const pending = c.call('GET', 'sync', undefined, { since, timeout: '60000' });
    await hs.waitFor(() => hs.syncs.length === 2);
    const started = Date.now();
    await hs.close();
    expect((await pending).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('tells when the bot has synced past a position', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    const c = clientOf(hs);
    const target = hs.position;
    const waiting = hs.waitForSyncPast(target);
    const first = await c.sync();
    await c.sync({ since: first.next_batch, timeout: '0' });
    expect((await waiting).since).toBe(target);
    expect(hs.membership(room, bot)).toBe('invite');
  });
});

describe('fake homeserver: sending', () => {
  it('is idempotent per transaction id and echoes the bot its own message', async () => {
    const room = hs.createRoom(alice, { invite: [bot] });
    hs.join(room, bot);
    const c = clientOf(hs);
    const since = (await c.sync()).next_batch;
    const a = await c.send(room, 'txn1', { msgtype: 'm.notice', body: 'hello' });
    const b = await c.send(room, 'txn1', { msgtype: 'm.notice', body: 'hello' });
    expect(a.status).toBe(200);
    expect(b.body.event_id).toBe(a.body.event_id);
    expect(hs.sent(room)).toEqual([
      expect.objectContaining({ event_id: a.body.event_id, room_id: room, sender: bot, content: { msgtype: 'm.notice', body: 'hello' } }),
    ]);

    const echoed = joinedIn(await c.sync({ since }), room).timeline.events;
    expect(echoed).toEqual([expect.objectContaining({ event_id: a.body.event_id, unsigned: { transaction_id: 'txn1' } })]);
    expect(await hs.waitForSent((e) => (e['content'] as JsonObject)['body'] === 'hello')).toMatchObject({ event_id: a.body.event_id });
  });

  it('refuses to send into a room the bot is not in', async () => {
    const room = hs.createRoom(alice);
    expect(await clientOf(hs).send(room, 't', { body: 'x' })).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
  });
});

describe('fake homeserver: faults', () => {
  it('answers the next matching requests with the armed error, then normally', async () => {
    const c = clientOf(hs);
    const sync = () => c.call('GET', 'sync');
    hs.failNext('whoami', { status: 500 });
    hs.failNext('sync', { status: 429, retryAfterMs: 1500 }, 2);
    hs.failNext({ method: 'GET', path: /\/joined_rooms$/ }, { status: 403, errcode: 'M_FORBIDDEN', error: 'no' });
    expect(await c.call('GET', 'account/whoami')).toMatchObject({ status: 500, body: { errcode: 'M_UNKNOWN' } });
    expect((await c.call('GET', 'account/whoami')).status).toBe(200);
    expect(await sync()).toEqual({ status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Injected fault', retry_after_ms: 1500 } });
    expect((await sync()).status).toBe(429);
    expect((await sync()).status).toBe(200);
    expect(await c.call('GET', 'joined_rooms')).toEqual({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no' } });
    expect(hs.pendingFaults).toBe(0);
    expect(hs.requests.filter((r) => r.fault !== undefined).map((r) => r.route)).toEqual(['whoami', 'sync', 'sync', 'joined_rooms']);
  });

  it('can send a non-JSON proxy error, an expired token, or drop the connection', async () => {
    const c = clientOf(hs);
    hs.failNext('sync', { status: 502, rawBody: 'Bad Gateway' });
    expect(await c.call('GET', 'sync')).toEqual({ status: 502, body: 'Bad Gateway' });
    hs.failNext('join', { status: 401 });
    expect(await c.join('!any:fake.test')).toMatchObject({ status: 401, body: { errcode: 'M_UNKNOWN_TOKEN' } });
    hs.failNext('sync', { drop: true });
    await expect(c.call('GET', 'sync')).rejects.toThrow();
    expect(hs.requests.at(-1)).toMatchObject({ route: 'sync', fault: { drop: true } });
    expect(hs.requests.at(-1)?.status).toBeUndefined();
  });

  it('refuses connections while down and serves again on the same url when up', async () => {
    const c = clientOf(hs);
    const url = hs.url;
    await hs.down();
    await expect(c.call('GET', 'account/whoami')).rejects.toThrow();
    await hs.up();
    expect(hs.url).toBe(url);
    expect((await c.call('GET', 'account/whoami')).status).toBe(200);
  });
});

describe('fake homeserver: with the real matrix-bot-sdk client', () => {
  /**
   * matrix-bot-sdk requires its native crypto binding at load time, and there is no binary for it
   * here; an empty module in its place lets the SDK load without crypto, which this test never uses.
   */
  function loadBotSdk(): typeof BotSdk {
    const require = createRequire(import.meta.url);
    const cryptoPath = require.resolve('@matrix-org/matrix-sdk-crypto-nodejs');
    if (require.cache[cryptoPath] === undefined) {
      const stub = new Module(cryptoPath);
      stub.filename = cryptoPath;
      stub.loaded = true;
      stub.exports = {};
      require.cache[cryptoPath] = stub;
    }
    return require('matrix-bot-sdk') as typeof BotSdk;
  }

  it('starts, joins on invite, sees a message, replies, and stops without hanging', async () => {
    const sdk = loadBotSdk();
    sdk.LogService.setLevel(sdk.LogLevel.ERROR);
    const room = hs.createRoom(alice, { name: 'DM', invite: [bot], isDirect: true });
    const client = new sdk.MatrixClient(hs.url, hs.botToken, new sdk.MemoryStorageProvider());
    const seen: string[] = [];
    client.on('room.invite', (roomId: string) => {
      client.joinRoom(roomId).catch((err: unknown) => seen.push(`join failed: ${String(err)}`));
    });
    client.on('room.message', (_roomId: string, ev: { sender: string; content: { body: string } }) => {
      seen.push(`${ev.sender}: ${ev.content.body}`);
    });

    expect(await client.getUserId()).toBe(bot);
    await client.start();
    await hs.waitFor(() => hs.membership(room, bot) === 'join', 5000, 'the bot to join');
    hs.sendMessage(room, alice, 'hello bot');
    await hs.waitFor(() => seen.includes(`${alice}: hello bot`), 5000, 'the bot to see the message');
    await client.sendText(room, 'hello alice');
    await hs.waitForSent((e) => (e['content'] as JsonObject)['body'] === 'hello alice');
    // The SDK writes `is_direct` invites into m.direct on its own.
    expect(hs.accountDataOf(bot).get('m.direct')?.content).toEqual({ [alice]: [room] });

    client.stop();
    const started = Date.now();
    await hs.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(hs.syncs.length).toBeGreaterThan(1);
    expect(hs.syncs[0]).toMatchObject({ since: undefined, filterParam: undefined, timeout: 30000, fullState: false });
    const firstSync = hs.requests.findIndex((r) => r.route === 'sync');
    const startup = hs.requests.slice(0, firstSync + 1).map((r) => `${r.method} ${r.route} ${r.status}`);
    expect(startup).toEqual(['GET whoami 200', 'GET account_data 404', 'GET joined_rooms 200', 'GET sync 200']);
  });
});
