/**
 * The fake homeserver: a real HTTP server on 127.0.0.1 serving the client-server API endpoints
 * matrix-bot-sdk uses, over the room model it extends, with fault injection and observation
 * helpers for tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AppservicePusher, type AppservicePushOptions } from './appservice.js';
import { type Fault, FaultPlan, type RouteMatcher, defaultErrcode, matchesRequest } from './faults.js';
import { FakeMatrixModel, type JsonObject, MatrixRuleError, type StoredEvent, membershipOf, stateKeyOf } from './model.js';
import { type RouteId, type RouteMatch, type RouteName, matchRoute } from './routes.js';
import { DEFAULT_TIMELINE_LIMIT, buildSync, parseSyncToken, toClientEvent } from './sync.js';

/** Options of `startFakeHomeserver`. */
export interface FakeHomeserverOptions {
  /** Server name of every id the fake makes. Default `fake.test`. */
  serverName?: string;
  /** Default `@roomkeeper:<serverName>`. */
  botUserId?: string;
  /** The bot's access token, valid from the start. Default `fake-bot-token`. */
  botToken?: string;
  /** Device id of `botToken`. Default `FAKEBOTDEVICE`. */
  botDeviceId?: string;
  /** Password `POST /login` accepts for the bot. Default `fake-bot-password`. */
  botPassword?: string;
  /** Initial `origin_server_ts` of the clock. Default 1_700_000_000_000. */
  clockStart?: number;
  /**
   * MSC4222 (`state_after`) as a server of that era offers it: `unstable` advertises
   * `org.matrix.msc4222` in `/versions` and honours `org.matrix.msc4222.use_state_after`;
   * `stable` lists spec v1.16 and honours `use_state_after`. Default: neither, like Synapse 1.67.
   */
  stateAfter?: 'unstable' | 'stable';
}

/** A request the fake received, recorded before it was answered. */
export interface RecordedRequest {
  readonly method: string;
  /** Percent-decoded path, e.g. `/_matrix/client/v3/rooms/!room1:fake.test/join`. */
  readonly path: string;
  readonly route: RouteName;
  readonly query: Readonly<Record<string, string>>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  readonly body: unknown;
  /** `Date.now()` when it arrived. */
  readonly time: number;
  /** The user of the access token, once authenticated. */
  userId?: string;
  /** The status answered; undefined while pending or when the socket was dropped. */
  status?: number;
  /** The fault applied to it, if any. */
  fault?: Fault;
}

/** A /sync request and, once answered, its response. */
export interface SyncRecord {
  readonly userId: string;
  /** Stream position of `since`; undefined for an initial sync. */
  readonly since: number | undefined;
  readonly timeout: number;
  readonly fullState: boolean;
  /** The `filter` query parameter as sent (an id or inline JSON). */
  readonly filterParam: string | undefined;
  /** The filter in force: the stored definition of the id, or the parsed inline JSON. */
  readonly filter: JsonObject | undefined;
  readonly timelineLimit: number;
  /** The response body; undefined while the long-poll waits or when the client went away. */
  response?: JsonObject;
}

interface Caller {
  readonly userId: string;
  readonly deviceId: string;
  readonly token: string;
}

interface HandlerContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly caller: Caller;
  readonly res: ServerResponse;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

type Handler = (ctx: HandlerContext) => Reply | Promise<Reply | undefined>;

const ok = (body: unknown): Reply => ({ status: 200, body });

function fail(status: number, errcode: string, error: string): never {
  throw new MatrixRuleError(status, errcode, error);
}

function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireObjectBody(body: unknown): JsonObject {
  if (!isJsonObject(body)) fail(400, 'M_NOT_JSON', 'Content not JSON.');
  return body;
}

function requireString(body: JsonObject, key: string): string {
  const v = body[key];
  if (typeof v !== 'string') fail(400, 'M_MISSING_PARAM', `Missing string field ${key}`);
  return v;
}

function optionalString(body: unknown, key: string): string | undefined {
  const v = isJsonObject(body) ? body[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Starts a fake homeserver listening on 127.0.0.1 at a random port. */
export async function startFakeHomeserver(opts: FakeHomeserverOptions = {}): Promise<FakeHomeserver> {
  const hs = new FakeHomeserver(opts);
  await hs.up();
  return hs;
}

/**
 * A fake Matrix homeserver over HTTP. Story verbs (`createRoom`, `invite`, `kick`, …) come from
 * the model it extends; the bot's own HTTP calls go through the same verbs, so a sync shows both.
 */
export class FakeHomeserver extends FakeMatrixModel {
  readonly botUserId: string;
  readonly botToken: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Every /sync request, in arrival order. */
  readonly syncs: SyncRecord[] = [];
  #mangle: ((body: JsonObject) => void) | undefined;
  /** Filters created with `POST /user/{userId}/filter`, by id. */
  readonly filters = new Map<string, { readonly userId: string; readonly filter: JsonObject }>();
  /** Errors thrown by the fake's own handlers (answered with 500); a test can assert it stays empty. */
  readonly internalErrors: unknown[] = [];

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #tokens = new Map<string, { userId: string; deviceId: string }>();
  readonly #passwords = new Map<string, string>();
  readonly #faults = new FaultPlan();
  readonly #transactions = new Map<string, string>();
  readonly #sentByBot: StoredEvent[] = [];
  readonly #wakers = new Set<() => void>();
  readonly #waiters = new Set<() => void>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #handlers: Record<RouteId, Handler>;
  readonly #pushers: AppservicePusher[] = [];
  #port = 0;
  #closed = false;
  #tokenCounter = 0;
  #filterCounter = 0;
  readonly #stateAfter: FakeHomeserverOptions['stateAfter'];

  constructor(opts: FakeHomeserverOptions = {}) {
    super(opts.serverName ?? 'fake.test', opts.clockStart ?? 1_700_000_000_000);
    this.#stateAfter = opts.stateAfter;
    this.botUserId = opts.botUserId ?? this.userId('roomkeeper');
    this.botToken = opts.botToken ?? 'fake-bot-token';
    this.addToken(this.botUserId, this.botToken, opts.botDeviceId ?? 'FAKEBOTDEVICE');
    this.setPassword(this.botUserId, opts.botPassword ?? 'fake-bot-password');
    this.#handlers = this.#makeHandlers();
    this.onChange(() => this.#wakeAll());
    this.#server = createServer((req, res) => this.#track(req, this.#handle(req, res)));
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Base URL to give a client, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Makes `token` a valid access token of `userId`. */
  addToken(userId: string, token: string, deviceId = `FAKEDEVICE${++this.#tokenCounter}`): void {
    this.registerUser(userId);
    this.#tokens.set(token, { userId, deviceId });
  }

  /** Invalidates an access token: its requests get 401 M_UNKNOWN_TOKEN from now on. */
  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  /** Sets the password `POST /login` accepts for `userId`. */
  setPassword(userId: string, password: string): void {
    this.registerUser(userId);
    this.#passwords.set(userId, password);
  }

  /**
   * Starts pushing the bot's events to an appservice as transactions, from the current stream
   * position on; the appservice's token (`asToken`) becomes a token of the bot. Closed with the fake.
   */
  pushToAppservice(options: Omit<AppservicePushOptions, 'botUserId'> & { asToken: string }): AppservicePusher {
    this.addToken(this.botUserId, options.asToken, 'APPSERVICE');
    const pusher = new AppservicePusher(this, { ...options, botUserId: this.botUserId });
    this.#pushers.push(pusher);
    return pusher;
  }

  /** Arms `fault` for the next `count` requests `matcher` selects (a route name or method + path regex). */
  failNext(matcher: RouteMatcher, fault: Fault, count = 1): void {
    this.#faults.add(matcher, fault, count);
  }

  /** How many armed fault hits have not happened yet. */
  get pendingFaults(): number {
    return this.#faults.pending;
  }

  /** Stops listening and destroys every connection: clients get ECONNREFUSED until `up()`. */
  async down(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#destroySockets();
    await closed;
  }

  /** Listens again, on the same port as before (a random one the first time). */
  async up(): Promise<void> {
    if (this.#closed) throw new Error('the fake homeserver is closed');
    if (this.#server.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', onError);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /**
   * Answers pending long-polls (with whatever there is), waits briefly for responses in flight,
   * then destroys every socket and stops listening. Tests do not hang on it: matrix-bot-sdk's
   * `stop()` only sets a flag, and its sync loop ends when its pending /sync returns.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#pushers.map((p) => p.close()));
    this.#wakeAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inflight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
    await this.down();
  }

  /** The events the bot sent over HTTP (send and state endpoints), as clients see them, with `room_id`. */
  sent(roomId?: string): JsonObject[] {
    return this.#sentByBot
      .filter((ev) => roomId === undefined || ev.roomId === roomId)
      .map((ev) => toClientEvent(ev, { withRoomId: true }) as JsonObject);
  }

  /**
   * Resolves with the first truthy value of `predicate`, checked now, after every request,
   * response and model change, and every 20 ms; rejects after `timeoutMs`.
   */
  waitFor<T>(predicate: () => T, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<Exclude<T, false | 0 | ''>>> {
    type Result = NonNullable<Exclude<T, false | 0 | ''>>;
    return new Promise<Result>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters.delete(check);
        settle();
      };
      const check = () => {
        try {
          const value = predicate();
          if (value) finish(() => resolve(value as Result));
        } catch (err) {
          finish(() => reject(err instanceof Error ? err : new Error(String(err))));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`waitFor(${what}) timed out after ${timeoutMs} ms`))), timeoutMs);
      const poll = setInterval(check, 20);
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * Resolves once `userId` (the bot by default) sends a /sync whose `since` is at or past
   * `position`: the client has received everything up to there and come back for more.
   */
  waitForSyncPast(position = this.position, timeoutMs = 5000, userId = this.botUserId): Promise<SyncRecord> {
    return this.waitFor(
      () => this.syncs.find((s) => s.userId === userId && s.since !== undefined && s.since >= position),
      timeoutMs,
      `sync past ${position}`,
    );
  }

  /** Resolves with the first event the bot sent that `predicate` accepts. */
  waitForSent(predicate: (event: JsonObject) => boolean = () => true, timeoutMs = 5000): Promise<JsonObject> {
    return this.waitFor(() => this.sent().find(predicate), timeoutMs, 'an event sent by the bot');
  }

  /** Resolves with the first recorded request `matcher` selects. */
  waitForRequest(matcher: RouteMatcher, timeoutMs = 5000): Promise<RecordedRequest> {
    return this.waitFor(() => this.requests.find((r) => matchesRequest(matcher, r)), timeoutMs, 'a matching request');
  }

  #track(req: IncomingMessage, handling: Promise<void>): void {
    const work = handling.catch((err: unknown) => {
      // Only reading the request body can get here (a client that vanished mid-upload).
      this.internalErrors.push(err);
      req.socket.destroy();
    });
    this.#inflight.add(work);
    void work.then(() => this.#inflight.delete(work));
  }

  #destroySockets(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
    this.#notify();
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }

  /** Resolves after `ms`, or earlier on a model change, on close, or when `res` goes away. */
  #nextChange(ms: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
      res.on('close', done);
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#closed) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const route = matchRoute(method, url.pathname);
    const record: RecordedRequest = {
      method,
      path: safeDecode(url.pathname),
      route: route?.name ?? 'unknown',
      query: Object.fromEntries(url.searchParams),
      body: parseBody(text),
      time: Date.now(),
    };
    this.requests.push(record);
    this.#notify();

    const fault = this.#faults.take(record);
    if (fault !== undefined) {
      record.fault = fault;
      if ('drop' in fault) {
        req.socket.destroy();
        this.#notify();
        return;
      }
      if ('delayMs' in fault) {
        await this.#sleep(fault.delayMs);
        if (this.#closed) {
          req.socket.destroy();
          return;
        }
      } else {
        await this.#reply(res, record, faultReply(fault), fault);
        return;
      }
    }
    await this.#reply(res, record, await this.#dispatch(req, res, route, record, text));
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, route: RouteMatch | undefined, record: RecordedRequest, text: string): Promise<Reply | undefined> {
    if (route === undefined) return { status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } };
    try {
      let caller: Caller = { userId: '', deviceId: '', token: '' };
      if (route.auth) {
        caller = this.#authenticate(req, record.query);
        record.userId = caller.userId;
      }
      // parseBody hands back the text itself when it is not JSON.
      if (text !== '' && record.body === text) fail(400, 'M_NOT_JSON', 'Content not JSON.');
      return await this.#handlers[route.id]({ params: route.params, query: record.query, body: record.body, caller, res });
    } catch (err) {
      if (err instanceof MatrixRuleError) return { status: err.status, body: { errcode: err.errcode, error: err.message } };
      // A bug of the fake itself: answered like a real server's internal error, kept for the test to see.
      this.internalErrors.push(err);
      return { status: 500, body: { errcode: 'M_UNKNOWN', error: 'Internal server error' } };
    }
  }

  #authenticate(req: IncomingMessage, query: Readonly<Record<string, string>>): Caller {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length) : query['access_token'];
    if (token === undefined) fail(401, 'M_MISSING_TOKEN', 'Missing access token');
    const session = this.#tokens.get(token);
    if (session === undefined) fail(401, 'M_UNKNOWN_TOKEN', 'Unknown access token');
    return { ...session, token };
  }

  async #reply(res: ServerResponse, record: RecordedRequest, reply: Reply | undefined, fault?: Fault): Promise<void> {
    if (reply === undefined || res.destroyed) {
      // The client went away (or the fake is closing) while a long-poll waited.
      this.#notify();
      return;
    }
    const headers: Record<string, string> = {};
    let payload: string;
    if (fault !== undefined && 'rawBody' in fault) {
      headers['content-type'] = 'text/plain';
      payload = fault.rawBody;
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(reply.body);
    }
    if (fault !== undefined && 'retryAfterMs' in fault && fault.retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.ceil(fault.retryAfterMs / 1000));
    }
    record.status = reply.status;
    await new Promise<void>((resolve) => {
      res.writeHead(reply.status, headers);
      res.end(payload, () => resolve());
      res.once('close', () => resolve());
    });
    this.#notify();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(onClose);
        resolve();
      };
      const onClose = () => {
        if (this.#closed) done();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(onClose);
    });
  }

  /**
   * Rewrites the next non-empty /sync response to the bot, once, in place: a homeserver or proxy
   * that sends a malformed section or event.
   */
  mangleNextSync(fn: (body: JsonObject) => void): void {
    this.#mangle = fn;
  }

  #checkSelf(caller: Caller, userId: string | undefined, what: string): void {
    if (userId !== caller.userId) fail(403, 'M_FORBIDDEN', `Cannot ${what} for other users.`);
  }

  #requireMember(roomId: string, userId: string): void {
    if (!this.hasRoom(roomId) || this.membership(roomId, userId) !== 'join') {
      fail(403, 'M_FORBIDDEN', `User ${userId} not in room ${roomId}`);
    }
  }

  #resolveRoom(target: string): string {
    const roomId = target.startsWith('#') ? this.resolveAlias(target) : target;
    if (roomId === undefined || !this.hasRoom(roomId)) fail(404, 'M_NOT_FOUND', `No known servers for ${target}`);
    return roomId;
  }

  #join(target: string, caller: Caller): Reply {
    const roomId = this.#resolveRoom(target);
    // Like Synapse, joining a room one is already in changes nothing.
    if (this.membership(roomId, caller.userId) !== 'join') this.join(roomId, caller.userId);
    return ok({ room_id: roomId });
  }

  #recordSent(ev: StoredEvent, caller: Caller): void {
    if (caller.userId === this.botUserId) this.#sentByBot.push(ev);
  }

  async #sync(ctx: HandlerContext): Promise<Reply | undefined> {
    const { query, caller, res } = ctx;
    let since: number | undefined;
    if (query['since'] !== undefined) {
      since = parseSyncToken(query['since']);
      if (since === undefined) fail(400, 'M_INVALID_PARAM', `Invalid stream token ${query['since']}`);
      // A token from the future (e.g. from another fake's run) waits for the stream to catch up.
      since = Math.min(since, this.position);
    }
    const filterParam = query['filter'];
    const filter = this.#resolveFilter(filterParam, caller);
    const limit = (filter?.['room'] as { timeline?: { limit?: unknown } } | undefined)?.timeline?.limit;
    const timelineLimit = typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 ? limit : DEFAULT_TIMELINE_LIMIT;
    const timeout = Math.max(0, Number(query['timeout'] ?? 0) || 0);
    const fullState = query['full_state'] === 'true';
    const stateAfter =
      (this.#stateAfter === 'unstable' && query['org.matrix.msc4222.use_state_after'] === 'true') ||
      (this.#stateAfter === 'stable' && query['use_state_after'] === 'true')
        ? this.#stateAfter
        : undefined;
    const record: SyncRecord = { userId: caller.userId, since, timeout, fullState, filterParam, filter, timelineLimit };
    this.syncs.push(record);
    this.#notify();

    const compute = () => buildSync(this, { userId: caller.userId, since, timelineLimit, fullState, token: caller.token, stateAfter });
    let result = compute();
    // An initial or full-state sync answers at once; otherwise wait for news or the timeout.
    if (since !== undefined && !fullState) {
      const deadline = Date.now() + timeout;
      while (result.isEmpty && !this.#closed && !res.destroyed && Date.now() < deadline) {
        await this.#nextChange(deadline - Date.now(), res);
        result = compute();
      }
    }
    if (res.destroyed) return undefined;
    const mangle = this.#mangle;
    if (mangle !== undefined && caller.userId === this.botUserId && !result.isEmpty) {
      this.#mangle = undefined;
      mangle(result.body);
    }
    record.response = result.body;
    return ok(result.body);
  }

  #resolveFilter(param: string | undefined, caller: Caller): JsonObject | undefined {
    if (param === undefined) return undefined;
    if (param.trimStart().startsWith('{')) {
      const parsed = parseBody(param);
      if (!isJsonObject(parsed)) fail(400, 'M_INVALID_PARAM', 'filter is not valid JSON');
      return parsed;
    }
    const stored = this.filters.get(param);
    if (stored === undefined || stored.userId !== caller.userId) fail(400, 'M_INVALID_PARAM', `No such filter ${param}`);
    return stored.filter;
  }

  #makeHandlers(): Record<RouteId, Handler> {
    return {
      'GET versions': () =>
        ok({
          versions: ['r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', ...(this.#stateAfter === 'stable' ? ['v1.16'] : [])],
          unstable_features: this.#stateAfter === 'unstable' ? { 'org.matrix.msc4222': true } : {},
        }),
      'GET login': () => ok({ flows: [{ type: 'm.login.password' }] }),
      'POST login': ({ body }) => this.#login(requireObjectBody(body)),
      'GET account/whoami': ({ caller }) => ok({ user_id: caller.userId, device_id: caller.deviceId, is_guest: false }),
      'POST user/:userId/filter': ({ params, body, caller }) => {
        this.#checkSelf(caller, params['userId'], 'create filters');
        const filterId = String(++this.#filterCounter);
        this.filters.set(filterId, { userId: caller.userId, filter: structuredClone(requireObjectBody(body)) });
        return ok({ filter_id: filterId });
      },
      'GET user/:userId/filter/:filterId': ({ params, caller }) => {
        this.#checkSelf(caller, params['userId'], 'read filters');
        const stored = this.filters.get(params['filterId'] ?? '');
        if (stored === undefined || stored.userId !== caller.userId) fail(404, 'M_NOT_FOUND', 'No such filter');
        return ok(stored.filter);
      },
      'GET sync': (ctx) => this.#sync(ctx),
      'POST join/:target': ({ params, caller }) => this.#join(params['target'] ?? '', caller),
      'POST rooms/:roomId/join': ({ params, caller }) => this.#join(params['roomId'] ?? '', caller),
      'POST rooms/:roomId/leave': ({ params, body, caller }) => {
        const roomId = this.#resolveRoom(params['roomId'] ?? '');
        this.leave(roomId, caller.userId, { reason: optionalString(body, 'reason') });
        return ok({});
      },
      'POST rooms/:roomId/invite': ({ params, body, caller }) => {
        this.invite(this.#resolveRoom(params['roomId'] ?? ''), caller.userId, requireString(requireObjectBody(body), 'user_id'));
        return ok({});
      },
      'POST rooms/:roomId/kick': ({ params, body, caller }) => {
        const b = requireObjectBody(body);
        this.kick(this.#resolveRoom(params['roomId'] ?? ''), caller.userId, requireString(b, 'user_id'), { reason: optionalString(b, 'reason') });
        return ok({});
      },
      'POST rooms/:roomId/ban': ({ params, body, caller }) => {
        const b = requireObjectBody(body);
        this.ban(this.#resolveRoom(params['roomId'] ?? ''), caller.userId, requireString(b, 'user_id'), { reason: optionalString(b, 'reason') });
        return ok({});
      },
      'POST rooms/:roomId/unban': ({ params, body, caller }) => {
        this.unban(this.#resolveRoom(params['roomId'] ?? ''), caller.userId, requireString(requireObjectBody(body), 'user_id'));
        return ok({});
      },
      'GET joined_rooms': ({ caller }) => ok({ joined_rooms: this.joinedRooms(caller.userId) }),
      'GET rooms/:roomId/state': ({ params, caller }) => {
        const roomId = params['roomId'] ?? '';
        this.#requireMember(roomId, caller.userId);
        const state = [...this.room(roomId).state.values()].sort((a, b) => a.pos - b.pos);
        return ok(state.map((ev) => toClientEvent(ev, { withRoomId: true })));
      },
      'GET rooms/:roomId/state/:type/:stateKey?': ({ params, caller }) => {
        const roomId = params['roomId'] ?? '';
        this.#requireMember(roomId, caller.userId);
        const ev = this.room(roomId).state.get(stateKeyOf(params['type'] ?? '', params['stateKey'] ?? ''));
        if (ev === undefined) fail(404, 'M_NOT_FOUND', 'Event not found.');
        return ok(structuredClone(ev.event['content']));
      },
      'PUT rooms/:roomId/state/:type/:stateKey?': ({ params, body, caller }) => {
        const roomId = params['roomId'] ?? '';
        const ev = this.sendStateEvent(roomId, caller.userId, params['type'] ?? '', params['stateKey'] ?? '', requireObjectBody(body));
        this.#recordSent(ev, caller);
        return ok({ event_id: ev.event['event_id'] });
      },
      'GET rooms/:roomId/joined_members': ({ params, caller }) => {
        const roomId = params['roomId'] ?? '';
        this.#requireMember(roomId, caller.userId);
        const joined: JsonObject = {};
        for (const ev of this.room(roomId).state.values()) {
          if (ev.type !== 'm.room.member' || ev.stateKey === undefined || membershipOf(ev) !== 'join') continue;
          const content = ev.event['content'] as JsonObject;
          joined[ev.stateKey] = { display_name: content['displayname'] ?? null, avatar_url: content['avatar_url'] ?? null };
        }
        return ok({ joined });
      },
      'GET rooms/:roomId/members': ({ params, query, caller }) => {
        const roomId = params['roomId'] ?? '';
        this.#requireMember(roomId, caller.userId);
        const chunk = [...this.room(roomId).state.values()]
          .filter((ev) => ev.type === 'm.room.member')
          .filter((ev) => query['membership'] === undefined || membershipOf(ev) === query['membership'])
          .filter((ev) => query['not_membership'] === undefined || membershipOf(ev) !== query['not_membership'])
          .sort((a, b) => a.pos - b.pos)
          .map((ev) => toClientEvent(ev, { withRoomId: true }));
        return ok({ chunk });
      },
      'GET rooms/:roomId/event/:eventId': ({ params, caller }) => {
        const roomId = params['roomId'] ?? '';
        this.#requireMember(roomId, caller.userId);
        const ev = this.findEvent(roomId, params['eventId'] ?? '');
        if (ev === undefined) fail(404, 'M_NOT_FOUND', 'Event not found.');
        return ok(toClientEvent(ev, { withRoomId: true, token: caller.token }));
      },
      'PUT rooms/:roomId/send/:eventType/:txnId': ({ params, body, caller }) => {
        const roomId = params['roomId'] ?? '';
        const txnId = params['txnId'] ?? '';
        // Transaction ids are scoped to the access token (spec: "Transaction identifiers").
        const key = `${caller.token}\u0000${roomId}\u0000${txnId}`;
        const earlier = this.#transactions.get(key);
        if (earlier !== undefined) return ok({ event_id: earlier });
        const ev = this.sendEvent(roomId, caller.userId, params['eventType'] ?? '', requireObjectBody(body), { token: caller.token, txnId });
        const eventId = ev.event['event_id'] as string;
        this.#transactions.set(key, eventId);
        this.#recordSent(ev, caller);
        return ok({ event_id: eventId });
      },
      'GET user/:userId/account_data/:type': ({ params, caller }) => {
        this.#checkSelf(caller, params['userId'], 'get account data');
        const entry = this.accountDataOf(caller.userId).get(params['type'] ?? '');
        if (entry === undefined) fail(404, 'M_NOT_FOUND', 'Account data not found');
        return ok(structuredClone(entry.content));
      },
      'PUT user/:userId/account_data/:type': ({ params, body, caller }) => {
        this.#checkSelf(caller, params['userId'], 'add account data');
        this.setAccountData(caller.userId, params['type'] ?? '', requireObjectBody(body));
        return ok({});
      },
      'GET directory/room/:alias': ({ params }) => {
        const alias = params['alias'] ?? '';
        const roomId = this.resolveAlias(alias);
        if (roomId === undefined) fail(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
        return ok({ room_id: roomId, servers: [this.serverName] });
      },
      // A client script (the e2e parity suite) creates rooms as it would on a real server.
      'POST createRoom': ({ body, caller }) => {
        const b = requireObjectBody(body);
        const invite = Array.isArray(b['invite']) ? b['invite'].map(String) : [];
        const aliasName = optionalString(b, 'room_alias_name');
        const roomId = this.createRoom(caller.userId, {
          name: optionalString(b, 'name'),
          topic: optionalString(b, 'topic'),
          alias: aliasName === undefined ? undefined : `#${aliasName}:${this.serverName}`,
          isDirect: b['is_direct'] === true,
          joinRule: b['preset'] === 'public_chat' ? 'public' : 'invite',
          invite,
        });
        return ok({ room_id: roomId });
      },
      'GET profile/:userId': ({ params }) => {
        const userId = params['userId'] ?? '';
        if (!this.isKnownUser(userId)) fail(404, 'M_NOT_FOUND', 'Profile was not found');
        const displayName = this.displayNameOf(userId);
        return ok(displayName === undefined ? {} : { displayname: displayName });
      },
    };
  }

  #login(body: JsonObject): Reply {
    if (body['type'] !== 'm.login.password') fail(400, 'M_UNKNOWN', `Unknown login type ${String(body['type'])}`);
    const identifier = isJsonObject(body['identifier']) ? body['identifier'] : {};
    const user = optionalString(identifier, 'user') ?? optionalString(body, 'user');
    if (user === undefined) fail(400, 'M_MISSING_PARAM', 'Missing user');
    const userId = user.startsWith('@') ? user : this.userId(user);
    if (this.#passwords.get(userId) !== body['password']) fail(403, 'M_FORBIDDEN', 'Invalid username or password');
    const token = `fake-token-${++this.#tokenCounter}`;
    const deviceId = optionalString(body, 'device_id') ?? `FAKEDEVICE${this.#tokenCounter}`;
    this.addToken(userId, token, deviceId);
    return ok({ user_id: userId, access_token: token, device_id: deviceId, home_server: this.serverName });
  }
}

function faultReply(fault: Exclude<Fault, { drop: true } | { delayMs: number }>): Reply {
  if ('rawBody' in fault) return { status: fault.status, body: fault.rawBody };
  const body: JsonObject = { errcode: fault.errcode ?? defaultErrcode(fault.status), error: fault.error ?? 'Injected fault' };
  if (fault.retryAfterMs !== undefined) body['retry_after_ms'] = fault.retryAfterMs;
  return { status: fault.status, body };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The JSON value of `text`, the text itself when it is not JSON, undefined when empty. */
function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) return text;
    throw err;
  }
}

function safeDecode(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch (err) {
    if (err instanceof URIError) return pathname;
    throw err;
  }
}
