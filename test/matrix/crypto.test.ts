import { describe, expect, it } from 'vitest';
import { CRYPTO_UNAVAILABLE_WARNING, ENCRYPTION_HINT, reportEncryption } from '../../src/matrix/crypto.js';
import { memoryLogger } from '../support/memory-log.js';

describe('reportEncryption', () => {
  it('warns once, naming why the binding is missing and where to read more, when the config enables encryption', () => {
    const { log, lines } = memoryLogger('trace');

    reportEncryption({ enabled: true, availability: { available: false, reason: 'Cannot find module x' }, log });

    expect(lines()).toEqual([expect.objectContaining({ level: 40, msg: CRYPTO_UNAVAILABLE_WARNING, binding: 'Cannot find module x', hint: ENCRYPTION_HINT })]);
  });

  it('still warns when the binding loaded, since nothing decrypts', () => {
    const { log, lines } = memoryLogger('trace');

    reportEncryption({ enabled: true, availability: { available: true }, log });

    expect(lines()).toEqual([expect.objectContaining({ msg: CRYPTO_UNAVAILABLE_WARNING, binding: 'loaded' })]);
  });

  it('logs nothing when encryption is left off', () => {
    const { log, lines } = memoryLogger('trace');

    reportEncryption({ enabled: false, availability: { available: false, reason: 'missing' }, log });

    expect(lines()).toEqual([]);
  });
});
