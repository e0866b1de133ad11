import { createRequire } from 'node:module';

/*
 * The CommonJS build's `#sdk-location` (see sdk-location.ts): never loaded as an ES module,
 * where `require` does not exist.
 */

/** A `require` rooted at matrix-bot-sdk's own directory, found from roomkeeper's. */
export function sdkRequire(): NodeJS.Require {
  return createRequire(require.resolve('matrix-bot-sdk'));
}
