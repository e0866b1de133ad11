import { Module } from 'node:module';
import { join } from 'node:path';
import type * as Sdk from 'matrix-bot-sdk';
import { sdkRequire as locateSdk } from '#sdk-location';
import { RoomkeeperError } from '../errors.js';

/*
 * The one place that loads matrix-bot-sdk. Its index eagerly requires
 * @matrix-org/matrix-sdk-crypto-nodejs (e2ee/CryptoClient.js, e2ee/RustEngine.js), whose native
 * binary comes from an install script that downloads it from GitHub: missing on many hosts, and
 * then the whole SDK fails to load. So the binding is probed first and, when it cannot load, a
 * stand-in whose members throw CRYPTO_UNAVAILABLE is put where the SDK's `require` finds it.
 * Everything else in roomkeeper takes SDK values from matrixSdk() (a static import would load the
 * SDK before the stand-in is in place); `import type` from 'matrix-bot-sdk' elsewhere is fine.
 * Loading is an explicit call (loadMatrixSdk), not a side effect of importing this module.
 */

/** The native crypto package matrix-bot-sdk requires at load time. */
export const CRYPTO_BINDING = '@matrix-org/matrix-sdk-crypto-nodejs';

/** Whether end-to-end encryption can be used in this process, and if not, why. */
export type CryptoAvailability = { available: true } | { available: false; reason: string };

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
interface ModuleInternals {
  _resolveFilename: ResolveFilename;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

function unavailable(what: string, reason: string): never {
  throw new RoomkeeperError('CRYPTO_UNAVAILABLE', `end-to-end encryption is unavailable (${what}): ${reason}`);
}

// Any member, called or constructed, throws; reading a member of a member (OlmMachine.initialize)
// gives another such stand-in. `then` stays undefined so the module is never taken for a promise.
function standInMember(path: string, reason: string): unknown {
  const target = function standIn(): void {};
  return new Proxy(target, {
    apply: () => unavailable(path, reason),
    construct: () => unavailable(path, reason),
    get: (_t, prop) =>
      typeof prop === 'symbol' || prop === 'then' ? undefined : standInMember(`${path}.${prop}`, reason),
  });
}

/** A module object standing in for a missing native binding: every member throws CRYPTO_UNAVAILABLE when used. */
export function cryptoStandIn(reason: string): Record<string, unknown> {
  return new Proxy(
    {},
    {
      get: (_t, prop) =>
        typeof prop === 'symbol' || prop === 'then' || prop === '__esModule'
          ? undefined
          : standInMember(prop, reason),
    },
  );
}

function cachedModule(filename: string, exports: unknown): NodeJS.Module {
  const mod: NodeJS.Module = new Module(filename);
  mod.filename = filename;
  mod.exports = exports;
  mod.loaded = true;
  return mod;
}

/**
 * Runs `load` with `binding` loadable through `req`: the real module when it loads, otherwise a
 * stand-in. Exported for tests, which use a package name that does not exist.
 */
export function loadWithOptionalBinding<T>(
  req: NodeJS.Require,
  binding: string,
  load: () => T,
): { value: T; availability: CryptoAvailability } {
  let resolved: string | undefined;
  try {
    resolved = req.resolve(binding);
    req(binding);
    return { value: load(), availability: { available: true } };
  } catch (err) {
    const reason = firstLine(err);
    const standIn = cryptoStandIn(reason);
    if (resolved !== undefined) {
      // The package is installed but its native part is not: its index.js threw, so Node dropped
      // it from the cache. Seeding the cache under the same resolved filename is enough.
      req.cache[resolved] = cachedModule(resolved, standIn);
      return { value: load(), availability: { available: false, reason } };
    }
    // Not installed at all: resolution fails before the cache is consulted, so resolve the name
    // to a made-up filename while `load` runs (the SDK requires the binding only at load time).
    const fake = join(req.resolve.paths(binding)?.[0] ?? process.cwd(), binding, 'index.js');
    req.cache[fake] = cachedModule(fake, standIn);
    const internals = Module as unknown as ModuleInternals;
    const original = internals._resolveFilename;
    internals._resolveFilename = function resolveFilename(this: unknown, request, parent, isMain, options) {
      return request === binding ? fake : original.call(this, request, parent, isMain, options);
    };
    try {
      return { value: load(), availability: { available: false, reason } };
    } finally {
      internals._resolveFilename = original;
    }
  }
}

/** matrix-bot-sdk's runtime values, with whether its native crypto binding loaded. */
export interface LoadedSdk {
  sdk: typeof Sdk;
  availability: CryptoAvailability;
}

let loaded: LoadedSdk | undefined;

/**
 * Loads matrix-bot-sdk (with the crypto stand-in when the binding cannot load); later calls return
 * the same load. The daemon calls it first thing at start; importing this module loads nothing.
 */
export function loadMatrixSdk(): LoadedSdk {
  if (loaded !== undefined) return loaded;
  // Resolve the binding the way the SDK does, from the SDK's own directory: a copy nested under
  // matrix-bot-sdk/node_modules would win over a top-level one.
  const sdkRequire = locateSdk();
  const result = loadWithOptionalBinding(sdkRequire, CRYPTO_BINDING, () => sdkRequire('matrix-bot-sdk') as typeof Sdk);
  loaded = { sdk: result.value, availability: result.availability };
  return loaded;
}

/** matrix-bot-sdk's runtime values; take them from here, never from 'matrix-bot-sdk' directly. Loads it if nothing has yet. */
export function matrixSdk(): typeof Sdk {
  return loadMatrixSdk().sdk;
}

/** Whether matrix-bot-sdk's native crypto binding loaded (loading the SDK if nothing has yet). */
export function cryptoAvailability(): CryptoAvailability {
  return loadMatrixSdk().availability;
}
