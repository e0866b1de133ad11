/**
 * Deterministic synthetic /sync streams for the benchmarks. Everything is a pure function of a
 * seed: the same spec always yields byte-identical bodies, so runs and machines compare.
 *
 * Ids have realistic shapes and lengths (room ids of ~30 characters, 44-character room-v4 event
 * ids, user ids of ~20), because key length is what LevelDB throughput depends on. Bodies are
 * produced lazily, one response at a time, so that a 1M-event stream never sits in memory and
 * the peak RSS measured is the store's, not the generator's.
 */

export type RawEvent = Record<string, unknown>;
export type SyncBody = Record<string, unknown>;

/** One /sync response and what it carries. */
export interface Delivery {
  body: SyncBody;
  /** Events in the body, duplicates included. */
  events: number;
  /** Of which `m.room.member`. */
  memberEvents: number;
}

export interface WorkloadSpec {
  name: string;
  seed: number;
  rooms: number;
  membersPerRoom: number;
  /** Member counts of rooms 0, 1, … that differ from `membersPerRoom` (query targets). */
  roomSizes: readonly number[];
  /** Rooms per response of the initial stream (the bot being joined to every room). */
  roomsPerResponse: number;
  /** Distinct ordinary users memberships are drawn from (skewed: a few are in many rooms). */
  userPool: number;
}

export const BOT_USER_ID = '@roomkeeper:bench.example';

/** 10,000 rooms × ~100 members: ~1M member events. Rooms 0/1/2 have 10,000/1,000/10 members. */
export function bigSpec(scale = 1): WorkloadSpec {
  const rooms = Math.max(10, Math.round(10_000 * scale));
  return {
    name: `${rooms} rooms`,
    seed: 0x5eed_0001,
    rooms,
    membersPerRoom: 100,
    roomSizes: [Math.max(20, Math.round(10_000 * scale)), Math.max(15, Math.round(1_000 * scale)), 10],
    roomsPerResponse: 20,
    userPool: rooms * 20,
  };
}

/** 1,000 rooms × 100 members: 100k member events. */
export function smallSpec(scale = 1): WorkloadSpec {
  const rooms = Math.max(10, Math.round(1_000 * scale));
  return { name: `${rooms} rooms`, seed: 0x5eed_0002, rooms, membersPerRoom: 100, roomSizes: [], roomsPerResponse: 20, userPool: rooms * 20 };
}

// --- hashing and ids -------------------------------------------------------------------------

/** murmur3's 32-bit finaliser: a cheap, well-mixed hash step. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash(a: number, b: number, c = 0, d = 0): number {
  return fmix(Math.imul(fmix(Math.imul(fmix(a ^ Math.imul(b, 0x9e37_79b1)), 0x85eb_ca6b) ^ c), 0xcc9e_2d51) ^ d);
}

/** mulberry32: small, fast, seedable. */
export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b_79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SERVERS = ['matrix.org', 'example.com', 'chat.example.net', 'kde.org', 'tchncs.de', 'envs.net', 'fosdem.org', 'mozilla.org'];
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ten', 'sa', 'vo', 'ne', 'li', 'an', 'ber', 'to', 'ju', 'el', 'fi', 'dor'];
const eventIdBytes = Buffer.alloc(32);

function letters(h: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    h = fmix(h + i + 1);
    s += ALPHA[h % ALPHA.length];
  }
  return s;
}

function word(h: number, syllables: number): string {
  let s = '';
  for (let i = 0; i < syllables; i++) {
    h = fmix(h + i + 7);
    s += SYLLABLES[h % SYLLABLES.length];
  }
  return s;
}

/** A room-version-4 style event id: `$` + 43 url-safe base64 characters. */
function eventId(seed: number, room: number, serial: number): string {
  let h = hash(seed, room, serial, 0xe7);
  for (let i = 0; i < 8; i++) {
    h = fmix(h + i);
    eventIdBytes.writeUInt32LE(h, i * 4);
  }
  return '$' + eventIdBytes.toString('base64url');
}

const HUB_TENTH = 1;
const HUB_HUNDREDTH = 2;
const FIRST_SOLO = 3;

/** The ids of one workload: rooms are cached (few), users are computed on demand. */
class Ids {
  readonly #spec: WorkloadSpec;
  readonly #rooms: string[] = [];

  constructor(spec: WorkloadSpec) {
    this.#spec = spec;
  }

  room(r: number): string {
    let id = this.#rooms[r];
    if (id === undefined) {
      const h = hash(this.#spec.seed, 0x2007, r);
      id = this.#rooms[r] = `!${letters(h, 18)}:${SERVERS[h % SERVERS.length]}`;
    }
    return id;
  }

  /** User 0 is the bot, 1 and 2 the hub users, then one solo user per room, then the pool. */
  user(u: number): string {
    if (u === 0) return BOT_USER_ID;
    if (u === HUB_TENTH) return '@hub-every-10th:bench.example';
    if (u === HUB_HUNDREDTH) return '@hub-every-100th:bench.example';
    const h = hash(this.#spec.seed, 0x05e7, u);
    const tag = u < FIRST_SOLO + this.#spec.rooms ? 'solo' : '';
    return `@${tag}${word(h, 2 + (h % 3))}${u}:${SERVERS[(h >>> 8) % SERVERS.length]}`;
  }

  displayName(u: number, version: number): string {
    const h = hash(this.#spec.seed, 0xd15, u, version);
    const first = word(h, 2);
    return `${first[0]!.toUpperCase()}${first.slice(1)} ${word(h >>> 4, 3)}`;
  }
}

function firstPoolUser(spec: WorkloadSpec): number {
  return FIRST_SOLO + spec.rooms;
}

function roomSize(spec: WorkloadSpec, r: number): number {
  return spec.roomSizes[r] ?? spec.membersPerRoom;
}

/** The initial members of room `r` (user indices), the bot first. Deterministic. */
function initialMembers(spec: WorkloadSpec, r: number): number[] {
  const size = roomSize(spec, r);
  const members = [0, FIRST_SOLO + r];
  if (r % 10 === 0) members.push(HUB_TENTH);
  if (r % 100 === 0) members.push(HUB_HUNDREDTH);
  const taken = new Set(members);
  const rng = new Rng(hash(spec.seed, 0x3e3b, r));
  const pool = firstPoolUser(spec);
  while (members.length < size) {
    // u^1.5 skews picks towards low indices: a few users are in hundreds of rooms, most in few.
    const x = rng.next();
    const u = pool + Math.floor(spec.userPool * x * Math.sqrt(x));
    if (taken.has(u)) continue;
    taken.add(u);
    members.push(u);
  }
  return members;
}

/** Users and rooms with known sizes, for the query benchmarks. */
export interface QueryTargets {
  userIn1Room: string;
  userInTenthOfRooms: string;
  userInHundredthOfRooms: string;
  roomsOfTenth: number;
  roomsOfHundredth: number;
  /** Room ids with their member counts, largest first. */
  rooms: { roomId: string; members: number }[];
}

export function queryTargets(spec: WorkloadSpec): QueryTargets {
  const ids = new Ids(spec);
  return {
    userIn1Room: ids.user(FIRST_SOLO + 3),
    userInTenthOfRooms: ids.user(HUB_TENTH),
    userInHundredthOfRooms: ids.user(HUB_HUNDREDTH),
    roomsOfTenth: Math.ceil(spec.rooms / 10),
    roomsOfHundredth: Math.ceil(spec.rooms / 100),
    rooms: spec.roomSizes.map((_, r) => ({ roomId: ids.room(r), members: roomSize(spec, r) })),
  };
}

/** The id of room `r` of a workload. */
export function roomIdOf(spec: WorkloadSpec, r: number): string {
  return new Ids(spec).room(r);
}

// --- events ----------------------------------------------------------------------------------

const TS0 = 1_700_000_000_000;

class Events {
  readonly ids: Ids;
  readonly #seed: number;

  constructor(spec: WorkloadSpec) {
    this.ids = new Ids(spec);
    this.#seed = spec.seed;
  }

  #base(r: number, serial: number, type: string, sender: number, content: RawEvent, stateKey?: string): RawEvent {
    const e: RawEvent = {
      type,
      sender: this.ids.user(sender),
      content,
      event_id: eventId(this.#seed, r, serial),
      origin_server_ts: TS0 + r * 1_000 + serial,
      unsigned: { age: 1_234 },
    };
    if (stateKey !== undefined) e.state_key = stateKey;
    return e;
  }

  member(r: number, serial: number, u: number, membership: string, opts: { sender?: number; version?: number; prev?: RawEvent } = {}): RawEvent {
    const content: RawEvent = { membership };
    if (membership === 'join') {
      content.displayname = u === 0 ? 'roomkeeper' : this.ids.displayName(u, opts.version ?? 0);
      if (u % 2 === 1) content.avatar_url = `mxc://${SERVERS[u % SERVERS.length]}/${letters(u, 24)}`;
    }
    const e = this.#base(r, serial, 'm.room.member', opts.sender ?? u, content, this.ids.user(u));
    if (opts.prev !== undefined) (e.unsigned as RawEvent).prev_content = opts.prev;
    return e;
  }

  state(r: number, serial: number, type: string, sender: number, content: RawEvent): RawEvent {
    return this.#base(r, serial, type, sender, content, '');
  }

  message(r: number, serial: number, sender: number, body: string): RawEvent {
    return this.#base(r, serial, 'm.room.message', sender, { msgtype: 'm.text', body });
  }

  roomName(r: number, version: number): string {
    return `${word(hash(this.#seed, 0x4a3e, r, version), 3)} ${version > 0 ? `v${version}` : 'lounge'}`;
  }
}

/** A room's current state as the generator tracks it for churn. */
interface RoomState {
  r: number;
  serial: number;
  /** Latest state event per `type \0 state_key`, in first-seen order. */
  state: Map<string, RawEvent>;
  members: number[];
  position: Map<number, number>;
  nameVersion: number;
  joined: boolean;
}

function stateKeyOf(e: RawEvent): string {
  return `${e.type as string}\0${e.state_key as string}`;
}

/** The state block and timeline of the bot's first join to room `r`. */
function initialRoom(ev: Events, spec: WorkloadSpec, r: number): { state: RawEvent[]; timeline: RawEvent[] } {
  const members = initialMembers(spec, r);
  const creator = members[1]!;
  let serial = 0;
  const state: RawEvent[] = [
    ev.state(r, serial++, 'm.room.create', creator, { creator: ev.ids.user(creator), room_version: '10' }),
    ev.state(r, serial++, 'm.room.power_levels', creator, { users: { [ev.ids.user(creator)]: 100 }, users_default: 0, events_default: 0, state_default: 50 }),
    ev.state(r, serial++, 'm.room.join_rules', creator, { join_rule: r % 4 === 0 ? 'invite' : 'public' }),
    ev.state(r, serial++, 'm.room.history_visibility', creator, { history_visibility: 'shared' }),
    ev.state(r, serial++, 'm.room.name', creator, { name: ev.roomName(r, 0) }),
  ];
  if (r % 2 === 0) state.push(ev.state(r, serial++, 'm.room.topic', creator, { topic: `Room ${r}: ${ev.roomName(r, 1)} and more` }));
  if (r % 3 === 0) state.push(ev.state(r, serial++, 'm.room.encryption', creator, { algorithm: 'm.megolm.v1.aes-sha2' }));
  for (const u of members) {
    if (u !== 0) state.push(ev.member(r, serial++, u, 'join'));
  }
  const timeline = [
    ev.member(r, serial++, 0, 'join', { sender: 0, prev: { membership: 'invite' } }),
    ev.message(r, serial++, creator, 'welcome, roomkeeper'),
  ];
  return { state, timeline };
}

function countMembers(events: readonly RawEvent[]): number {
  let n = 0;
  for (const e of events) if (e.type === 'm.room.member') n++;
  return n;
}

function joinedRoom(state: RawEvent[], timeline: RawEvent[], limited: boolean): RawEvent {
  return { state: { events: state }, timeline: { events: timeline, limited, prev_batch: 'p0' }, ephemeral: { events: [] }, account_data: { events: [] } };
}

/** The bot is joined to every room of the spec, `roomsPerResponse` rooms per response. */
export function* initialStream(spec: WorkloadSpec): Generator<Delivery> {
  const ev = new Events(spec);
  let n = 0;
  for (let first = 0; first < spec.rooms; first += spec.roomsPerResponse) {
    const join: Record<string, RawEvent> = {};
    let events = 0;
    let memberEvents = 0;
    for (let r = first; r < Math.min(spec.rooms, first + spec.roomsPerResponse); r++) {
      const { state, timeline } = initialRoom(ev, spec, r);
      join[ev.ids.room(r)] = joinedRoom(state, timeline, true);
      events += state.length + timeline.length;
      memberEvents += countMembers(state) + countMembers(timeline);
    }
    yield { body: { next_batch: `s_init_${++n}`, rooms: { join, invite: {}, leave: {} }, account_data: { events: [] } }, events, memberEvents };
  }
}

/** Totals of the initial stream, without generating it. */
export function initialTotals(spec: WorkloadSpec): { events: number; memberEvents: number; responses: number } {
  let events = 0;
  let memberEvents = 0;
  for (let r = 0; r < spec.rooms; r++) {
    const size = roomSize(spec, r);
    memberEvents += size;
    events += size + 5 + (r % 2 === 0 ? 1 : 0) + (r % 3 === 0 ? 1 : 0) + 1;
  }
  return { events, memberEvents, responses: Math.ceil(spec.rooms / spec.roomsPerResponse) };
}

export interface ChurnOptions {
  responses: number;
  roomsPerResponse: number;
  eventsPerRoom: number;
  /** Every this many responses the bot is kicked from a room and re-invited a few responses later. */
  kickEvery: number;
  /** Distinguishes independent churn streams over the same rooms. */
  stream: number;
}

/**
 * Incremental syncs after the initial stream: joins of new users (35%), leaves (30%), display
 * name changes (20%), room renames (5%) and messages (10%), plus now and then the bot kicked
 * from a room and re-joined (its full state resent: a snapshot over events the guard has seen).
 */
export function* churnStream(spec: WorkloadSpec, opts: ChurnOptions): Generator<Delivery> {
  const ev = new Events(spec);
  const rng = new Rng(hash(spec.seed, 0xc4a7, opts.stream));
  const rooms = new Map<number, RoomState>();
  const kicked: { r: number; rejoinAt: number }[] = [];
  const protectedUsers = (r: number) => (u: number) => u === 0 || u === HUB_TENTH || u === HUB_HUNDREDTH || u === FIRST_SOLO + r;
  const pool = firstPoolUser(spec);
  // Serial numbers of churn events start above any initial room's, so ids never collide.
  const serialBase = 10_000_000 + opts.stream * 1_000_000;

  const touch = (r: number): RoomState => {
    let s = rooms.get(r);
    if (s === undefined) {
      const { state, timeline } = opts.kickEvery > 0 ? initialRoom(ev, spec, r) : { state: [], timeline: [] };
      const members = initialMembers(spec, r);
      s = { r, serial: serialBase, state: new Map(), members, position: new Map(members.map((u, i) => [u, i])), nameVersion: 0, joined: true };
      // The room's full state is needed only to resend it when the bot re-joins after a kick.
      if (opts.kickEvery > 0) for (const e of [...state, ...timeline]) if (e.state_key !== undefined) s.state.set(stateKeyOf(e), e);
      rooms.set(r, s);
    }
    return s;
  };
  const setState = (s: RoomState, e: RawEvent) => {
    const k = stateKeyOf(e);
    s.state.delete(k);
    s.state.set(k, e);
  };
  const addMember = (s: RoomState, u: number) => {
    s.position.set(u, s.members.length);
    s.members.push(u);
  };
  const removeMember = (s: RoomState, u: number) => {
    const i = s.position.get(u)!;
    const last = s.members.pop()!;
    if (last !== u) {
      s.members[i] = last;
      s.position.set(last, i);
    }
    s.position.delete(u);
  };

  for (let n = 1; n <= opts.responses; n++) {
    const join: Record<string, RawEvent> = {};
    const leave: Record<string, RawEvent> = {};
    let events = 0;
    let memberEvents = 0;

    for (const k of kicked.filter((k) => k.rejoinAt === n)) {
      const s = rooms.get(k.r)!;
      const bot = ev.member(k.r, s.serial++, 0, 'join', { sender: 0, prev: { membership: 'leave' } });
      const state = [...s.state.values()].filter((e) => !(e.type === 'm.room.member' && e.state_key === BOT_USER_ID));
      setState(s, bot);
      addMember(s, 0);
      s.joined = true;
      join[ev.ids.room(k.r)] = joinedRoom(state, [bot], true);
      events += state.length + 1;
      memberEvents += countMembers(state) + 1;
    }

    const used = new Set<number>();
    while (used.size < opts.roomsPerResponse) {
      const r = rng.int(spec.rooms);
      if (used.has(r) || rooms.get(r)?.joined === false) continue;
      used.add(r);
      const s = touch(r);
      const roomId = ev.ids.room(r);
      if (opts.kickEvery > 0 && n % opts.kickEvery === 0 && used.size === 1) {
        const kicker = s.members.find((u) => u !== 0)!;
        const e = ev.member(r, s.serial++, 0, 'leave', { sender: kicker, prev: { membership: 'join' } });
        setState(s, e);
        removeMember(s, 0);
        s.joined = false;
        kicked.push({ r, rejoinAt: n + 3 });
        leave[roomId] = joinedRoom([], [e], false);
        events += 1;
        memberEvents += 1;
        continue;
      }
      const timeline: RawEvent[] = [];
      const isProtected = protectedUsers(r);
      for (let i = 0; i < opts.eventsPerRoom; i++) {
        const x = rng.next();
        if (x < 0.35) {
          let u: number;
          do u = pool + rng.int(spec.userPool * 2);
          while (s.position.has(u));
          const prevEvent = s.state.get(`m.room.member\0${ev.ids.user(u)}`);
          const e = ev.member(r, s.serial++, u, 'join', { prev: prevEvent === undefined ? undefined : { membership: 'leave' } });
          setState(s, e);
          addMember(s, u);
          timeline.push(e);
        } else if (x < 0.85) {
          const candidates = s.members.length;
          let u = s.members[rng.int(candidates)]!;
          for (let tries = 0; isProtected(u) && tries < 8; tries++) u = s.members[rng.int(candidates)]!;
          if (isProtected(u)) continue;
          const e =
            x < 0.65
              ? ev.member(r, s.serial++, u, 'leave', { prev: { membership: 'join' } })
              : ev.member(r, s.serial++, u, 'join', { version: s.serial, prev: { membership: 'join' } });
          setState(s, e);
          if (x < 0.65) removeMember(s, u);
          timeline.push(e);
        } else if (x < 0.9) {
          const e = ev.state(r, s.serial++, 'm.room.name', s.members[1] ?? 0, { name: ev.roomName(r, ++s.nameVersion) });
          setState(s, e);
          timeline.push(e);
        } else {
          timeline.push(ev.message(r, s.serial++, s.members[1] ?? 0, `message ${s.serial}`));
        }
      }
      join[roomId] = joinedRoom([], timeline, false);
      events += timeline.length;
      memberEvents += countMembers(timeline);
    }
    yield { body: { next_batch: `s_churn${opts.stream}_${n}`, rooms: { join, invite: {}, leave }, account_data: { events: [] } }, events, memberEvents };
  }
}

/**
 * Duplicate-heavy re-delivery: each response re-sends the previous `window - 1` responses of
 * `source` along with a new one (as a client that keeps losing its sync token would see), so
 * about (window - 1) / window of the events are duplicates. Use a source without kicks: a merged
 * window could put a rejoin's snapshot before older timeline events of the same room.
 */
export function* redeliveryStream(source: Iterable<Delivery>, window: number): Generator<Delivery> {
  const recent: Delivery[] = [];
  for (const d of source) {
    recent.push(d);
    if (recent.length > window) recent.shift();
    const join: Record<string, { state: { events: RawEvent[] }; timeline: { events: RawEvent[]; limited: boolean } }> = {};
    const leave: typeof join = {};
    let events = 0;
    let memberEvents = 0;
    for (const old of recent) {
      const rooms = old.body.rooms as { join: Record<string, RawEvent>; leave: Record<string, RawEvent> };
      for (const [section, target] of [[rooms.join, join], [rooms.leave, leave]] as const) {
        for (const [roomId, room] of Object.entries(section)) {
          const state = (room.state as { events: RawEvent[] }).events;
          const timeline = (room.timeline as { events: RawEvent[] }).events;
          const into = (target[roomId] ??= { state: { events: [] }, timeline: { events: [], limited: true } });
          into.state.events.push(...state);
          into.timeline.events.push(...timeline);
        }
      }
      events += old.events;
      memberEvents += old.memberEvents;
    }
    yield { body: { next_batch: d.body.next_batch, rooms: { join, leave, invite: {} } }, events, memberEvents };
  }
}
