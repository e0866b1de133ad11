import { afterEach, describe, expect, it } from 'vitest';
import { DEVICE_LOGIN_KEY, loginOnce } from '../../src/matrix/login.js';
import { routeSdkLogs } from '../../src/matrix/sdk-log.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { memoryLogger } from '../support/memory-log.js';
import { MemoryKeyValue } from './memory-kv.js';

const FAST = { baseMs: 5, capMs: 20, maxAttempts: 3, random: () => 0.5 };
let hs: FakeHomeserver | undefined;

afterEach(async () => {
  await hs?.close();
  hs = undefined;
});

describe('loginOnce', () => {
  it('logs in with the password and stores the device login when none is stored', async () => {
    hs = await startFakeHomeserver();
    const kv = new MemoryKeyValue();
    const { log, text } = memoryLogger('trace');
    routeSdkLogs(log);

    const login = await loginOnce({ homeserverUrl: hs.url, userId: hs.botUserId, password: 'fake-bot-password', kv, log, retry: FAST });

    expect(login.accessToken).toMatch(/^fake-token-/);
    expect(login.deviceId).toMatch(/^FAKEDEVICE/);
    expect(JSON.parse(kv.map.get(DEVICE_LOGIN_KEY)!)).toEqual(login);
    expect(text()).not.toContain(login.accessToken);
    expect(text()).not.toContain('fake-bot-password');
  });

  it('reuses the stored device login without a request when one is stored', async () => {
    hs = await startFakeHomeserver();
    const kv = new MemoryKeyValue();
    const { log } = memoryLogger('trace');
    routeSdkLogs(log);
    const first = await loginOnce({ homeserverUrl: hs.url, userId: hs.botUserId, password: 'fake-bot-password', kv, log, retry: FAST });
    const requests = hs.requests.length;

    const second = await loginOnce({ homeserverUrl: hs.url, userId: hs.botUserId, password: 'fake-bot-password', kv, log, retry: FAST });

    expect(second).toEqual(first);
    expect(hs.requests).toHaveLength(requests);
  });

  it('retries the login when the server rate-limits it', async () => {
    hs = await startFakeHomeserver();
    hs.failNext('login', { status: 429, retryAfterMs: 10 });
    const { log } = memoryLogger('trace');
    routeSdkLogs(log);

    const login = await loginOnce({ homeserverUrl: hs.url, userId: hs.botUserId, password: 'fake-bot-password', kv: new MemoryKeyValue(), log, retry: FAST });

    expect(login.accessToken).toMatch(/^fake-token-/);
    expect(hs.requests.filter((r) => r.route === 'login')).toHaveLength(2);
  });

  it('throws TOKEN_INVALID without retrying when the password is wrong', async () => {
    hs = await startFakeHomeserver();
    const kv = new MemoryKeyValue();
    const { log } = memoryLogger('trace');
    routeSdkLogs(log);

    await expect(loginOnce({ homeserverUrl: hs.url, userId: hs.botUserId, password: 'wrong', kv, log, retry: FAST })).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
      message: `the password login of ${hs.botUserId} was rejected by ${hs.url}: M_FORBIDDEN`,
    });
    expect(hs.requests.filter((r) => r.route === 'login')).toHaveLength(1);
    expect(kv.map.size).toBe(0);
  });
});
