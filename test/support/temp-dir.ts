import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temporary directories for one test file, removed by `cleanup` (call it in afterEach/afterAll). */
export class TempDirs {
  readonly #dirs: string[] = [];

  /** A new empty directory under the OS temp dir. */
  async make(prefix = 'roomkeeper-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  /** Removes every directory made so far. */
  async cleanup(): Promise<void> {
    const dirs = this.#dirs.splice(0);
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
