import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HealthReport } from './health.js';
import type { Metrics } from './metrics.js';

export type { HealthReport } from './health.js';

export interface HttpServerOptions {
  /** Address to bind; the config's default is 127.0.0.1. */
  host: string;
  /** 0 asks the OS for a free port (tests); `url` tells which one it got. */
  port: number;
  /** Asked on every GET /readyz and /healthz; a throw or rejection answers 503. */
  health: () => HealthReport | Promise<HealthReport>;
  metrics: Metrics;
  log: Logger;
}

/** A running health and metrics endpoint. */
export interface HttpServer {
  /** Where it listens, e.g. `http://127.0.0.1:9464`. */
  url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';

const PATHS = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

/**
 * Starts the HTTP endpoint: `GET /livez` (200 while the process runs), `GET /readyz` and its
 * older name `/healthz` (200 or 503 with a JSON reason), `GET /metrics` (Prometheus text), 404
 * for anything else. Fails with CONFIG_INVALID when it cannot listen.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.log.child({ mod: 'http' });
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only a failure to write the response itself ends up here: the socket is gone.
      log.warn({ err, path: req.url }, 'http response failed');
      res.destroy();
    });
  });
  // Scrapes are tiny; a client that sends headers slower than this is not Prometheus.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  const url = await listenForUrl(server, options.host, options.port, 'http');
  // After listening, an 'error' without a listener would crash the daemon over its side door.
  server.on('error', (err) => log.error({ err }, 'http server error'));
  log.info({ url }, 'http endpoint listening');

  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        // A keep-alive connection from a scraper would hold close() open until it idles out;
        // a scrape still in flight at shutdown is worthless anyway.
        server.closeAllConnections();
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (!PATHS.has(path ?? '')) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', ALLOWED_METHODS);
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (path === '/livez') {
      // Answering at all is the answer: the event loop runs. Readiness is /readyz's question.
      send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ status: 'ok' }) + '\n');
      return;
    }
    if (path === '/readyz' || path === '/healthz') {
      const report = await askHealth();
      const body = report.ok
        ? { status: 'ok', lastSyncAgeMs: report.lastSyncAgeMs }
        : { status: 'unavailable', reason: report.reason ?? 'unhealthy', lastSyncAgeMs: report.lastSyncAgeMs };
      send(res, report.ok ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify(body) + '\n');
      return;
    }
    let text: string;
    try {
      text = await options.metrics.render();
    } catch (err) {
      log.error({ err }, 'metrics collection failed');
      send(res, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n');
      return;
    }
    send(res, 200, options.metrics.contentType, text);
  }

  async function askHealth(): Promise<HealthReport> {
    try {
      return await options.health();
    } catch (err) {
      log.error({ err }, 'health check failed');
      return { ok: false, reason: 'health check failed' };
    }
  }
}

/** Answers with a whole body, never cached. */
export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Listens on host:port and resolves with the URL it listens at (the port the OS chose for 0);
 * CONFIG_INVALID naming `what` (the config section) when it cannot.
 */
export function listenForUrl(server: Server, host: string, port: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code ?? err.message;
      reject(new RoomkeeperError('CONFIG_INVALID', `${what}: cannot listen on ${host}:${port}: ${why}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve(`http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
    });
  });
}
