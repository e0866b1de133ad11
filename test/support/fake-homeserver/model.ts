/**
 * The in-memory world of the fake homeserver: rooms, their events in one global stream, account
 * data, profiles. It enforces the membership rules a test could break by mistake (joining while
 * banned, sending while not joined) by throwing `MatrixRuleError`, which the HTTP layer turns into
 * the status and errcode a real server would send. It knows nothing about HTTP.
 */

/** A JSON object as it travels over the wire. */
export type JsonObject = Record<string, unknown>;

/** A membership value of `m.room.member` (Matrix spec, client-server API, "Room membership"). */
export type Membership = 'invite' | 'join' | 'knock' | 'leave' | 'ban';

/** One event of a room, at its place in the global stream. */
export interface StoredEvent {
  /** Stream position: every room event and account data change takes the next one. */
  readonly pos: number;
  readonly roomId: string;
  /** The event as a client sees it in /sync (no `room_id`), including `unsigned.prev_content`. */
  readonly event: JsonObject;
  readonly type: string | undefined;
  /** Defined for state events only. */
  readonly stateKey: string | undefined;
  /** Set when the event came from `PUT .../send/{type}/{txnId}`, to echo `unsigned.transaction_id`. */
  readonly txn?: { readonly token: string; readonly txnId: string };
  /** Set for `sendRawEvent` of a value that is not a JSON object: served exactly as given. */
  readonly verbatim?: { readonly value: unknown };
}

/** A room: its events in stream order and its current state. */
export interface RoomRecord {
  readonly roomId: string;
  readonly events: StoredEvent[];
  /** Current state, keyed by `stateKeyOf(type, stateKey)`. */
  readonly state: Map<string, StoredEvent>;
  /** Every `m.room.member` event of each user, in stream order. */
  readonly memberHistory: Map<string, StoredEvent[]>;
}

/** An account data entry of a user and the stream position of its last change. */
export interface AccountDataEntry {
  readonly content: JsonObject;
  readonly pos: number;
}

/** A failure a real homeserver reports with an HTTP status and a Matrix errcode. */
export class MatrixRuleError extends Error {
  override readonly name = 'MatrixRuleError';
  readonly status: number;
  readonly errcode: string;

  constructor(status: number, errcode: string, message: string) {
    super(message);
    this.status = status;
    this.errcode = errcode;
  }
}

/** Options of `createRoom`. */
export interface CreateRoomOptions {
  name?: string;
  /** A full alias (`#room:fake.test`): set as canonical alias and registered in the directory. */
  alias?: string;
  topic?: string;
  encrypted?: boolean;
  /** Invites (below) are flagged `is_direct`, as `createRoom` with `is_direct: true` does. */
  isDirect?: boolean;
  joinRule?: 'invite' | 'public' | 'knock';
  invite?: readonly string[];
}

/** A controllable clock for `origin_server_ts`: it only moves when a test moves it. */
export class FakeClock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  /** The current time in ms since the epoch. */
  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }

  /** Sets the clock to `ms`. */
  set(ms: number): void {
    this.#now = ms;
  }
}

/** The key of a piece of room state. */
export function stateKeyOf(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

/** The membership carried by a member event, or undefined when its content is malformed. */
export function membershipOf(ev: StoredEvent | undefined): Membership | undefined {
  const content = ev?.event['content'];
  if (typeof content !== 'object' || content === null) return undefined;
  const m = (content as JsonObject)['membership'];
  return m === 'invite' || m === 'join' || m === 'knock' || m === 'leave' || m === 'ban' ? m : undefined;
}

/** The state of a room as of stream position `pos` (inclusive), keyed like `RoomRecord.state`. */
export function stateAt(room: RoomRecord, pos: number): Map<string, StoredEvent> {
  const state = new Map<string, StoredEvent>();
  for (const ev of room.events) {
    if (ev.pos > pos) break;
    if (ev.type !== undefined && ev.stateKey !== undefined) state.set(stateKeyOf(ev.type, ev.stateKey), ev);
  }
  return state;
}

/** The `m.room.member` event of `userId` in force at stream position `pos` (inclusive). */
export function memberEventAt(room: RoomRecord, userId: string, pos: number): StoredEvent | undefined {
  const history = room.memberHistory.get(userId) ?? [];
  for (let i = history.length - 1; i >= 0; i--) {
    const ev = history[i]!;
    if (ev.pos <= pos) return ev;
  }
  return undefined;
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The rooms, events and account data of the fake homeserver, with story verbs
 * ("alice creates a room and invites the bot") that append events as a real server would.
 */
export class FakeMatrixModel {
  readonly serverName: string;
  readonly clock: FakeClock;
  readonly #rooms = new Map<string, RoomRecord>();
  readonly #aliases = new Map<string, string>();
  readonly #accountData = new Map<string, Map<string, AccountDataEntry>>();
  readonly #displayNames = new Map<string, string>();
  readonly #knownUsers = new Set<string>();
  readonly #changeListeners = new Set<() => void>();
  #pos = 0;
  #roomCounter = 0;

  constructor(serverName: string, clockStart: number) {
    this.serverName = serverName;
    this.clock = new FakeClock(clockStart);
  }

  /** The current stream position: the position of the latest event or account data change. */
  get position(): number {
    return this.#pos;
  }

  /** `@localpart:serverName`. */
  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** Calls `listener` after every change of the model; returns a function that unsubscribes. */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** All rooms, in creation order. */
  rooms(): Iterable<RoomRecord> {
    return this.#rooms.values();
  }

  /** The room with this id; throws `M_NOT_FOUND` when there is none. */
  room(roomId: string): RoomRecord {
    const room = this.#rooms.get(roomId);
    if (room === undefined) throw new MatrixRuleError(404, 'M_NOT_FOUND', `unknown room ${roomId}`);
    return room;
  }

  /** True when the room exists. */
  hasRoom(roomId: string): boolean {
    return this.#rooms.has(roomId);
  }

  /** The room an alias points to, if any. */
  resolveAlias(alias: string): string | undefined {
    return this.#aliases.get(alias);
  }

  /** True when the user has appeared anywhere (creator, member, invitee, token holder). */
  isKnownUser(userId: string): boolean {
    return this.#knownUsers.has(userId);
  }

  /** Records a user as existing, so /profile answers for them. */
  registerUser(userId: string): void {
    this.#knownUsers.add(userId);
  }

  /** Sets the global display name used in the user's future join events and in /profile. */
  setProfile(userId: string, profile: { displayName?: string }): void {
    this.registerUser(userId);
    if (profile.displayName === undefined) this.#displayNames.delete(userId);
    else this.#displayNames.set(userId, profile.displayName);
  }

  /** The global display name of a user, if set. */
  displayNameOf(userId: string): string | undefined {
    return this.#displayNames.get(userId);
  }

  /** The user's current membership in the room, if they ever had one. */
  membership(roomId: string, userId: string): Membership | undefined {
    return membershipOf(this.room(roomId).state.get(stateKeyOf('m.room.member', userId)));
  }

  /** The rooms the user is joined to now. */
  joinedRooms(userId: string): string[] {
    const joined: string[] = [];
    for (const room of this.#rooms.values()) {
      if (membershipOf(room.state.get(stateKeyOf('m.room.member', userId))) === 'join') joined.push(room.roomId);
    }
    return joined;
  }

  /** The user's global account data (type → entry). */
  accountDataOf(userId: string): ReadonlyMap<string, AccountDataEntry> {
    return this.#accountData.get(userId) ?? new Map<string, AccountDataEntry>();
  }

  /** Sets a global account data entry of a user, as `PUT /user/{userId}/account_data/{type}` does. */
  setAccountData(userId: string, type: string, content: JsonObject): void {
    let entries = this.#accountData.get(userId);
    if (entries === undefined) {
      entries = new Map();
      this.#accountData.set(userId, entries);
    }
    entries.set(type, { content: structuredClone(content), pos: ++this.#pos });
    this.#changed();
  }

  /** Sets the user's `m.direct` account data: peer user id → DM room ids. */
  setDirect(userId: string, direct: Record<string, readonly string[]>): void {
    this.setAccountData(userId, 'm.direct', structuredClone(direct));
  }

  /**
   * Creates a room as a real server's `createRoom` does: m.room.create, the creator's join,
   * power levels, join rules, history visibility, then name, alias, topic and encryption as asked,
   * then the invites. Returns the new room id.
   */
  createRoom(creator: string, opts: CreateRoomOptions = {}): string {
    const roomId = `!room${++this.#roomCounter}:${this.serverName}`;
    this.#rooms.set(roomId, { roomId, events: [], state: new Map(), memberHistory: new Map() });
    this.registerUser(creator);
    this.#appendState(roomId, creator, 'm.room.create', '', { creator, room_version: '10' });
    this.#appendState(roomId, creator, 'm.room.member', creator, this.#joinContent(creator, undefined));
    this.#appendState(roomId, creator, 'm.room.power_levels', '', {
      users: { [creator]: 100 },
      users_default: 0,
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    });
    this.#appendState(roomId, creator, 'm.room.join_rules', '', { join_rule: opts.joinRule ?? 'invite' });
    this.#appendState(roomId, creator, 'm.room.history_visibility', '', { history_visibility: 'shared' });
    if (opts.name !== undefined) this.#appendState(roomId, creator, 'm.room.name', '', { name: opts.name });
    if (opts.alias !== undefined) this.setAlias(roomId, creator, opts.alias);
    if (opts.topic !== undefined) this.#appendState(roomId, creator, 'm.room.topic', '', { topic: opts.topic });
    if (opts.encrypted === true) {
      this.#appendState(roomId, creator, 'm.room.encryption', '', { algorithm: 'm.megolm.v1.aes-sha2' });
    }
    for (const invitee of opts.invite ?? []) {
      this.invite(roomId, creator, invitee, { isDirect: opts.isDirect === true });
    }
    return roomId;
  }

  /** `by` invites `userId`; the invite carries `is_direct` when asked. */
  invite(roomId: string, by: string, userId: string, opts: { isDirect?: boolean } = {}): StoredEvent {
    this.#requireJoined(roomId, by, 'invite');
    const current = this.#currentMembership(roomId, userId);
    if (current === 'join' || current === 'ban') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is ${current === 'join' ? 'already in the room' : 'banned'}`);
    }
    const content: JsonObject = { membership: 'invite' };
    if (opts.isDirect === true) content['is_direct'] = true;
    const displayName = this.#displayNames.get(userId);
    if (displayName !== undefined) content['displayname'] = displayName;
    return this.#appendState(roomId, by, 'm.room.member', userId, content);
  }

  /**
   * `userId` joins: allowed when invited, already joined (a profile change), or the room is public.
   * The display name defaults to the user's global one.
   */
  join(roomId: string, userId: string, opts: { displayName?: string } = {}): StoredEvent {
    const current = this.#currentMembership(roomId, userId);
    if (current === 'ban') throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is banned from ${roomId}`);
    const joinRule = this.#stateContent(roomId, 'm.room.join_rules', '')['join_rule'];
    if (current !== 'invite' && current !== 'join' && joinRule !== 'public') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is not invited to ${roomId}`);
    }
    return this.#appendState(roomId, userId, 'm.room.member', userId, this.#joinContent(userId, opts.displayName));
  }

  /** `userId` leaves, or rejects an invite, or withdraws a knock. */
  leave(roomId: string, userId: string, opts: { reason?: string } = {}): StoredEvent {
    const current = this.#currentMembership(roomId, userId);
    if (current !== 'join' && current !== 'invite' && current !== 'knock') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is not in ${roomId}`);
    }
    return this.#appendState(roomId, userId, 'm.room.member', userId, withReason({ membership: 'leave' }, opts.reason));
  }

  /** `by` kicks `userId` (or withdraws their invite, or refuses their knock). */
  kick(roomId: string, by: string, userId: string, opts: { reason?: string } = {}): StoredEvent {
    this.#requireJoined(roomId, by, 'kick');
    const current = this.#currentMembership(roomId, userId);
    if (current !== 'join' && current !== 'invite' && current !== 'knock') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is not in ${roomId}`);
    }
    return this.#appendState(roomId, by, 'm.room.member', userId, withReason({ membership: 'leave' }, opts.reason));
  }

  /** `by` bans `userId`, whatever their membership. */
  ban(roomId: string, by: string, userId: string, opts: { reason?: string } = {}): StoredEvent {
    this.#requireJoined(roomId, by, 'ban');
    this.registerUser(userId);
    return this.#appendState(roomId, by, 'm.room.member', userId, withReason({ membership: 'ban' }, opts.reason));
  }

  /** `by` lifts the ban of `userId` (their membership becomes `leave`). */
  unban(roomId: string, by: string, userId: string): StoredEvent {
    this.#requireJoined(roomId, by, 'unban');
    if (this.#currentMembership(roomId, userId) !== 'ban') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} is not banned from ${roomId}`);
    }
    return this.#appendState(roomId, by, 'm.room.member', userId, { membership: 'leave' });
  }

  /** `userId` knocks on the room. */
  knock(roomId: string, userId: string, opts: { reason?: string } = {}): StoredEvent {
    const current = this.#currentMembership(roomId, userId);
    if (current === 'join' || current === 'invite' || current === 'ban') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} cannot knock: membership is ${current}`);
    }
    return this.#appendState(roomId, userId, 'm.room.member', userId, withReason({ membership: 'knock' }, opts.reason));
  }

  /** A joined user changes their display name in this room (a join → join member event). */
  setDisplayName(roomId: string, userId: string, displayName: string): StoredEvent {
    this.#requireJoined(roomId, userId, 'change their display name');
    const previous = this.#stateContent(roomId, 'm.room.member', userId);
    return this.#appendState(roomId, userId, 'm.room.member', userId, { ...previous, displayname: displayName });
  }

  /** Sets `m.room.name`. */
  setName(roomId: string, by: string, name: string): StoredEvent {
    return this.sendStateEvent(roomId, by, 'm.room.name', '', { name });
  }

  /** Sets `m.room.topic`. */
  setTopic(roomId: string, by: string, topic: string): StoredEvent {
    return this.sendStateEvent(roomId, by, 'm.room.topic', '', { topic });
  }

  /** Sets `m.room.canonical_alias` and points the alias at the room in the directory. */
  setAlias(roomId: string, by: string, alias: string): StoredEvent {
    const previous = this.#stateContent(roomId, 'm.room.canonical_alias', '')['alias'];
    if (typeof previous === 'string') this.#aliases.delete(previous);
    this.#aliases.set(alias, roomId);
    return this.sendStateEvent(roomId, by, 'm.room.canonical_alias', '', { alias });
  }

  /** A joined user sends any state event. */
  sendStateEvent(roomId: string, by: string, type: string, stateKey: string, content: JsonObject): StoredEvent {
    this.#requireJoined(roomId, by, `send ${type}`);
    return this.#appendState(roomId, by, type, stateKey, content);
  }

  /** A joined user sends an `m.text` message; `extraContent` is merged into the content. */
  sendMessage(roomId: string, sender: string, body: string, extraContent: JsonObject = {}): StoredEvent {
    return this.sendEvent(roomId, sender, 'm.room.message', { msgtype: 'm.text', body, ...extraContent });
  }

  /** A joined user sends any non-state event. */
  sendEvent(roomId: string, sender: string, type: string, content: JsonObject, txn?: StoredEvent['txn']): StoredEvent {
    this.#requireJoined(roomId, sender, `send ${type}`);
    return this.#append(roomId, { type, sender, content: structuredClone(content) }, txn);
  }

  /**
   * Appends `json` to the room's timeline exactly as given (no event id is added), to inject
   * malformed events. It counts as state when it has a string `type` and a string `state_key`.
   */
  sendRawEvent(roomId: string, json: unknown): StoredEvent {
    this.room(roomId);
    const pos = ++this.#pos;
    if (!isJsonObject(json)) {
      return this.#store({ pos, roomId, event: {}, type: undefined, stateKey: undefined, verbatim: { value: structuredClone(json) } });
    }
    const event = structuredClone(json);
    const type = typeof event['type'] === 'string' ? event['type'] : undefined;
    const stateKey = typeof event['state_key'] === 'string' ? event['state_key'] : undefined;
    return this.#store({ pos, roomId, event, type, stateKey });
  }

  /** The stored event with this id in the room, if any. */
  findEvent(roomId: string, eventId: string): StoredEvent | undefined {
    return this.room(roomId).events.find((e) => e.event['event_id'] === eventId);
  }

  #joinContent(userId: string, displayName: string | undefined): JsonObject {
    const name = displayName ?? this.#displayNames.get(userId);
    return name === undefined ? { membership: 'join' } : { membership: 'join', displayname: name };
  }

  #currentMembership(roomId: string, userId: string): Membership | undefined {
    return membershipOf(this.room(roomId).state.get(stateKeyOf('m.room.member', userId)));
  }

  #stateContent(roomId: string, type: string, stateKey: string): JsonObject {
    const content = this.room(roomId).state.get(stateKeyOf(type, stateKey))?.event['content'];
    return isJsonObject(content) ? content : {};
  }

  #requireJoined(roomId: string, userId: string, action: string): void {
    if (this.#currentMembership(roomId, userId) !== 'join') {
      throw new MatrixRuleError(403, 'M_FORBIDDEN', `${userId} must be joined to ${roomId} to ${action}`);
    }
  }

  #appendState(roomId: string, sender: string, type: string, stateKey: string, content: JsonObject): StoredEvent {
    if (type === 'm.room.member') this.registerUser(stateKey);
    return this.#append(roomId, { type, state_key: stateKey, sender, content: structuredClone(content) });
  }

  #append(roomId: string, partial: JsonObject, txn?: StoredEvent['txn']): StoredEvent {
    const room = this.room(roomId);
    const pos = ++this.#pos;
    const type = partial['type'] as string;
    const stateKey = partial['state_key'] as string | undefined;
    const event: JsonObject = {
      ...partial,
      event_id: `$${pos}-${this.serverName}`,
      origin_server_ts: this.clock.now(),
    };
    if (stateKey !== undefined) {
      // A real server tells clients what a state event replaced (spec: "unsigned.prev_content").
      const previous = room.state.get(stateKeyOf(type, stateKey));
      if (previous !== undefined) {
        event['unsigned'] = { prev_content: structuredClone(previous.event['content']), replaces_state: previous.event['event_id'] };
      }
    }
    return this.#store(txn === undefined ? { pos, roomId, event, type, stateKey } : { pos, roomId, event, type, stateKey, txn });
  }

  #store(ev: StoredEvent): StoredEvent {
    const room = this.room(ev.roomId);
    room.events.push(ev);
    if (ev.type !== undefined && ev.stateKey !== undefined) {
      room.state.set(stateKeyOf(ev.type, ev.stateKey), ev);
      if (ev.type === 'm.room.member') {
        const history = room.memberHistory.get(ev.stateKey) ?? [];
        history.push(ev);
        room.memberHistory.set(ev.stateKey, history);
      }
    }
    this.#changed();
    return ev;
  }

  #changed(): void {
    for (const listener of this.#changeListeners) listener();
  }
}

function withReason(content: JsonObject, reason: string | undefined): JsonObject {
  return reason === undefined ? content : { ...content, reason };
}
