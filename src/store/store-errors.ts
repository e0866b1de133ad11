import { RoomkeeperError } from '../errors.js';

/**
 * classic-level's errors, converted once at the store boundary into RoomkeeperErrors an operator
 * can act on: one line with the data directory, the cause and what to do. Nothing outside
 * src/store/ sees a `LEVEL_*` code.
 */

function chainOf(err: unknown): { codes: string[]; text: string } {
  const codes: string[] = [];
  const texts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    texts.push(e.message);
  }
  return { codes, text: texts.join(': ') };
}

/** The innermost message of an error chain: LevelDB's own words, with the file it was at. */
function rootCause(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Converts an error of classic-level, LevelDB or the file system met while opening (`open`) or
 * using the store of `dataDir`. A RoomkeeperError passes through unchanged.
 */
export function storeError(err: unknown, dataDir: string, during: 'open' | 'use'): RoomkeeperError {
  if (err instanceof RoomkeeperError) return err;
  const { codes, text } = chainOf(err);
  const cause = rootCause(err);
  const make = (code: ConstructorParameters<typeof RoomkeeperError>[0], what: string, hint: string) =>
    new RoomkeeperError(code, `data directory ${dataDir}: ${what} (${cause}); ${hint}`, { cause: err });
  if (during === 'use' && codes.includes('LEVEL_DATABASE_NOT_OPEN') && codes.length === 1) {
    return new RoomkeeperError('STORE_CLOSED', `the roomkeeper store of ${dataDir} is closed`, { cause: err });
  }
  if (/no space left|ENOSPC|disk quota|EDQUOT/i.test(text)) {
    return make('STORE_NO_SPACE', 'the disk is full', 'free space on it; roomkeeper resumes from its last commit');
  }
  if (/read-only file system|EROFS/i.test(text)) {
    return make('STORE_UNWRITABLE', 'the file system is read-only', 'mount it read-write');
  }
  if (/permission denied|EACCES|EPERM|operation not permitted/i.test(text)) {
    return make('STORE_UNWRITABLE', 'permission denied', 'give the user running roomkeeper read and write access to the directory and its files');
  }
  // classic-level calls every failure to take LevelDB's LOCK file locked, a read-only one included.
  if (codes.includes('LEVEL_LOCKED')) {
    return new RoomkeeperError('STORE_LOCKED', `data directory ${dataDir} is in use by another roomkeeper process`, { cause: err });
  }
  if (codes.includes('LEVEL_CORRUPTION') || /corruption/i.test(text)) {
    return make('STORE_CORRUPT', 'the database is damaged', 'restore the data directory from a backup');
  }
  if (/does not exist \(create_if_missing is false\)/.test(text)) {
    return make('STORE_NOT_FOUND', 'there is no database', 'check --data-dir');
  }
  return make(during === 'open' ? 'STORE_OPEN_FAILED' : 'STORE_IO_FAILED', `the database ${during === 'open' ? 'cannot be opened' : 'failed'}`, 'check the disk and the directory');
}

/**
 * `target` with every method's failure, thrown or rejected, passed through `convert`: one place
 * for a whole class's errors rather than a try in each of its methods.
 */
export function convertingErrors<T extends object>(target: T, convert: (err: unknown) => RoomkeeperError): T {
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        let out: unknown;
        try {
          out = (value as (...a: unknown[]) => unknown).apply(t, args);
        } catch (err) {
          throw convert(err);
        }
        return out instanceof Promise ? out.catch((err: unknown) => Promise.reject(convert(err))) : out;
      };
    },
  });
}
