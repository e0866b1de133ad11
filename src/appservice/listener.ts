import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenForUrl, send } from '../http/server.js';
import type { Logger } from '../log.js';
import { isKeySafe } from '../state/ids.js';
import { isHsToken, tokenOf } from './token.js';
import { eventsOfTransaction } from './transaction.js';

/** What became of a transaction the homeserver pushed. */
export type TransactionOutcome = 'applied' | 'duplicate';

/**
 * Applies one transaction's events and resolves once they are committed (then the listener
 * answers 200); a rejection answers 500 and the homeserver sends it again.
 */
export type TransactionHandler = (txnId: string, events: readonly unknown[]) => Promise<TransactionOutcome>;

export interface AppserviceListenerOptions {
  host: string;
  /** 0 asks the OS for a free port (tests). */
  port: number;
  /** The registration's `hs_token`: what the homeserver authenticates with. */
  hsToken: string;
  onTransaction: TransactionHandler;
  /** Told of every transaction refused before it was applied (bad token, bad body). */
  onRejected?: (reason: 'unauthorized' | 'forbidden' | 'bad-body') => void;
  log: Logger;
  /** Largest transaction body read; a larger one gets 413. */
  maxBodyBytes?: number;
}

/** The running appservice listener. */
export interface AppserviceListener {
  /** Where it listens, e.g. `http://127.0.0.1:9000`. */
  url: string;
  /** Stops listening; resolves once the transactions in flight are answered. */
  close(): Promise<void>;
}

/** Synapse sends at most 100 events (and 100 ephemeral) per transaction; this leaves ample room. */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const PREFIX = '/_matrix/app/v1';

type Route =
  | { kind: 'transaction'; txnId: string }
  | { kind: 'user' }
  | { kind: 'alias' }
  | { kind: 'ping' }
  | { kind: 'unknown' };

/** The route of a path; the unprefixed ones are the legacy (pre-r0.1) Application Service API. */
function routeOf(path: string): Route | { kind: 'bad-id' } {
  const rest = path.startsWith(PREFIX + '/') ? path.slice(PREFIX.length) : path;
  const m = /^\/(transactions|users|rooms)\/([^/]+)$/.exec(rest);
  if (m !== null) {
    if (m[1] !== 'transactions') return { kind: m[1] === 'users' ? 'user' : 'alias' };
    let txnId: string;
    try {
      txnId = decodeURIComponent(m[2]!);
    } catch {
      // A malformed escape is a malformed id; the caller answers 400.
      return { kind: 'bad-id' };
    }
    return isUsableTxnId(txnId) ? { kind: 'transaction', txnId } : { kind: 'bad-id' };
  }
  if (path === PREFIX + '/ping') return { kind: 'ping' };
  return { kind: 'unknown' };
}

/** A txnId that can be part of a store key: 1–255 characters, each one a key may hold. */
function isUsableTxnId(txnId: string): boolean {
  return txnId.length > 0 && txnId.length <= 255 && isKeySafe(txnId);
}

/**
 * Starts the Application Service API listener: `PUT /_matrix/app/v1/transactions/{txnId}` (and
 * `/transactions/{txnId}`), answered 200 only once `onTransaction` has committed the events;
 * `GET …/users/{userId}` and `…/rooms/{alias}` answered 404 (roomkeeper owns no users but its
 * bot, and no aliases); `POST /_matrix/app/v1/ping` answered 200. Every request must carry the
 * `hs_token`: none is 401 M_UNAUTHORIZED, another 403 M_FORBIDDEN, both before the body is read.
 */
export async function startAppserviceListener(options: AppserviceListenerOptions): Promise<AppserviceListener> {
  const log = options.log.child({ mod: 'appservice' });
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const inflight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const work = handle(req, res).catch((err: unknown) => {
      // The path only: the legacy query string carries the hs_token.
      log.warn({ err, path: (req.url ?? '').split('?', 1)[0] }, 'appservice response failed');
      res.destroy();
    });
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  });
  // A homeserver waits for the answer (the commit); it is the request's headers that must be quick.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  const url = await listenForUrl(server, options.host, options.port, 'appservice');
  server.on('error', (err) => log.error({ err }, 'appservice listener error'));
  log.info({ url }, 'appservice listener up');

  return {
    url,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A transaction being committed is answered; the homeserver would only send it again.
      await Promise.allSettled([...inflight]);
      server.closeAllConnections();
      await closed;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://appservice');
    const route = routeOf(url.pathname);
    const token = tokenOf(req, url);
    if (token === undefined) {
      options.onRejected?.('unauthorized');
      refuse(res, 401, 'M_UNAUTHORIZED', 'missing hs_token');
      return;
    }
    if (!isHsToken(token, options.hsToken)) {
      options.onRejected?.('forbidden');
      log.warn({ path: url.pathname }, 'appservice request with a wrong hs_token refused');
      refuse(res, 403, 'M_FORBIDDEN', 'bad hs_token');
      return;
    }
    switch (route.kind) {
      case 'bad-id':
        refuse(res, 400, 'M_INVALID_PARAM', 'unusable transaction id');
        return;
      case 'unknown':
        refuse(res, 404, 'M_UNRECOGNIZED', 'unrecognized request');
        return;
      case 'user':
      case 'alias':
        if (req.method !== 'GET') return refuse(res, 405, 'M_UNRECOGNIZED', 'method not allowed');
        // Spec: the homeserver asks whether the appservice owns a user or alias; roomkeeper owns neither.
        refuse(res, 404, 'M_NOT_FOUND', route.kind === 'user' ? 'no such user' : 'no such alias');
        return;
      case 'ping':
        if (req.method !== 'POST') return refuse(res, 405, 'M_UNRECOGNIZED', 'method not allowed');
        await readBody(req, maxBody);
        sendJson(res, 200, {});
        return;
      case 'transaction':
        if (req.method !== 'PUT') return refuse(res, 405, 'M_UNRECOGNIZED', 'method not allowed');
        await transaction(req, res, route.txnId);
    }
  }

  async function transaction(req: IncomingMessage, res: ServerResponse, txnId: string): Promise<void> {
    const text = await readBody(req, maxBody);
    if (text === undefined) {
      options.onRejected?.('bad-body');
      refuse(res, 413, 'M_TOO_LARGE', 'transaction too large');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // Any parse failure is the same answer: the body is not JSON.
      body = undefined;
    }
    const events = eventsOfTransaction(body);
    if (!events.ok) {
      // Not recorded as done: the homeserver sends it again, maybe mended.
      options.onRejected?.('bad-body');
      log.warn({ txnId, problem: events.problem }, 'malformed appservice transaction refused');
      sendJson(res, 400, { errcode: 'M_BAD_JSON', error: `transaction body: ${events.problem}` });
      return;
    }
    let outcome: TransactionOutcome;
    try {
      outcome = await options.onTransaction(txnId, events.events);
    } catch (err) {
      log.error({ err, txnId }, 'appservice transaction not committed; the homeserver will send it again');
      sendJson(res, 500, { errcode: 'M_UNKNOWN', error: 'transaction not committed' });
      return;
    }
    log.debug({ txnId, outcome, events: events.events.length }, 'appservice transaction done');
    sendJson(res, 200, {});
  }
}

/** Answers an error without reading the body; the connection then closes, with whatever was unread. */
function refuse(res: ServerResponse, status: number, errcode: string, error: string): void {
  res.setHeader('Connection', 'close');
  sendJson(res, status, { errcode, error });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

/** The body as text, or undefined once it is longer than `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
