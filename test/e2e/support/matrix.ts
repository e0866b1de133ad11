/**
 * A small client of a real homeserver for end-to-end tests: shared-secret registration and the
 * client-server API calls a person's client makes (create, invite, join, kick, ban, send, state).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';

/** A JSON object as the homeserver sends it. */
export type Json = Record<string, unknown>;

/** Where the homeserver under test is: the e2e global setup provides it (or the env names it). */
export function homeserver(): { url: string; secret: string } {
  const url = inject('e2eHomeserverUrl');
  const secret = readFileSync(inject('e2eSharedSecretFile'), 'utf8').trim();
  return { url: url.replace(/\/+$/, ''), secret };
}

/** The error of a request the homeserver refused, with its status and errcode. */
export class MatrixHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the client-server API at `baseUrl`, as `token` when given; retries on 429. */
export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = (text === '' ? {} : JSON.parse(text)) as Json;
    if (res.ok) return json;
    if (res.status === 429 && attempt < 20) {
      await sleep(Number(json['retry_after_ms'] ?? 200));
      continue;
    }
    const errcode = typeof json['errcode'] === 'string' ? json['errcode'] : undefined;
    throw new MatrixHttpError(res.status, errcode, `${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  }
}

let counter = 0;

/** A user name no run of the suite has used on this server (tests re-run on a used server). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${++counter}-${randomBytes(2).toString('hex')}`.toLowerCase();
}

/** Registers a new user through the shared-secret admin API (HMAC-SHA1 of nonce, name, password, admin flag). */
export async function registerUser(prefix: string, opts: { admin?: boolean; displayName?: string; server?: { url: string; secret: string } } = {}): Promise<User> {
  const { url, secret } = opts.server ?? homeserver();
  const username = uniqueName(prefix);
  const password = randomBytes(12).toString('hex');
  const admin = opts.admin ?? false;
  const { nonce } = (await request(url, 'GET', '/_synapse/admin/v1/register')) as { nonce: string };
  const mac = createHmac('sha1', secret)
    .update(`${nonce}\0${username}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  const res = await request(url, 'POST', '/_synapse/admin/v1/register', {
    nonce,
    username,
    password,
    admin,
    mac,
    ...(opts.displayName === undefined ? {} : { displayname: opts.displayName }),
  });
  return new User(url, String(res['user_id']), String(res['access_token']));
}

/** Options of `User.createRoom`. */
export interface CreateRoomOptions {
  name?: string;
  topic?: string;
  /** The local part of an alias (made unique by the caller). */
  aliasLocalpart?: string;
  invite?: string[];
  isDirect?: boolean;
  preset?: 'private_chat' | 'public_chat' | 'trusted_private_chat';
}

const enc = encodeURIComponent;
let txn = 0;

/** A registered user and the calls their client makes. */
export class User {
  constructor(
    readonly baseUrl: string,
    readonly userId: string,
    readonly token: string,
  ) {}

  /** A raw call as this user. */
  call(method: string, path: string, body?: unknown): Promise<Json> {
    return request(this.baseUrl, method, path, body, this.token);
  }

  async createRoom(opts: CreateRoomOptions = {}): Promise<string> {
    const res = await this.call('POST', '/_matrix/client/v3/createRoom', {
      preset: opts.preset ?? 'private_chat',
      ...(opts.name === undefined ? {} : { name: opts.name }),
      ...(opts.topic === undefined ? {} : { topic: opts.topic }),
      ...(opts.aliasLocalpart === undefined ? {} : { room_alias_name: opts.aliasLocalpart }),
      ...(opts.invite === undefined ? {} : { invite: opts.invite }),
      ...(opts.isDirect === true ? { is_direct: true } : {}),
    });
    return String(res['room_id']);
  }

  async invite(room: string, userId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/invite`, { user_id: userId });
  }

  async join(room: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/join/${enc(room)}`, {});
  }

  async leave(room: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/leave`, {});
  }

  async kick(room: string, userId: string, reason?: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/kick`, { user_id: userId, ...(reason ? { reason } : {}) });
  }

  async ban(room: string, userId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/ban`, { user_id: userId });
  }

  async unban(room: string, userId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/unban`, { user_id: userId });
  }

  /** Sends a state event; resolves with its event id. */
  async setState(room: string, type: string, content: Json, stateKey = ''): Promise<string> {
    const res = await this.call('PUT', `/_matrix/client/v3/rooms/${enc(room)}/state/${enc(type)}/${enc(stateKey)}`, content);
    return String(res['event_id']);
  }

  /** Sends an m.text message; resolves with its event id. */
  async send(room: string, body: string): Promise<string> {
    const res = await this.call(
      'PUT',
      `/_matrix/client/v3/rooms/${enc(room)}/send/m.room.message/t${process.pid}-${Date.now()}-${++txn}`,
      { msgtype: 'm.text', body },
    );
    return String(res['event_id']);
  }

  /** Redacts one event; resolves with the redaction's event id. */
  async redact(room: string, eventId: string): Promise<string> {
    const res = await this.call('PUT', `/_matrix/client/v3/rooms/${enc(room)}/redact/${enc(eventId)}/r${process.pid}-${Date.now()}-${++txn}`, {});
    return String(res['event_id']);
  }

  /** Upgrades `room` to `version`; resolves with the replacement room's id. */
  async upgrade(room: string, version: string): Promise<string> {
    const res = await this.call('POST', `/_matrix/client/v3/rooms/${enc(room)}/upgrade`, { new_version: version });
    return String(res['replacement_room']);
  }

  async joinedRooms(): Promise<string[]> {
    const res = await this.call('GET', '/_matrix/client/v3/joined_rooms');
    return res['joined_rooms'] as string[];
  }

  /** The joined members of `room` (the caller must be in it). */
  async joinedMembers(room: string): Promise<string[]> {
    const res = await this.call('GET', `/_matrix/client/v3/rooms/${enc(room)}/joined_members`);
    return Object.keys(res['joined'] as Json);
  }

  /** The current state of `room`. */
  async state(room: string): Promise<Json[]> {
    return (await this.call('GET', `/_matrix/client/v3/rooms/${enc(room)}/state`)) as unknown as Json[];
  }

  /** The membership of `userId` in `room` as this user's server sees it, or undefined. */
  async membership(room: string, userId: string): Promise<string | undefined> {
    try {
      const res = await this.call('GET', `/_matrix/client/v3/rooms/${enc(room)}/state/m.room.member/${enc(userId)}`);
      return typeof res['membership'] === 'string' ? res['membership'] : undefined;
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** The newest `limit` events of `room`, newest first. */
  async recent(room: string, limit = 50): Promise<Json[]> {
    const res = await this.call('GET', `/_matrix/client/v3/rooms/${enc(room)}/messages?dir=b&limit=${limit}`);
    return res['chunk'] as Json[];
  }

  /** One /sync as this user. */
  sync(params: { since?: string; filter?: string | Json; timeout?: number } = {}): Promise<Json> {
    const q = new URLSearchParams();
    if (params.since !== undefined) q.set('since', params.since);
    if (params.filter !== undefined) q.set('filter', typeof params.filter === 'string' ? params.filter : JSON.stringify(params.filter));
    q.set('timeout', String(params.timeout ?? 0));
    return this.call('GET', `/_matrix/client/v3/sync?${q.toString()}`);
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Several new users at once, by name: `const { alice, bob } = await registerUsers('alice', 'bob')`. */
export async function registerUsers<N extends string>(...names: N[]): Promise<Record<N, User>> {
  const users = await Promise.all(names.map((n) => registerUser(n)));
  return Object.fromEntries(names.map((n, i) => [n, users[i]!])) as Record<N, User>;
}
