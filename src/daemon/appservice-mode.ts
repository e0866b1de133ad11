import { startAppserviceListener, type AppserviceListener } from '../appservice/listener.js';
import type { AppserviceConfig } from '../config/index.js';
import { RoomkeeperError } from '../errors.js';
import type { UserId } from '../state/ids.js';
import type { Readiness } from './health-endpoint.js';
import { createTransactionSink, type TransactionSinkOptions } from './transaction-sink.js';

export interface AppserviceModeOptions extends Omit<TransactionSinkOptions, 'registrationId'> {
  appservice: AppserviceConfig;
  readiness: Readiness;
  /** Start-up reconciliation (config `reconcile.onStart`), queued behind nothing: there is no first sync to wait for. */
  reconcileOnStart?: () => Promise<unknown>;
  now: () => number;
}

/** The localpart of a user id: `@name:server` → `name`. */
function localpartOf(userId: UserId): string {
  return userId.slice(1, userId.indexOf(':'));
}

/**
 * Runs the daemon as an application service: no /sync loop; the homeserver pushes transactions
 * to the listener, which commits each through the pipeline before it answers. Ready once the
 * listener is up (the store is open by then). Throws CONFIG_INVALID when the appservice token
 * belongs to another user than `senderLocalpart`, or the listener cannot listen.
 */
export async function startAppserviceMode(options: AppserviceModeOptions): Promise<AppserviceListener> {
  const { appservice, botUserId, log, readiness } = options;
  if (localpartOf(botUserId) !== appservice.senderLocalpart) {
    throw new RoomkeeperError(
      'CONFIG_INVALID',
      `appservice.senderLocalpart: the appservice token acts as ${botUserId}, not as ${appservice.senderLocalpart}; make it the registration's sender_localpart`,
    );
  }
  const listener = await startAppserviceListener({
    host: appservice.host,
    port: appservice.port,
    hsToken: appservice.hsToken,
    log,
    onRejected: () => options.metrics.countTransaction('rejected'),
    onTransaction: createTransactionSink({ ...options, registrationId: appservice.id, log: log.child({ mod: 'appservice' }) }),
  });
  readiness.maxSyncAgeMs = undefined;
  readiness.starting = undefined;
  if (options.reconcileOnStart !== undefined) {
    const reconcile = options.reconcileOnStart;
    // In the background: the homeserver's transactions queue behind it (both take `exclusive`).
    void reconcile().catch((err: unknown) => log.warn({ err }, 'start-up reconciliation failed; !resync or a restart tries again'));
  }
  return listener;
}
