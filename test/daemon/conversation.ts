import type { JsonObject } from '../support/fake-homeserver.js';
import type { Harness } from './harness.js';

/** A reply of the bot as the user sees it. */
export interface BotReply {
  body: string;
  html: string;
  msgtype: unknown;
}

/** Options of `Conversation.room`. */
export interface GroupRoomOptions {
  name?: string;
  alias?: string;
  topic?: string;
  /** Users invited and joined after the bot, besides the creator. */
  members?: readonly string[];
}

const WAIT_MS = 10_000;

function asReply(event: JsonObject): BotReply {
  const content = (event['content'] ?? {}) as JsonObject;
  return { body: String(content['body']), html: String(content['formatted_body']), msgtype: content['msgtype'] };
}

/**
 * Conversations with a running daemon through the fake homeserver: users, DMs, group rooms, and
 * asking the bot things. Each test takes fresh users (`alice1`, `alice2`, …), so tests that share
 * one daemon share no rooms, no DMs and no rate-limit windows.
 */
export class Conversation {
  readonly #h: Harness;
  readonly #dms = new Map<string, string>();
  static #counter = 0;

  constructor(h: Harness) {
    this.#h = h;
  }

  get hs() {
    return this.#h.hs;
  }

  get bot(): string {
    return this.#h.hs.botUserId;
  }

  /** A user no other test has used, with a display name when given. */
  user(name: string, displayName?: string): string {
    const id = this.hs.userId(`${name}${++Conversation.#counter}`);
    this.hs.registerUser(id);
    if (displayName !== undefined) this.hs.setProfile(id, { displayName });
    return id;
  }

  /** Several fresh users at once. */
  users<N extends string>(...names: N[]): Record<N, string> {
    return Object.fromEntries(names.map((n) => [n, this.user(n)])) as Record<N, string>;
  }

  /**
   * `user` opens a direct chat with the bot as clients do (createRoom with `is_direct`); resolves
   * with the room id once the bot has joined, recorded it in m.direct and committed it all.
   */
  async dm(user: string): Promise<string> {
    const room = this.hs.createRoom(user, { isDirect: true, invite: [this.bot] });
    await this.joined(room);
    await this.hs.waitFor(() => this.directRoomsOfBot().includes(room), WAIT_MS, `m.direct lists ${room}`);
    await this.#h.caughtUp();
    this.#dms.set(user, room);
    return room;
  }

  /** The DM `dm(user)` opened. */
  dmOf(user: string): string {
    const room = this.#dms.get(user);
    if (room === undefined) throw new TypeError(`${user} has no DM with the bot yet`);
    return room;
  }

  /** A group room made by `creator`, the bot invited (not as a DM), then `members` invited and joined. */
  async room(creator: string, opts: GroupRoomOptions = {}): Promise<string> {
    const room = this.hs.createRoom(creator, { name: opts.name, alias: opts.alias, topic: opts.topic, invite: [this.bot] });
    await this.joined(room);
    for (const m of opts.members ?? []) {
      this.hs.invite(room, creator, m);
      this.hs.join(room, m);
    }
    await this.#h.caughtUp();
    return room;
  }

  /** Waits until the bot has joined `room` on the server and the daemon has committed it. */
  async joined(room: string): Promise<void> {
    await this.hs.waitFor(() => this.hs.membership(room, this.bot) === 'join', WAIT_MS, `bot joined ${room}`);
    await this.#h.caughtUp();
  }

  /** Every room id in the bot's m.direct account data on the server. */
  directRoomsOfBot(): string[] {
    const content = this.hs.accountDataOf(this.bot).get('m.direct')?.content ?? {};
    return Object.values(content).flatMap((rooms) => (Array.isArray(rooms) ? (rooms as string[]) : []));
  }

  /** The timeline of `room` in each /sync response the bot got, in order. */
  timelinesOf(room: string): JsonObject[][] {
    const timelines: JsonObject[][] = [];
    for (const sync of this.hs.syncs) {
      if (sync.userId !== this.bot) continue;
      const joined = (sync.response?.['rooms'] as { join?: Record<string, { timeline?: { events?: JsonObject[] } }> } | undefined)?.join;
      const events = joined?.[room]?.timeline?.events;
      if (events !== undefined) timelines.push(events);
    }
    return timelines;
  }

  /** What the bot sent into `room` so far, as replies. */
  replies(room: string): BotReply[] {
    return this.hs.sent(room).map(asReply);
  }

  /**
   * `user` sends `body` (in their DM unless `room` is given); resolves with every message the bot
   * sent into that room in answer, once the daemon has committed the message and sent its replies.
   */
  async say(user: string, body: string | readonly string[], room = this.dmOf(user)): Promise<BotReply[]> {
    const before = this.hs.sent(room).length;
    for (const b of typeof body === 'string' ? [body] : body) this.hs.sendMessage(room, user, b);
    // Caught up means committed and answered.
    await this.#h.caughtUp();
    return this.replies(room).slice(before);
  }

  /** `user` sends `body` and gets exactly one reply, which this returns. */
  async ask(user: string, body: string, room = this.dmOf(user)): Promise<BotReply> {
    const before = this.hs.sent(room).length;
    this.hs.sendMessage(room, user, body);
    await this.hs.waitFor(() => this.hs.sent(room).length > before, WAIT_MS, `a reply to ${body}`);
    await this.#h.caughtUp();
    const got = this.replies(room).slice(before);
    if (got.length !== 1) throw new Error(`expected one reply to ${body}, got ${got.length}: ${JSON.stringify(got)}`);
    return got[0]!;
  }
}
