import { join } from 'node:path';
import type { ICryptoStorageProvider } from 'matrix-bot-sdk';
import type { Logger } from '../log.js';
import { CRYPTO_UNAVAILABLE_WARNING, cryptoAvailability, RustSdkCryptoStorageProvider } from './sdk.js';

export interface CryptoStoreOptions {
  dataDir: string;
  /** Encryption as configured; it is used only if the native binding also loaded. */
  enabled: boolean;
  log: Logger;
}

/**
 * The crypto store to give RoomkeeperClient, or undefined when encryption is off. Logs at
 * start-up, once per call (call it once), when encrypted DMs cannot be read.
 */
export function openCryptoStore(options: CryptoStoreOptions): ICryptoStorageProvider | undefined {
  const { dataDir, enabled, log } = options;
  const availability = cryptoAvailability();
  if (!availability.available) {
    log.warn({ reason: availability.reason, enabledInConfig: enabled }, CRYPTO_UNAVAILABLE_WARNING);
    return undefined;
  }
  if (!enabled) {
    log.info('end-to-end encryption disabled in the config: encrypted DMs cannot be read');
    return undefined;
  }
  // The rust-sdk keeps its own (sled) store: a directory of its own inside the data dir.
  return new RustSdkCryptoStorageProvider(join(dataDir, 'crypto'));
}
