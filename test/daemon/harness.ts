import { loadConfig, type Config } from '../../src/config.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { Store } from '../../src/store/store.js';
import { inspectAll, type InspectDocument } from '../../src/cli/inspect.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { memoryLogger, type LogLine } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';

/** Backoff short enough for tests. */
export const FAST_RETRY = { baseMs: 20, capMs: 200 };

/** A fake homeserver, a data dir and a daemon started against them, for one test. */
export class Harness {
  readonly dirs = new TempDirs();
  hs!: FakeHomeserver;
  dataDir!: string;
  daemon: Daemon | undefined;
  logs: (() => LogLine[]) | undefined;

  async setup(): Promise<void> {
    this.hs = await startFakeHomeserver();
    this.dataDir = await this.dirs.make();
  }

  config(env: Record<string, string> = {}): Config {
    return loadConfig({
      env: {
        ROOMKEEPER_HOMESERVER_URL: this.hs.url,
        ROOMKEEPER_ACCESS_TOKEN: this.hs.botToken,
        ROOMKEEPER_DATA_DIR: this.dataDir,
        ROOMKEEPER_LOG_LEVEL: 'debug',
        ...env,
      },
    });
  }

  /** Starts the daemon and waits until its first sync is committed. */
  async start(env: Record<string, string> = {}): Promise<Daemon> {
    const { log, lines } = memoryLogger('debug');
    this.logs = lines;
    this.daemon = await startDaemon({ config: this.config(env), log, version: 'test', retry: FAST_RETRY });
    await this.caughtUp();
    return this.daemon;
  }

  /**
   * Waits until the daemon has committed everything the fake holds now: it asks for a sync
   * `since` a token only once the response that carried the token is committed.
   */
  async caughtUp(): Promise<void> {
    await this.hs.waitForSyncPast(this.hs.position, 10_000);
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
  }

  /** What the data dir holds, read with the daemon stopped. */
  async inspect(): Promise<InspectDocument> {
    const running = this.daemon !== undefined;
    if (running) throw new TypeError('stop the daemon before inspecting its data dir');
    const store = await Store.open(this.dataDir);
    try {
      return await inspectAll(store);
    } finally {
      await store.close();
    }
  }

  async teardown(): Promise<void> {
    await this.stop();
    await this.hs.close();
    await this.dirs.cleanup();
  }
}
