/**
 * Fidelity of the fake homeserver: one client script run against the fake and against the real
 * Synapse, and the /sync shapes roomkeeper relies on compared (sections, state vs timeline
 * placement, `limited`, `prev_batch`, `unsigned.prev_content`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { registerUser, User, type Json } from './support/matrix.js';

/** A homeserver the script can run on: how to get a new user with a token there. */
interface Server {
  name: string;
  user(name: string): Promise<User>;
}

let fake: FakeHomeserver;

beforeAll(async () => {
  fake = await startFakeHomeserver();
});

afterAll(async () => {
  await fake.close();
});

function fakeServer(): Server {
  return {
    name: 'fake',
    user: (name) => {
      const userId = fake.userId(`${name}-${randomBytes(3).toString('hex')}`);
      const token = `tok-${randomBytes(8).toString('hex')}`;
      fake.registerUser(userId);
      fake.addToken(userId, token);
      return Promise.resolve(new User(fake.url, userId, token));
    },
  };
}

const realServer: Server = { name: 'synapse', user: (name) => registerUser(name) };

/** An event reduced to what roomkeeper reads, with user and room ids replaced by roles. */
type Shape = Json;

function roleMap(users: Record<string, User>, room: string): (id: unknown) => unknown {
  const roles = new Map<unknown, string>([[room, 'ROOM']]);
  for (const [role, u] of Object.entries(users)) roles.set(u.userId, role);
  return (id) => roles.get(id) ?? id;
}

function eventShape(ev: Json, role: (id: unknown) => unknown): Shape {
  const content = (ev['content'] ?? {}) as Json;
  const unsigned = (ev['unsigned'] ?? {}) as Json;
  const prev = unsigned['prev_content'] as Json | undefined;
  const shape: Shape = { type: ev['type'], sender: role(ev['sender']) };
  if (ev['state_key'] !== undefined) shape['state_key'] = role(ev['state_key']);
  if (ev['type'] === 'm.room.member') shape['membership'] = content['membership'];
  // A DM invite is recognised by this flag on the invite event.
  if (ev['type'] === 'm.room.member' && content['is_direct'] !== undefined) shape['is_direct'] = content['is_direct'];
  if (ev['type'] === 'm.room.name') shape['name'] = content['name'];
  if (ev['type'] === 'm.room.topic') shape['topic'] = content['topic'];
  if (ev['type'] === 'm.room.message') shape['body'] = content['body'];
  if (prev !== undefined) {
    shape['prev'] = ev['type'] === 'm.room.member' ? prev['membership'] : ev['type'] === 'm.room.name' ? prev['name'] : Object.keys(prev).sort();
  }
  return shape;
}

const sortShapes = (shapes: Shape[]): Shape[] => [...shapes].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** Which section of a /sync `room` is in, its state block (as a set) and its timeline (in order). */
function roomShape(sync: Json, room: string, role: (id: unknown) => unknown): Shape {
  const rooms = (sync['rooms'] ?? {}) as Record<string, Record<string, Json> | undefined>;
  const sections = ['join', 'invite', 'leave'].filter((s) => rooms[s]?.[room] !== undefined);
  if (sections.length !== 1) return { sections };
  const section = sections[0]!;
  const r = rooms[section]![room]!;
  if (section === 'invite') {
    const events = ((r['invite_state'] as Json | undefined)?.['events'] ?? []) as Json[];
    // Stripped state: only type, state key, sender and content; which types is the server's choice.
    const invite = events.find((e) => e['type'] === 'm.room.member' && (e['content'] as Json | undefined)?.['membership'] === 'invite');
    return { section, invite: invite === undefined ? null : eventShape(invite, role) };
  }
  const timeline = (r['timeline'] ?? {}) as Json;
  // m.room.guest_access (Synapse sets it for private presets) is not read by roomkeeper and
  // not made by the fake.
  const relevant = (e: Json): boolean => e['type'] !== 'm.room.guest_access';
  const state = ((((r['state'] ?? {}) as Json)['events'] ?? []) as Json[]).filter(relevant);
  return {
    section,
    state: sortShapes(state.map((e) => eventShape(e, role))),
    timeline: ((timeline['events'] ?? []) as Json[]).filter(relevant).map((e) => eventShape(e, role)),
    limited: timeline['limited'] === true,
    prevBatch: typeof timeline['prev_batch'],
  };
}

const FILTER = { room: { timeline: { limit: 50, lazy_load_members: false } } };
const LOW_LIMIT = { room: { timeline: { limit: 3, lazy_load_members: false } } };

/** The script: create, invite, join, rename, kick, a gap, a rejoin. Returns the shapes of each step. */
async function script(server: Server): Promise<Record<string, Shape>> {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => server.user(n)));
  const users = { alice: alice!, bob: bob!, carol: carol! };
  const room = await users.alice.createRoom({ name: 'Parity', invite: [users.carol.userId] });
  const role = roleMap(users, room);
  const next = (sync: Json): string => String(sync['next_batch']);
  const shapes: Record<string, Shape> = {};

  const dm = await users.alice.createRoom({ isDirect: true, invite: [users.carol.userId], preset: 'trusted_private_chat' });
  const c0 = await users.carol.sync({ filter: FILTER });
  shapes['1 invited: carol initial sync'] = roomShape(c0, room, role);
  shapes['1 invited to a DM: carol initial sync'] = roomShape(c0, dm, roleMap(users, dm));

  await users.carol.join(room);
  await users.alice.invite(room, users.bob.userId);
  await users.bob.join(room);
  const c1 = await users.carol.sync({ since: next(c0), filter: FILTER });
  shapes['2 joined: carol incremental sync'] = roomShape(c1, room, role);

  await users.alice.setState(room, 'm.room.name', { name: 'Parity renamed' });
  const b0 = await users.bob.sync({ filter: FILTER });
  const c2 = await users.carol.sync({ since: next(c1), filter: FILTER });
  shapes['3 renamed: carol incremental sync'] = roomShape(c2, room, role);

  await users.alice.kick(room, users.bob.userId);
  const b1 = await users.bob.sync({ since: next(b0), filter: FILTER });
  shapes['4 kicked: bob incremental sync'] = roomShape(b1, room, role);

  await users.alice.setState(room, 'm.room.topic', { topic: 'Gap topic' });
  for (let i = 0; i < 6; i++) await users.alice.send(room, `gap ${i}`);
  const c3 = await users.carol.sync({ since: next(c2), filter: LOW_LIMIT });
  shapes['5 gap: carol incremental sync, timeline limit 3'] = roomShape(c3, room, role);

  await users.alice.invite(room, users.bob.userId);
  const b2 = await users.bob.sync({ since: next(b1), filter: LOW_LIMIT });
  shapes['6 invited back: bob incremental sync'] = roomShape(b2, room, role);
  await users.bob.join(room);
  await users.alice.send(room, 'welcome back');
  const b3 = await users.bob.sync({ since: next(b2), filter: LOW_LIMIT });
  shapes['7 rejoined: bob incremental sync, timeline limit 3'] = roomShape(b3, room, role);
  return shapes;
}

describe('the fake homeserver against a real Synapse', () => {
  it('gives the same /sync shapes for create, invite, join, rename, kick, a gappy sync and a rejoin', async () => {
    const real = await script(realServer);
    const faked = await script(fakeServer());
    // The script reaches what it is for on the real server (so equal shapes are not empty ones).
    expect(real['1 invited to a DM: carol initial sync']).toMatchObject({ section: 'invite', invite: { membership: 'invite', is_direct: true } });
    expect(real['3 renamed: carol incremental sync']).toMatchObject({ section: 'join', limited: false });
    expect(real['4 kicked: bob incremental sync']).toMatchObject({ section: 'leave' });
    expect(real['5 gap: carol incremental sync, timeline limit 3']).toMatchObject({ section: 'join', limited: true, prevBatch: 'string' });
    expect(real['7 rejoined: bob incremental sync, timeline limit 3']).toMatchObject({ section: 'join', limited: true });
    expect(faked).toEqual(real);
  });
});
