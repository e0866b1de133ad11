import { Agent, get } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import type { HealthReport } from '../../src/http/health.js';
import { Metrics } from '../../src/http/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { memoryLogger } from '../support/memory-log.js';

const open: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(health: () => HealthReport | Promise<HealthReport>, metrics = new Metrics({ processMetrics: false })) {
  const { log, lines } = memoryLogger('debug');
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, health, metrics, log });
  open.push(server);
  return { server, lines, metrics };
}

describe('http/server', () => {
  it('answers /healthz with 200 and status ok when healthy', async () => {
    const { server } = await start(() => ({ ok: true, lastSyncAgeMs: 1234 }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ status: 'ok', lastSyncAgeMs: 1234 });
  });

  it('answers /healthz with 503 and the reason when unhealthy', async () => {
    const { server } = await start(() => Promise.resolve({ ok: false, reason: 'last sync too old', lastSyncAgeMs: 300_000 }));
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', reason: 'last sync too old', lastSyncAgeMs: 300_000 });
  });

  it('answers 503 and logs the error when the health callback throws', async () => {
    const { server, lines } = await start(() => {
      throw new Error('store exploded');
    });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', reason: 'health check failed' });
    const line = lines().find((l) => l.msg === 'health check failed');
    expect(line).toMatchObject({ level: 50, mod: 'http', err: { message: 'store exploded' } });
  });

  it('answers /livez with 200 while the process runs, however unready it is', async () => {
    const { server } = await start(() => ({ ok: false, reason: 'starting: waiting for the homeserver' }));
    const res = await fetch(`${server.url}/livez`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz as /healthz does', async () => {
    const { server } = await start(() => ({ ok: false, reason: 'no sync completed yet' }));
    for (const path of ['/readyz', '/healthz']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', reason: 'no sync completed yet' });
    }
  });

  it('ignores a query string on /healthz', async () => {
    const { server } = await start(() => ({ ok: true }));
    expect((await fetch(`${server.url}/healthz?verbose=1`)).status).toBe(200);
  });

  it('serves /metrics as Prometheus text with its content type', async () => {
    const { server, metrics } = await start(() => ({ ok: true }));
    metrics.countEvents('applied', 'm.room.member', 5);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    expect(await res.text()).toContain('roomkeeper_events_applied_total{type="m.room.member"} 5');
  });

  it('answers 500 and logs when collecting the metrics fails', async () => {
    const metrics = new Metrics({
      processMetrics: false,
      source: { roomCount: () => Promise.reject(new Error('store closed')), userCount: () => 0, guardEntries: () => 0 },
    });
    const { server, lines } = await start(() => ({ ok: true }), metrics);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(500);
    expect(lines().find((l) => l.msg === 'metrics collection failed')).toMatchObject({ err: { message: 'store closed' } });
  });

  it('answers 404 for any other path', async () => {
    const { server } = await start(() => ({ ok: true }));
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz/extra`)).status).toBe(404);
  });

  it('answers 405 with Allow for a method other than GET or HEAD', async () => {
    const { server } = await start(() => ({ ok: true }));
    const res = await fetch(`${server.url}/healthz`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD /healthz with the status and no body', async () => {
    const { server } = await start(() => ({ ok: false, reason: 'store not open' }));
    const res = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
  });

  it('reports the port the OS gave it and logs where it listens', async () => {
    const { server, lines } = await start(() => ({ ok: true }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
    expect(lines().find((l) => l.msg === 'http endpoint listening')).toMatchObject({ level: 30, url: server.url });
  });

  it('closes promptly while a scraper holds a keep-alive connection', async () => {
    const { server } = await start(() => ({ ok: true }));
    const agent = new Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        get(`${server.url}/metrics`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      const started = Date.now();
      await open.pop()!.close();
      expect(Date.now() - started).toBeLessThan(1000);
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });

  it('fails with CONFIG_INVALID naming the address when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { log } = memoryLogger('debug');
      const err: unknown = await startHttpServer({ host: '127.0.0.1', port, health: () => ({ ok: true }), metrics: new Metrics({ processMetrics: false }), log }).then(
        (s) => {
          open.push(s);
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(isRoomkeeperError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toBe(`http: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
