import { z } from 'zod';
import { RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import { META_KEYS } from '../store/meta-keys.js';
import { errcodeOf } from './homeserver-error.js';
import { classify, DEFAULT_RETRY_POLICY, retrying, toHomeserverError, type RetryPolicy } from './retry.js';
import { matrixSdk } from './sdk.js';
import type { KeyValue } from './storage.js';

/** The device a password login created; kept so that later runs reuse it instead of logging in again. */
export interface DeviceLogin {
  accessToken: string;
  deviceId: string;
}

export const DEVICE_LOGIN_KEY = META_KEYS.deviceLogin;

const deviceLoginSchema = z.strictObject({ accessToken: z.string().min(1), deviceId: z.string().min(1) });

export interface PasswordLoginOptions {
  homeserverUrl: string;
  userId: string;
  password: string;
  kv: KeyValue;
  log: Logger;
  deviceName?: string;
  retry?: Partial<RetryPolicy>;
  /** Aborting it ends the wait for an unreachable homeserver; the last error is then thrown. */
  signal?: AbortSignal;
}

async function storedLogin(kv: KeyValue, log: Logger): Promise<DeviceLogin | undefined> {
  const raw = await kv.get(DEVICE_LOGIN_KEY);
  if (raw === undefined) return undefined;
  try {
    const parsed = deviceLoginSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data;
    log.warn({ key: DEVICE_LOGIN_KEY }, 'stored device login is malformed; logging in again');
  } catch (err) {
    // Continuing on purpose: a fresh login replaces the unreadable entry.
    log.warn({ err, key: DEVICE_LOGIN_KEY }, 'stored device login is not JSON; logging in again');
  }
  return undefined;
}

/**
 * The access token and device of `userId`: the stored ones if a previous run logged in, else
 * from one password login (waiting out an unreachable homeserver), which is then stored.
 */
export async function loginOnce(options: PasswordLoginOptions): Promise<DeviceLogin> {
  const { homeserverUrl, userId, kv, log } = options;
  const stored = await storedLogin(kv, log);
  if (stored !== undefined) {
    log.info({ userId, deviceId: stored.deviceId }, 'reusing stored device login');
    return stored;
  }
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const request = { method: 'POST', path: '/_matrix/client/v3/login' };
  const { MatrixAuth } = matrixSdk();
  try {
    return await retrying(
      async () => {
        // MatrixAuth returns a client, not the login response; whoami gives the new device's id.
        const client = await new MatrixAuth(homeserverUrl).passwordLogin(userId, options.password, options.deviceName ?? 'roomkeeper');
        const whoami = await client.getWhoAmI();
        if (whoami.device_id === undefined) {
          throw new RoomkeeperError('HOMESERVER_ERROR', `${homeserverUrl} did not say which device the login created`);
        }
        const login: DeviceLogin = { accessToken: client.accessToken, deviceId: whoami.device_id };
        await kv.put(DEVICE_LOGIN_KEY, JSON.stringify(login));
        log.info({ userId, deviceId: login.deviceId }, 'logged in with password; device login stored');
        return login;
      },
      { what: 'login', policy, log, signal: options.signal },
    );
  } catch (raw) {
    const errcode = errcodeOf(raw);
    if (errcode === 'M_FORBIDDEN' || errcode === 'M_USER_DEACTIVATED' || classify(raw) === 'fatal-token') {
      throw new RoomkeeperError('TOKEN_INVALID', `the password login of ${userId} was rejected by ${homeserverUrl}: ${errcode ?? 'HTTP 401'}`, {
        cause: toHomeserverError(raw, request),
      });
    }
    throw toHomeserverError(raw, request);
  }
}
