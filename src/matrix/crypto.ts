import type { Logger } from '../log.js';
import type { CryptoAvailability } from './sdk.js';

/** The line the daemon logs once at start-up when the config asks for encryption. */
export const CRYPTO_UNAVAILABLE_WARNING = 'end-to-end encryption unavailable: encrypted DMs cannot be read';

/** Where the warning sends the operator; the README section of that name says what to do. */
export const ENCRYPTION_HINT = 'see "Encryption" in README.md: talk to the bot in an unencrypted DM';

export interface EncryptionReportOptions {
  /** `encryption.enabled` from the config. */
  enabled: boolean;
  /** Whether matrix-bot-sdk's native crypto binding loaded (loadMatrixSdk). */
  availability: CryptoAvailability;
  log: Logger;
}

/**
 * Logs, once at start-up, that encrypted DMs cannot be read, when the config asks for encryption.
 * roomkeeper never decrypts (the bot's device uploads no keys, so clients do not encrypt to it
 * by default), so with the binding present or not the answer is the same; the binding's state
 * is logged for the operator who installed it on purpose.
 */
export function reportEncryption(options: EncryptionReportOptions): void {
  const { enabled, availability, log } = options;
  if (!enabled) return;
  const binding = availability.available ? 'loaded' : availability.reason;
  log.warn({ binding, hint: ENCRYPTION_HINT }, CRYPTO_UNAVAILABLE_WARNING);
}
