import { describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { HomeserverError } from '../../src/matrix/homeserver-error.js';
import { classify, nextDelay, pathOf, retryAfterMs, retrying, toHomeserverError, withRetry } from '../../src/matrix/retry.js';
import { memoryLogger } from '../support/memory-log.js';
import { matrixSdk } from '../../src/matrix/sdk.js';

const { MatrixError } = matrixSdk();

const backoff = { baseMs: 100, capMs: 1_000 };
const matrixError = (status: number, body: Record<string, unknown>) => new MatrixError(body as never, status);
const netError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
const silent = createLogger({ level: 'silent' });

describe('nextDelay', () => {
  it('draws from [0, base) on the first retry when random spans its range', () => {
    expect(nextDelay(1, backoff, () => 0)).toBe(0);
    expect(nextDelay(1, backoff, () => 0.999)).toBe(99);
  });

  it('doubles the ceiling with every attempt when below the cap', () => {
    expect(nextDelay(2, backoff, () => 0.5)).toBe(100);
    expect(nextDelay(3, backoff, () => 0.5)).toBe(200);
    expect(nextDelay(4, backoff, () => 0.5)).toBe(400);
  });

  it('stays under the cap when the attempt count is huge', () => {
    expect(nextDelay(5, backoff, () => 0.5)).toBe(500);
    expect(nextDelay(10_000, backoff, () => 0.999)).toBe(999);
  });

  it('throws a TypeError when the attempt is not a positive integer', () => {
    expect(() => nextDelay(0, backoff)).toThrow(TypeError);
    expect(() => nextDelay(1.5, backoff)).toThrow(TypeError);
  });
});

describe('classify', () => {
  it('retries when the server rate-limits with 429 M_LIMIT_EXCEEDED', () => {
    expect(classify(matrixError(429, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 10 }))).toBe('retry');
  });

  it('retries when the server answers 5xx with or without an errcode', () => {
    expect(classify(matrixError(500, { errcode: 'M_UNKNOWN' }))).toBe('retry');
    expect(classify({ statusCode: 502, body: '<html>Bad gateway</html>', headers: {} })).toBe('retry');
  });

  it('retries when the connection is refused, reset or times out', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EAI_AGAIN']) {
      expect(classify(netError(code))).toBe('retry');
    }
  });

  it('reports a bad token when the server says M_UNKNOWN_TOKEN or 401 without errcode', () => {
    expect(classify(matrixError(401, { errcode: 'M_UNKNOWN_TOKEN' }))).toBe('fatal-token');
    expect(classify(matrixError(401, { errcode: 'M_MISSING_TOKEN' }))).toBe('fatal-token');
    expect(classify({ statusCode: 401, body: 'Unauthorized' })).toBe('fatal-token');
  });

  it('fails at once when the error is a non-retryable 4xx', () => {
    expect(classify(matrixError(403, { errcode: 'M_FORBIDDEN' }))).toBe('fail');
    expect(classify(matrixError(404, { errcode: 'M_NOT_FOUND' }))).toBe('fail');
    expect(classify(matrixError(400, { errcode: 'M_BAD_JSON' }))).toBe('fail');
  });

  it('fails when the error is not an HTTP or network failure', () => {
    expect(classify(new Error('Invalid URI "nope"'))).toBe('fail');
    expect(classify(undefined)).toBe('fail');
  });

  it('classifies converted errors like the originals', () => {
    const req = { method: 'GET', path: '/x' };
    expect(classify(toHomeserverError(netError('ECONNREFUSED'), req))).toBe('retry');
    expect(classify(toHomeserverError(matrixError(503, { errcode: 'M_UNKNOWN' }), req))).toBe('retry');
    expect(classify(toHomeserverError(matrixError(401, { errcode: 'M_UNKNOWN_TOKEN' }), req))).toBe('fatal-token');
    expect(classify(toHomeserverError(matrixError(403, { errcode: 'M_FORBIDDEN' }), req))).toBe('fail');
  });
});

describe('retryAfterMs', () => {
  it('uses retry_after_ms of the error body when present', () => {
    expect(retryAfterMs(matrixError(429, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 1234 }))).toBe(1234);
  });

  it('reads a Retry-After header in seconds or as a date when the body has none', () => {
    expect(retryAfterMs({ statusCode: 429, headers: { 'retry-after': '3' } })).toBe(3000);
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(retryAfterMs({ statusCode: 429, headers: { 'retry-after': 'Mon, 01 Jan 2024 00:00:05 GMT' } }, now)).toBe(5000);
  });

  it('is undefined when the server gave no hint', () => {
    expect(retryAfterMs(matrixError(500, { errcode: 'M_UNKNOWN' }))).toBeUndefined();
  });
});

describe('toHomeserverError', () => {
  it('drops the raw response, which holds the Authorization header, when the body had no errcode', () => {
    const raw = { statusCode: 502, body: 'Bad gateway', request: { headers: { Authorization: 'Bearer secret-token' } } };
    const err = toHomeserverError(raw, { method: 'GET', path: '/_matrix/client/v3/joined_rooms' });
    expect(err).toBeInstanceOf(HomeserverError);
    expect(err.code).toBe('HOMESERVER_ERROR');
    expect(err.message).toBe('GET /_matrix/client/v3/joined_rooms failed: HTTP 502');
    expect(err.cause).toBeUndefined();
    expect(JSON.stringify(err)).not.toContain('secret-token');
  });

  it('keeps statusCode and the Matrix body when the SDK threw a MatrixError', () => {
    const err = toHomeserverError(matrixError(404, { errcode: 'M_NOT_FOUND', error: 'Not found' }), { method: 'GET', path: '/a' });
    expect(err).toMatchObject({ code: 'HOMESERVER_ERROR', statusCode: 404, errcode: 'M_NOT_FOUND', body: { errcode: 'M_NOT_FOUND' } });
    expect(err.message).toBe('GET /a failed: HTTP 404 M_NOT_FOUND: Not found');
  });

  it('uses HOMESERVER_UNREACHABLE when the connection failed', () => {
    expect(toHomeserverError(netError('ECONNREFUSED'), { method: 'GET', path: '/a' }).code).toBe('HOMESERVER_UNREACHABLE');
  });
});

describe('pathOf', () => {
  it('strips the query string when the endpoint has one', () => {
    expect(pathOf('/_matrix/client/v3/sync?access_token=abc')).toBe('/_matrix/client/v3/sync');
  });
});

describe('withRetry', () => {
  const policy = { baseMs: 1, capMs: 2, maxAttempts: 3, random: () => 0.5 };

  it('resolves with the value when a retryable failure is followed by success', async () => {
    let calls = 0;
    const value = await withRetry(
      () => (++calls === 1 ? Promise.reject(netError('ECONNRESET')) : Promise.resolve('ok')),
      { method: 'GET', path: '/x' },
      { policy, log: silent },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(2);
  });

  it('throws the converted error at once when the failure is not retryable', async () => {
    let calls = 0;
    const p = withRetry(
      () => {
        calls++;
        return Promise.reject(matrixError(403, { errcode: 'M_FORBIDDEN' }));
      },
      { method: 'POST', path: '/join' },
      { policy, log: silent },
    );
    await expect(p).rejects.toMatchObject({ code: 'HOMESERVER_ERROR', errcode: 'M_FORBIDDEN' });
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts when the failure persists', async () => {
    let calls = 0;
    const p = withRetry(
      () => {
        calls++;
        return Promise.reject(matrixError(500, { errcode: 'M_UNKNOWN' }));
      },
      { method: 'GET', path: '/x' },
      { policy, log: silent },
    );
    const err: unknown = await p.catch((e: unknown) => e);
    expect(isRoomkeeperError(err, 'HOMESERVER_ERROR')).toBe(true);
    expect(calls).toBe(3);
  });

  it('stops retrying when the signal aborts during a backoff', async () => {
    const controller = new AbortController();
    let calls = 0;
    const p = withRetry(
      () => {
        calls++;
        setTimeout(() => controller.abort(), 5);
        return Promise.reject(netError('ECONNREFUSED'));
      },
      { method: 'GET', path: '/x' },
      { policy: { ...policy, baseMs: 60_000, capMs: 60_000 }, log: silent, signal: controller.signal, maxAttempts: Infinity },
    );
    await expect(p).rejects.toMatchObject({ code: 'HOMESERVER_UNREACHABLE' });
    expect(calls).toBe(1);
  });
});

describe('retrying', () => {
  const policy = { baseMs: 4, capMs: 8, random: () => 0.5 };

  it('logs one line per retry with what failed, why, the attempt and the next delay, and no stack', async () => {
    const { log, lines, text } = memoryLogger('debug');
    let calls = 0;
    const result = await retrying(
      () =>
        ++calls < 3
          ? Promise.reject(toHomeserverError(netError('ECONNREFUSED'), { method: 'GET', path: '/_matrix/client/v3/account/whoami' }))
          : Promise.resolve('ok'),
      { what: 'whoami', policy, log },
    );

    expect(result).toBe('ok');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 40, msg: 'whoami failed, retrying', reason: 'ECONNREFUSED', attempt: 1, retryInMs: 2 }),
      expect.objectContaining({ level: 40, msg: 'whoami failed, retrying', reason: 'ECONNREFUSED', attempt: 2, retryInMs: 4 }),
    ]);
    expect(text()).not.toContain('stack');
    expect(text().split('ECONNREFUSED')).toHaveLength(3);
  });

  it('throws the failure it may not retry at once, without logging', async () => {
    const { log, lines } = memoryLogger('debug');
    const forbidden = matrixError(403, { errcode: 'M_FORBIDDEN', error: 'no' });

    await expect(retrying(() => Promise.reject(forbidden), { what: 'join', policy, log })).rejects.toBe(forbidden);
    expect(lines()).toEqual([]);
  });

  it('throws the last failure when the attempts run out or the signal aborts', async () => {
    const { log } = memoryLogger('debug');
    let calls = 0;
    const failing = () => Promise.reject(netError(`ECONNRESET`)).finally(() => calls++);
    await expect(retrying(failing, { what: 'x', policy, log, maxAttempts: 3 })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(calls).toBe(3);

    const abort = new AbortController();
    const slow = retrying(failing, { what: 'x', policy: { baseMs: 60_000, capMs: 60_000 }, log, signal: abort.signal });
    abort.abort();
    await expect(slow).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
