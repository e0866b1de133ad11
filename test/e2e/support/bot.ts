/**
 * roomkeeper run as users run it, against the real homeserver: `bin/roomkeeper.js run` with env
 * config and a temp data dir; `inspect --json` after a clean stop; the homeserver's own answer
 * (/joined_rooms, /joined_members, /state) as the truth to compare it with.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { runCli } from '../../support/cli.js';
import { expectedRoom, type ExpectedRoom, type StreamMember } from '../../support/sync-stream.js';
import { DaemonProcess } from '../../support/daemon-process.js';
import { TempDirs } from '../../support/temp-dir.js';
import { eventually, registerUser, type Json, type User } from './matrix.js';

/** What `roomkeeper inspect --json` prints (its documented shape, rooms and lists sorted by id). */
export interface InspectJson {
  rooms: ExpectedRoom[];
  users: { userId: string; rooms: string[] }[];
}

/** A reply of the bot as the asker's client shows it. */
export interface Reply {
  body: string;
  html: string;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function stateContent(state: Json[], type: string): Json | undefined {
  const ev = state.find((e) => e['type'] === type && e['state_key'] === '');
  const content = ev?.['content'];
  return typeof content === 'object' && content !== null && Object.keys(content).length > 0 ? (content as Json) : undefined;
}

function stringField(content: Json | undefined, key: string): string | null {
  const v = content?.[key];
  return typeof v === 'string' ? v : null;
}

/** The inspect document the homeserver's own answer implies for `bot`: its joined rooms now. */
export async function truthOf(bot: User): Promise<InspectJson> {
  const rooms: InspectJson['rooms'] = [];
  const usersRooms = new Map<string, string[]>();
  for (const roomId of (await bot.joinedRooms()).sort(byId)) {
    for (const m of await bot.joinedMembers(roomId)) usersRooms.set(m, [...(usersRooms.get(m) ?? []), roomId]);
    const state = await bot.state(roomId);
    const members: StreamMember[] = state
      .filter((e) => e['type'] === 'm.room.member' && typeof e['state_key'] === 'string')
      .map((e) => {
        const c = (e['content'] ?? {}) as Json;
        const name = typeof c['displayname'] === 'string' && c['displayname'] !== '' ? c['displayname'] : undefined;
        return { userId: e['state_key'] as string, membership: String(c['membership']), ...(name === undefined ? {} : { displayName: name }) };
      });
    const create = stateContent(state, 'm.room.create');
    const predecessor = (create?.['predecessor'] as Json | undefined)?.['room_id'];
    const successor = stateContent(state, 'm.room.tombstone')?.['replacement_room'];
    rooms.push(
      expectedRoom(
        roomId,
        {
          name: stringField(stateContent(state, 'm.room.name'), 'name'),
          canonicalAlias: stringField(stateContent(state, 'm.room.canonical_alias'), 'alias'),
          topic: stringField(stateContent(state, 'm.room.topic'), 'topic'),
          encrypted: stateContent(state, 'm.room.encryption') !== undefined,
          members,
          version: create === undefined ? null : (stringField(create, 'room_version') ?? '1'),
          predecessor: typeof predecessor === 'string' ? predecessor : null,
          successor: typeof successor === 'string' ? successor : null,
        },
        bot.userId,
      ),
    );
  }
  const users = [...usersRooms]
    .sort(([a], [b]) => byId(a, b))
    .map(([userId, rs]) => ({ userId, rooms: rs.sort(byId) }));
  return { rooms, users };
}

/** Options of `E2eBot.create`. */
export interface BotOptions {
  /** ROOMKEEPER_AUTO_JOIN; the default lets everyone invite the bot. */
  autoJoin?: string;
  /** ROOMKEEPER_ADMINS. */
  admins?: string[];
}

/**
 * One bot account with its own data dir, and the daemon processes run on it. `settle()` proves
 * the running daemon has committed everything the server had before the call: a watcher asks
 * `!help` in its DM, and the daemon answers only after committing the sync that held the question.
 */
export class E2eBot {
  readonly dirs = new TempDirs();
  daemon: DaemonProcess | undefined;
  readonly #extraEnv: Record<string, string>;
  #watcher: { user: User; room: string; asked: number[] } | undefined;
  #fixedWatcher: User | undefined;
  #dataDir = '';

  private constructor(
    readonly user: User,
    options: BotOptions,
  ) {
    this.#extraEnv = {
      ...(options.autoJoin === undefined ? {} : { ROOMKEEPER_AUTO_JOIN: options.autoJoin }),
      ...(options.admins === undefined ? {} : { ROOMKEEPER_ADMINS: options.admins.join(',') }),
    };
  }

  /**
   * A new bot account and an empty data dir. Under an allowlist the watcher is registered now and
   * allowed, and kept (not replaced) for the whole test.
   */
  static async create(options: BotOptions = {}): Promise<E2eBot> {
    const allowlist = options.autoJoin !== undefined && options.autoJoin !== 'all' && options.autoJoin !== 'none';
    const watcher = allowlist ? await registerUser('watcher') : undefined;
    const bot = new E2eBot(await registerUser('bot'), {
      ...options,
      ...(watcher === undefined ? {} : { autoJoin: `${options.autoJoin},${watcher.userId}` }),
    });
    bot.#fixedWatcher = watcher;
    bot.#dataDir = await bot.dirs.make('roomkeeper-e2e-');
    return bot;
  }

  get id(): string {
    return this.user.userId;
  }

  get dataDir(): string {
    return this.#dataDir;
  }

  /** The environment `roomkeeper run` gets. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ROOMKEEPER_HOMESERVER_URL: this.user.baseUrl,
      ROOMKEEPER_ACCESS_TOKEN: this.user.token,
      ROOMKEEPER_DATA_DIR: this.#dataDir,
      ROOMKEEPER_LOG_LEVEL: 'info',
      ...this.#extraEnv,
      ...extra,
    };
  }

  /** Starts `roomkeeper run`; resolves once its sync loop runs. */
  async start(extra: Record<string, string> = {}): Promise<DaemonProcess> {
    if (this.daemon !== undefined && this.daemon.result === undefined) throw new Error('the daemon already runs');
    const daemon = new DaemonProcess(this.env(extra));
    this.daemon = daemon;
    await eventually(
      () => {
        if (daemon.result !== undefined) throw new Error(`roomkeeper exited ${daemon.result.code}: ${daemon.result.stderr}`);
        return Promise.resolve(daemon.logs().some((l) => l.msg === 'sync started'));
      },
      'roomkeeper to start syncing',
      30_000,
    );
    return daemon;
  }

  /** SIGTERM; the daemon must exit 0 within 5 s. */
  async stop(): Promise<void> {
    const daemon = this.daemon;
    if (daemon === undefined) return;
    const r = await daemon.stop('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(5000);
  }

  /** SIGKILL, at whatever point the daemon is. */
  async kill(): Promise<void> {
    await this.daemon?.stop('SIGKILL');
  }

  /** `roomkeeper inspect --json` on the data dir (with the daemon stopped). */
  async inspect(): Promise<InspectJson> {
    const r = await runCli(['inspect', '--data-dir', this.#dataDir, '--json'], '', { env: {} });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as InspectJson;
  }

  /** The homeserver's truth for this bot. */
  truth(): Promise<InspectJson> {
    return truthOf(this.user);
  }

  /** Stops the daemon cleanly and checks that inspect shows exactly what the homeserver says. */
  async stopAndCompare(): Promise<InspectJson> {
    await this.settle();
    await this.stop();
    const truth = await this.truth();
    expect(await this.inspect()).toEqual(truth);
    return truth;
  }

  /** Waits until the bot has joined `room` on the server. */
  async joined(room: string): Promise<void> {
    await eventually(async () => (await this.user.joinedRooms()).includes(room), `${this.id} to join ${room}`);
  }

  /** `user` opens a DM with the bot (createRoom with is_direct); resolves once the bot joined it. */
  async dm(user: User): Promise<string> {
    const room = await user.createRoom({ isDirect: true, invite: [this.id], preset: 'trusted_private_chat' });
    await this.joined(room);
    return room;
  }

  /**
   * Resolves once the running daemon has committed everything the server had before this call.
   * The watcher is replaced before it would hit the command rate limit (5 per 10 s).
   */
  async settle(): Promise<void> {
    const recent = (w: { asked: number[] }): number[] => w.asked.filter((t) => Date.now() - t < 11_000);
    if (this.#watcher === undefined && this.#fixedWatcher !== undefined) {
      this.#watcher = { user: this.#fixedWatcher, room: await this.dm(this.#fixedWatcher), asked: [] };
    }
    if (this.#watcher !== undefined && this.#fixedWatcher !== undefined && recent(this.#watcher).length >= 4) {
      await sleep(11_000 - (Date.now() - recent(this.#watcher)[0]!));
    }
    if (this.#watcher === undefined || recent(this.#watcher).length >= 4) {
      const user = await registerUser('watcher');
      this.#watcher = { user, room: await this.dm(user), asked: [] };
    }
    this.#watcher.asked.push(Date.now());
    await this.ask(this.#watcher.user, '!help', this.#watcher.room);
  }

  /** `user` says `body` in `room`; resolves with the bot's replies once at least `count` came. */
  async say(user: User, body: string, room: string, count = 1): Promise<Reply[]> {
    const sent = await user.send(room, body);
    return eventually(async () => {
      const replies = await this.repliesAfter(user, room, sent);
      return replies.length >= count ? replies : undefined;
    }, `${count} replies to ${body}`);
  }

  /** `user` asks `body` in `room` and gets one reply (a second one fails the test). */
  async ask(user: User, body: string, room: string): Promise<Reply> {
    const replies = await this.say(user, body, room);
    expect(replies, `replies to ${body}`).toHaveLength(1);
    return replies[0]!;
  }

  /** The bot's messages in `room` after event `after`, oldest first, as `reader` reads them. */
  async repliesAfter(reader: User, room: string, after: string): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const ev of await reader.recent(room, 100)) {
      if (ev['event_id'] === after) return replies.reverse();
      if (ev['sender'] !== this.id || ev['type'] !== 'm.room.message') continue;
      const content = ev['content'] as Json;
      replies.push({ body: String(content['body']), html: String(content['formatted_body']) });
    }
    throw new Error(`event ${after} is not among the newest 100 of ${room}`);
  }

  /** Stops what runs and removes the data dir. */
  async cleanup(): Promise<void> {
    await this.kill();
    await this.dirs.cleanup();
  }
}
