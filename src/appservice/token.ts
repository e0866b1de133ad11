import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The token a homeserver request carries: `Authorization: Bearer …` (Application Service API
 * since v1.4), else the legacy `access_token` query parameter; undefined when it has none.
 */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  return url.searchParams.get('access_token') ?? undefined;
}

/**
 * Whether `given` is the registration's `hs_token`, in time that does not depend on where they
 * differ: both are hashed first, so that timingSafeEqual gets equal lengths and the length of
 * the real token does not show either.
 */
export function isHsToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
