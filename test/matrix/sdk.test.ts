import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import { CRYPTO_BINDING, cryptoAvailability, loadWithOptionalBinding, MatrixClient, MatrixAuth, LogService } from '../../src/matrix/sdk.js';

describe('sdk', () => {
  it('loads matrix-bot-sdk when the native crypto binding is missing', () => {
    // The binding's install script never ran on this machine: the SDK would not load unaided.
    const availability = cryptoAvailability();
    expect(availability.available).toBe(false);
    if (!availability.available) expect(availability.reason).toMatch(/matrix-sdk-crypto-nodejs/);
    expect(typeof MatrixClient).toBe('function');
    expect(typeof MatrixAuth).toBe('function');
    expect(typeof LogService.setLogger).toBe('function');
    expect(new MatrixClient('http://127.0.0.1:1', 'token')).toBeInstanceOf(MatrixClient);
  });

  it('makes binding members throw CRYPTO_UNAVAILABLE when they are used', () => {
    const sdkRequire = createRequire(createRequire(import.meta.url).resolve('matrix-bot-sdk'));
    const binding = sdkRequire(CRYPTO_BINDING) as { OlmMachine: { initialize: () => unknown }; UserId: new (id: string) => unknown };
    const err1 = (() => {
      try {
        binding.OlmMachine.initialize();
      } catch (err) {
        return err;
      }
    })();
    expect(isRoomkeeperError(err1, 'CRYPTO_UNAVAILABLE')).toBe(true);
    expect(() => new binding.UserId('@a:b')).toThrow(/end-to-end encryption is unavailable/);
  });

  it('loads with a stand-in when the binding package is not installed at all', () => {
    const req = createRequire(import.meta.url);
    const name = '@roomkeeper-test/no-such-binding';
    const load = (): Record<string, () => unknown> => {
      const mod: unknown = req(name);
      return mod as Record<string, () => unknown>;
    };
    const loaded = loadWithOptionalBinding(req, name, load);
    expect(loaded.availability).toEqual({ available: false, reason: `Cannot find module '${name}'` });
    expect(() => loaded.value['anything']?.()).toThrow(/end-to-end encryption is unavailable/);
    // The resolution hook is gone once loading is over.
    expect(() => void req(name)).toThrow(/Cannot find module/);
  });

  it('reports the binding available when it loads', () => {
    const req = createRequire(import.meta.url);
    const loaded = loadWithOptionalBinding(req, 'node:path', () => 'sdk');
    expect(loaded).toEqual({ value: 'sdk', availability: { available: true } });
  });
});
