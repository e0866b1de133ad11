import { createRequire } from 'node:module';

/*
 * Reached through the package's "imports" (`#sdk-location`): this file in the ESM build, its twin
 * sdk-location-cjs.ts in the CommonJS build, since `import.meta` exists only in ES modules and
 * `require` only in CommonJS ones.
 */

/** A `require` rooted at matrix-bot-sdk's own directory, found from roomkeeper's. */
export function sdkRequire(): NodeJS.Require {
  return createRequire(createRequire(import.meta.url).resolve('matrix-bot-sdk'));
}
