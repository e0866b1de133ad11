import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isRoomkeeperError } from '../../src/errors.js';
import { CRYPTO_BINDING, cryptoAvailability, loadMatrixSdk, loadWithOptionalBinding, matrixSdk } from '../../src/matrix/sdk.js';

describe('sdk', () => {
  it('loads matrix-bot-sdk when the native crypto binding is missing', () => {
    // The binding's install script never ran on this machine: the SDK would not load unaided.
    const { availability, sdk } = loadMatrixSdk();
    const { MatrixClient, MatrixAuth, LogService } = sdk;
    expect(cryptoAvailability()).toBe(availability);
    expect(matrixSdk()).toBe(sdk);
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

describe('loadMatrixSdk', () => {
  it('is the only thing that loads matrix-bot-sdk: importing the Matrix modules loads nothing', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "await import('./src/matrix/client.ts'); await import('./src/matrix/sdk-log.ts'); await import('./src/matrix/login.ts');",
      'const cache = createRequire(import.meta.url).cache;',
      "const loaded = () => Object.keys(cache).some((k) => k.includes('matrix-bot-sdk'));",
      'const before = loaded();',
      "const { loadMatrixSdk } = await import('./src/matrix/sdk.ts');",
      'loadMatrixSdk();',
      'console.log(JSON.stringify({ before, after: loaded() }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ before: false, after: true });
  });
});
