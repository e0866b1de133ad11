import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAppserviceListener, type AppserviceListener } from '../../src/appservice/listener.js';
import { memoryLogger } from '../support/memory-log.js';

describe('appservice listener', () => {
  let listener: AppserviceListener;
  let calls: { txnId: string; events: readonly unknown[] }[];
  let fail: boolean;
  beforeEach(async () => {
    calls = [];
    fail = false;
    listener = await startAppserviceListener({
      host: '127.0.0.1',
      port: 0,
      hsToken: 'hs',
      maxBodyBytes: 1024,
      log: memoryLogger('silent').log,
      onTransaction: (txnId, events) => {
        if (fail) return Promise.reject(new Error('store down'));
        calls.push({ txnId, events });
        return Promise.resolve('applied');
      },
    });
  });
  afterEach(() => listener.close());

  const put = async (path: string, body: string, token = 'hs') => {
    const res = await fetch(`${listener.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body });
    return { status: res.status, body: (await res.json()) };
  };

  it('hands the events over and answers 200 {} once they are committed', async () => {
    expect(await put('/_matrix/app/v1/transactions/1', '{"events":[{"a":1}]}')).toEqual({ status: 200, body: {} });
    expect(calls).toEqual([{ txnId: '1', events: [{ a: 1 }] }]);
  });

  it('answers 500 when the commit fails, so that the homeserver sends it again', async () => {
    fail = true;
    expect((await put('/_matrix/app/v1/transactions/2', '{"events":[]}')).status).toBe(500);
    fail = false;
    expect((await put('/_matrix/app/v1/transactions/2', '{"events":[]}')).status).toBe(200);
    expect(calls.map((c) => c.txnId)).toEqual(['2']);
  });

  it('refuses bodies that are not JSON, too large, or ids it cannot store, without handing them over', async () => {
    expect(await put('/_matrix/app/v1/transactions/3', 'not json')).toEqual({ status: 400, body: { errcode: 'M_BAD_JSON', error: 'transaction body: not-an-object' } });
    expect((await put('/_matrix/app/v1/transactions/3', JSON.stringify({ events: ['x'.repeat(2000)] }))).status).toBe(413);
    expect((await put(`/_matrix/app/v1/transactions/${encodeURIComponent('a\u00ffb')}`, '{"events":[]}')).status).toBe(400);
    expect((await put('/_matrix/app/v1/transactions/%E0%A4%A', '{"events":[]}')).status).toBe(400);
    expect(calls).toEqual([]);
  });

  it('answers an unknown path 404 and a wrong method 405, the token checked first', async () => {
    expect((await put('/_matrix/app/v1/nope', '{}')).status).toBe(404);
    expect((await put('/_matrix/app/v1/nope', '{}', 'bad')).status).toBe(403);
    const get = await fetch(`${listener.url}/_matrix/app/v1/transactions/4`, { headers: { authorization: 'Bearer hs' } });
    expect(get.status).toBe(405);
  });
});
