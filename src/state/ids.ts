import { z } from 'zod';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A Matrix room id (`!opaque:server`, or `!opaque` from room version 12 on). */
export type RoomId = Brand<string, 'RoomId'>;
/** A Matrix event id (`$opaque`). */
export type EventId = Brand<string, 'EventId'>;
/** A Matrix user id (`@localpart:server`). */
export type UserId = Brand<string, 'UserId'>;

/**
 * The store separates the parts of a key with U+00FF; an id holding it could forge another
 * key's prefix, and no valid Matrix id contains it (ids are printable ASCII in practice), so
 * such ids are rejected as bad input. Control characters are rejected for the same reason.
 */
// eslint-disable-next-line no-control-regex
const forbidden = /[\u0000-\u001f\u007f\u00ff]/;

/** A high surrogate not followed by a low one, or a low one not after a high one. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string can be part of a store key: no control character, no key separator, no lone surrogate. */
export function isKeySafe(s: string): boolean {
  return !forbidden.test(s) && !loneSurrogate.test(s);
}

function matrixId(sigil: string, what: string) {
  return z
    .string()
    .min(2, `${what} is too short`)
    .max(255, `${what} is longer than 255 characters`)
    .refine((s) => s.startsWith(sigil), `${what} must start with "${sigil}"`)
    .refine((s) => !forbidden.test(s), `${what} contains a control character or U+00FF`)
    // LevelDB stores keys as UTF-8, where a lone surrogate becomes U+FFFD: two ids that differ
    // only there would share every key while JavaScript still tells them apart.
    .refine((s) => !loneSurrogate.test(s), `${what} is not well-formed UTF-16 (a lone surrogate)`);
}

export const roomIdSchema = matrixId('!', 'room id').transform((s) => s as RoomId);
export const eventIdSchema = matrixId('$', 'event id').transform((s) => s as EventId);
export const userIdSchema = matrixId('@', 'user id')
  .refine((s) => s.indexOf(':') > 1, 'user id must look like @localpart:server')
  .transform((s) => s as UserId);

/** Parses a user id typed by a person (CLI flag, config, command argument). */
export function parseUserId(input: string): UserId | undefined {
  const r = userIdSchema.safeParse(input);
  return r.success ? r.data : undefined;
}

/** Parses a room id typed by a person. */
export function parseRoomId(input: string): RoomId | undefined {
  const r = roomIdSchema.safeParse(input);
  return r.success ? r.data : undefined;
}
