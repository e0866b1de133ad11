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
 * ESM static imports are hoisted, so everything else in roomkeeper takes SDK values from here;
 * `import type` from 'matrix-bot-sdk' elsewhere is fine.
 */

/** The native crypto package matrix-bot-sdk requires at load time. */
export const CRYPTO_BINDING = '@matrix-org/matrix-sdk-crypto-nodejs';

/** Whether end-to-end encryption can be used in this process, and if not, why. */
export type CryptoAvailability = { available: true } | { available: false; reason: string };

/** The line the daemon logs (once, at start-up) when the binding is missing. */
export const CRYPTO_UNAVAILABLE_WARNING = 'end-to-end encryption unavailable: encrypted DMs cannot be read';

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

// Resolve the binding the way the SDK does, from the SDK's own directory: a copy nested under
// matrix-bot-sdk/node_modules would win over a top-level one.
const sdkRequire = locateSdk();
const loaded = loadWithOptionalBinding(sdkRequire, CRYPTO_BINDING, () => sdkRequire('matrix-bot-sdk') as typeof Sdk);
const sdk = loaded.value;

/** matrix-bot-sdk's runtime values, every export, loaded with the crypto stand-in when needed. */
export function matrixSdk(): typeof Sdk {
  return sdk;
}

/** Whether matrix-bot-sdk's native crypto binding loaded; when not, encrypted rooms cannot be read. */
export function cryptoAvailability(): CryptoAvailability {
  return loaded.availability;
}

/** matrix-bot-sdk's runtime values; take them from here, never from 'matrix-bot-sdk' directly. */
export const {
  EncryptedRoomEvent,
  LogLevel,
  LogService,
  MatrixAuth,
  MatrixClient,
  MatrixError,
  RustSdkCryptoStorageProvider,
} = sdk;
