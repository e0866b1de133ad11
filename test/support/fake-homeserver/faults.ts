/** Faults a test arms on the fake homeserver, and which request each one hits. */
import type { RouteName } from './routes.js';

/**
 * What the fake does instead of answering normally:
 * - `{ status, errcode?, error?, retryAfterMs? }`: an error response with a Matrix error body
 *   (`errcode` defaults by status: 401 M_UNKNOWN_TOKEN, 403 M_FORBIDDEN, 404 M_NOT_FOUND,
 *   429 M_LIMIT_EXCEEDED, otherwise M_UNKNOWN); `retryAfterMs` becomes `retry_after_ms`;
 * - `{ status, rawBody }`: a non-JSON error body, as a reverse proxy sends (e.g. 502);
 * - `{ drop: true }`: the socket is destroyed without a response;
 * - `{ delayMs }`: the request is answered normally, `delayMs` late.
 */
export type Fault =
  | { status: number; errcode?: string; error?: string; retryAfterMs?: number }
  | { status: number; rawBody: string }
  | { drop: true }
  | { delayMs: number };

/** Which requests a fault hits: an endpoint family, or a method and a regex on the decoded path. */
export type RouteMatcher = RouteName | { method?: string; path: RegExp };

/** The facts of a request a matcher looks at. */
export interface RequestFacts {
  readonly method: string;
  readonly path: string;
  readonly route: RouteName;
}

/** True when the matcher selects this request. */
export function matchesRequest(matcher: RouteMatcher, req: RequestFacts): boolean {
  if (typeof matcher === 'string') return matcher === req.route;
  return (matcher.method === undefined || matcher.method.toUpperCase() === req.method) && matcher.path.test(req.path);
}

/** The errcode a real server sends with this status when the fault names none. */
export function defaultErrcode(status: number): string {
  switch (status) {
    case 401:
      return 'M_UNKNOWN_TOKEN';
    case 403:
      return 'M_FORBIDDEN';
    case 404:
      return 'M_NOT_FOUND';
    case 429:
      return 'M_LIMIT_EXCEEDED';
    default:
      return 'M_UNKNOWN';
  }
}

interface ArmedFault {
  readonly matcher: RouteMatcher;
  readonly fault: Fault;
  remaining: number;
}

/** Armed faults, consumed first-armed first by the requests they match. */
export class FaultPlan {
  readonly #armed: ArmedFault[] = [];

  /** Arms `fault` for the next `count` requests that `matcher` selects. */
  add(matcher: RouteMatcher, fault: Fault, count: number): void {
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`count must be a positive integer, got ${count}`);
    this.#armed.push({ matcher, fault, remaining: count });
  }

  /** Consumes and returns the fault for this request, if one is armed for it. */
  take(req: RequestFacts): Fault | undefined {
    const index = this.#armed.findIndex((a) => matchesRequest(a.matcher, req));
    const armed = this.#armed[index];
    if (armed === undefined) return undefined;
    armed.remaining -= 1;
    if (armed.remaining === 0) this.#armed.splice(index, 1);
    return armed.fault;
  }

  /** How many fault hits are still armed. */
  get pending(): number {
    return this.#armed.reduce((n, a) => n + a.remaining, 0);
  }

  /** Disarms every fault. */
  clear(): void {
    this.#armed.length = 0;
  }
}
