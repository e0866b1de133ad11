import { describe, expect, it } from 'vitest';
import { openCryptoStore } from '../../src/matrix/crypto.js';
import { CRYPTO_UNAVAILABLE_WARNING } from '../../src/matrix/sdk.js';
import { memoryLogger } from '../support/memory-log.js';

describe('openCryptoStore', () => {
  it('returns no store and warns once when the binding is missing', () => {
    const { log, lines } = memoryLogger('trace');

    const store = openCryptoStore({ dataDir: '/nonexistent', enabled: true, log });

    expect(store).toBeUndefined();
    expect(lines()).toEqual([
      expect.objectContaining({ level: 40, msg: CRYPTO_UNAVAILABLE_WARNING, enabledInConfig: true, reason: expect.stringMatching(/matrix-sdk-crypto-nodejs/) }),
    ]);
  });
});
