import type { Config } from '../config/index.js';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RoomkeeperClient } from '../matrix/client.js';
import { loginOnce } from '../matrix/login.js';
import type { RetryPolicy } from '../matrix/retry.js';
import type { KeyValue } from '../matrix/storage.js';
import { parseUserId, type UserId } from '../state/ids.js';

export interface AccessTokenOptions {
  auth: Config['auth'];
  homeserverUrl: string;
  /** Where a password login keeps its device and token for later runs. */
  kv: KeyValue;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
}

/** The bot's access token: the configured one, or a password login's (stored, or made now and stored). */
export async function accessTokenOf(options: AccessTokenOptions): Promise<string> {
  const { auth } = options;
  if (auth.method === 'accessToken') return auth.accessToken;
  const login = await loginOnce({
    homeserverUrl: options.homeserverUrl,
    userId: auth.userId,
    password: auth.password,
    kv: options.kv,
    log: options.log,
    retry: options.retry,
    signal: options.signal,
  });
  return login.accessToken;
}

/**
 * Who the token belongs to, by whoami (waiting out an unreachable homeserver). Throws
 * CONFIG_INVALID when the config names another user, TOKEN_INVALID when the token is rejected.
 */
export async function botIdentity(client: RoomkeeperClient, expected: UserId | undefined): Promise<UserId> {
  const who = await client.whoAmIOrFail();
  const botUserId = parseUserId(who.user_id);
  if (botUserId === undefined) throw new RoomkeeperError('HOMESERVER_ERROR', `whoami returned "${who.user_id}", which is not a user id`);
  if (expected !== undefined && expected !== botUserId) {
    throw new RoomkeeperError('CONFIG_INVALID', `userId: the access token belongs to ${botUserId}, not ${expected}`);
  }
  return botUserId;
}
