import { requireDataDir, type DataDirUse } from './data-dir.js';
import { Store } from '../store/store.js';

/** The streams a CLI command reads and writes (the process's, or a test's). */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

/** Opens the data dir for one command (checked first, created only for `create`) and closes it after `fn`. */
export async function withStore<T>(dataDir: string, use: DataDirUse, fn: (store: Store) => Promise<T>): Promise<T> {
  // Checked first: LevelDB on /proc or on a file waits or fails with a cause nobody can act on.
  await requireDataDir(dataDir, use);
  const store = await Store.open(dataDir, { create: use === 'create' });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
export function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}
