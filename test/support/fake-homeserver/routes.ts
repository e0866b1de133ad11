/**
 * The client-server API endpoints the fake serves, and the matching of a request path to one.
 * matrix-bot-sdk 0.7.1 calls `/_matrix/client/v3/...` everywhere (and `/_matrix/client/versions`);
 * `r0` is accepted as well for older clients.
 */

/** A family of endpoints, as named in `failNext` and in recorded requests. */
export type RouteName =
  | 'versions'
  | 'login'
  | 'whoami'
  | 'filter'
  | 'sync'
  | 'join'
  | 'leave'
  | 'invite'
  | 'kick'
  | 'ban'
  | 'unban'
  | 'joined_rooms'
  | 'state'
  | 'joined_members'
  | 'members'
  | 'event'
  | 'send'
  | 'account_data'
  | 'directory'
  | 'profile'
  | 'createRoom'
  | 'unknown';

interface RouteSpec {
  readonly name: RouteName;
  readonly method: string;
  /** Path segments after the version prefix; `:x` captures a segment, `:x?` an optional last one. */
  readonly pattern: string;
  readonly auth: boolean;
}

/** All endpoints; `id` (method and pattern) selects the handler. */
export const ROUTES = [
  { name: 'login', method: 'GET', pattern: 'login', auth: false },
  { name: 'login', method: 'POST', pattern: 'login', auth: false },
  { name: 'whoami', method: 'GET', pattern: 'account/whoami', auth: true },
  { name: 'filter', method: 'POST', pattern: 'user/:userId/filter', auth: true },
  { name: 'filter', method: 'GET', pattern: 'user/:userId/filter/:filterId', auth: true },
  { name: 'sync', method: 'GET', pattern: 'sync', auth: true },
  { name: 'join', method: 'POST', pattern: 'join/:target', auth: true },
  { name: 'join', method: 'POST', pattern: 'rooms/:roomId/join', auth: true },
  { name: 'leave', method: 'POST', pattern: 'rooms/:roomId/leave', auth: true },
  { name: 'invite', method: 'POST', pattern: 'rooms/:roomId/invite', auth: true },
  { name: 'kick', method: 'POST', pattern: 'rooms/:roomId/kick', auth: true },
  { name: 'ban', method: 'POST', pattern: 'rooms/:roomId/ban', auth: true },
  { name: 'unban', method: 'POST', pattern: 'rooms/:roomId/unban', auth: true },
  { name: 'joined_rooms', method: 'GET', pattern: 'joined_rooms', auth: true },
  { name: 'state', method: 'GET', pattern: 'rooms/:roomId/state', auth: true },
  { name: 'state', method: 'GET', pattern: 'rooms/:roomId/state/:type/:stateKey?', auth: true },
  { name: 'state', method: 'PUT', pattern: 'rooms/:roomId/state/:type/:stateKey?', auth: true },
  { name: 'joined_members', method: 'GET', pattern: 'rooms/:roomId/joined_members', auth: true },
  { name: 'members', method: 'GET', pattern: 'rooms/:roomId/members', auth: true },
  { name: 'event', method: 'GET', pattern: 'rooms/:roomId/event/:eventId', auth: true },
  { name: 'send', method: 'PUT', pattern: 'rooms/:roomId/send/:eventType/:txnId', auth: true },
  { name: 'account_data', method: 'GET', pattern: 'user/:userId/account_data/:type', auth: true },
  { name: 'account_data', method: 'PUT', pattern: 'user/:userId/account_data/:type', auth: true },
  { name: 'directory', method: 'GET', pattern: 'directory/room/:alias', auth: true },
  { name: 'profile', method: 'GET', pattern: 'profile/:userId', auth: true },
  { name: 'createRoom', method: 'POST', pattern: 'createRoom', auth: true },
] as const satisfies readonly RouteSpec[];

/** `"METHOD pattern"`, the key of a handler. */
export type RouteId = RouteIdOf<(typeof ROUTES)[number]> | 'GET versions';
type RouteIdOf<R> = R extends { method: infer M extends string; pattern: infer P extends string } ? `${M} ${P}` : never;

/** A request path resolved to an endpoint. */
export interface RouteMatch {
  readonly id: RouteId;
  readonly name: RouteName;
  readonly auth: boolean;
  /** Captured segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

const VERSIONED_PREFIX = /^\/_matrix\/client\/(?:v3|r0)\//;

/** The endpoint a request is for, or undefined when the fake does not serve it. */
export function matchRoute(method: string, pathname: string): RouteMatch | undefined {
  if (pathname === '/_matrix/client/versions') {
    return method === 'GET' ? { id: 'GET versions', name: 'versions', auth: false, params: {} } : undefined;
  }
  const prefix = VERSIONED_PREFIX.exec(pathname);
  if (prefix === null) return undefined;
  let segments: string[];
  try {
    segments = pathname.slice(prefix[0].length).split('/').map(decodeURIComponent);
  } catch (err) {
    if (err instanceof URIError) return undefined;
    throw err;
  }
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const params = matchSegments(route.pattern.split('/'), segments);
    if (params !== undefined) {
      return { id: `${route.method} ${route.pattern}` as RouteId, name: route.name, auth: route.auth, params };
    }
  }
  return undefined;
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const last = pattern.at(-1) ?? '';
  const optionalLast = last.startsWith(':') && last.endsWith('?');
  // `/state/m.room.name` and `/state/m.room.name/` both mean the empty state key.
  if (segments.length !== pattern.length && !(optionalLast && segments.length === pattern.length - 1)) return undefined;
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i];
    if (part.startsWith(':')) {
      const optional = part.endsWith('?');
      if (!optional && (segment === undefined || segment === '')) return undefined;
      params[part.slice(1).replace(/\?$/, '')] = segment ?? '';
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
}
