import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { HomeserverError } from '../../src/matrix/homeserver-error.js';
import { decideInvite, handleInvite, type InviteClient, type InvitePolicy } from '../../src/matrix/invites.js';

const ALL: InvitePolicy = { mode: 'all' };
const NONE: InvitePolicy = { mode: 'none' };

const room = '!room:example.org';
const silent = createLogger({ level: 'silent' });

describe('decideInvite', () => {
  it('accepts every inviter when the policy is all', () => {
    expect(decideInvite(ALL, '@anyone:evil.example', room)).toBe('accept');
  });

  it('declines every inviter when the policy is none', () => {
    expect(decideInvite(NONE, '@admin:example.org', room)).toBe('decline');
  });

  it('accepts a listed user when the allowlist names users', () => {
    const policy: InvitePolicy = { mode: 'allow', users: ['@alice:example.org'], servers: [] };
    expect(decideInvite(policy, '@alice:example.org', room)).toBe('accept');
    expect(decideInvite(policy, '@bob:example.org', room)).toBe('decline');
  });

  it('accepts any user of a listed server when the allowlist names servers', () => {
    const policy: InvitePolicy = { mode: 'allow', users: [], servers: ['Example.org'] };
    expect(decideInvite(policy, '@carol:example.org', room)).toBe('accept');
    expect(decideInvite(policy, '@carol:example.org.evil.example', room)).toBe('decline');
    expect(decideInvite(policy, '@carol:other.example', room)).toBe('decline');
  });

  it('matches the server after the first colon when the server has a port', () => {
    expect(decideInvite({ mode: 'allow', users: [], servers: ['example.org:8448'] }, '@dan:example.org:8448', room)).toBe('accept');
  });

  it('declines an unknown inviter when the policy is an allowlist', () => {
    expect(decideInvite({ mode: 'allow', users: ['@alice:example.org'], servers: [] }, undefined, room)).toBe('decline');
    expect(decideInvite(ALL, undefined, room)).toBe('accept');
  });
});

function fakeClient(joinFailures: Error[]): InviteClient & { joins: number; leaves: string[] } {
  const c = {
    joins: 0,
    leaves: [] as string[],
    joinRoom: vi.fn((roomId: string) => {
      c.joins++;
      const failure = joinFailures.shift();
      return failure === undefined ? Promise.resolve(roomId) : Promise.reject(failure);
    }),
    leaveRoom: vi.fn((roomId: string) => {
      c.leaves.push(roomId);
      return Promise.resolve({});
    }),
  };
  return c;
}

const backoff = { baseMs: 1, capMs: 2 };
const serverError = () =>
  new HomeserverError('HOMESERVER_ERROR', 'POST /join failed: HTTP 404 M_UNKNOWN', { method: 'POST', path: '/join', statusCode: 404, errcode: 'M_UNKNOWN' });

describe('handleInvite', () => {
  it('joins when the policy accepts the inviter', async () => {
    const client = fakeClient([]);
    await expect(handleInvite({ client, policy: ALL, log: silent, backoff }, { roomId: room, inviter: '@a:x' })).resolves.toBe('joined');
    expect(client.joins).toBe(1);
  });

  it('rejects the invite by leaving when the policy declines it', async () => {
    const client = fakeClient([]);
    await expect(handleInvite({ client, policy: NONE, log: silent, backoff }, { roomId: room, inviter: '@a:x' })).resolves.toBe('declined');
    expect(client.leaves).toEqual([room]);
    expect(client.joins).toBe(0);
  });

  it('retries the join when it fails and then succeeds', async () => {
    const client = fakeClient([serverError(), serverError()]);
    await expect(handleInvite({ client, policy: ALL, log: silent, backoff }, { roomId: room })).resolves.toBe('joined');
    expect(client.joins).toBe(3);
  });

  it('gives up with a warning and does not reject when every attempt fails', async () => {
    const client = fakeClient([serverError(), serverError(), serverError()]);
    const warn = vi.spyOn(silent, 'warn');
    const outcome = await handleInvite({ client, policy: ALL, log: silent, backoff, maxJoinAttempts: 3 }, { roomId: room });
    expect(outcome).toBe('failed');
    expect(client.joins).toBe(3);
    expect(warn).toHaveBeenLastCalledWith(expect.objectContaining({ roomId: room, attempts: 3 }), 'joining an invited room failed; giving up');
    warn.mockRestore();
  });

  it('resolves failed instead of rejecting when declining fails', async () => {
    const client = fakeClient([]);
    client.leaveRoom = vi.fn(() => Promise.reject(serverError()));
    await expect(handleInvite({ client, policy: NONE, log: silent }, { roomId: room })).resolves.toBe('failed');
  });
});
