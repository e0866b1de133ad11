import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { Store } from '../../src/store/store.js';
import { inspectAll, type InspectDocument } from '../../src/cli/inspect.js';
import { expectedInspect } from '../support/expected-state.js';
import { startFakeHomeserver, type FakeHomeserver, type FakeHomeserverOptions, type JsonObject } from '../support/fake-homeserver.js';
import { memoryLogger, type LogLine } from '../support/memory-log.js';
import { TempDirs } from '../support/temp-dir.js';

/** Backoff short enough for tests. */
export const FAST_RETRY = { baseMs: 20, capMs: 200 };

export interface StartOptions {
  /** YAML config file contents, for the fields the environment cannot set. */
  yaml?: string;
  /** Wait until the first sync is committed (default true). */
  caughtUp?: boolean;
}

/** A fake homeserver, a data dir and a daemon started against them, for one test. */
export class Harness {
  readonly dirs = new TempDirs();
  hs!: FakeHomeserver;
  dataDir!: string;
  daemon: Daemon | undefined;
  /** The log lines of the latest run. */
  logs: (() => LogLine[]) | undefined;
  readonly #runs: (() => LogLine[])[] = [];
  #starting: Promise<Daemon> | undefined;
  #abandon = new AbortController();

  async setup(options: FakeHomeserverOptions = {}): Promise<void> {
    this.hs = await startFakeHomeserver(options);
    this.dataDir = await this.dirs.make();
  }

  config(env: Record<string, string> = {}, file?: string): Config {
    return loadConfig({
      file,
      env: {
        ROOMKEEPER_HOMESERVER_URL: this.hs.url,
        ROOMKEEPER_ACCESS_TOKEN: this.hs.botToken,
        ROOMKEEPER_DATA_DIR: this.dataDir,
        ROOMKEEPER_LOG_LEVEL: 'debug',
        ...env,
      },
    });
  }

  /** Starts the daemon and (unless told otherwise) waits until its first sync is committed. */
  async start(env: Record<string, string> = {}, options: StartOptions = {}): Promise<Daemon> {
    const syncsBefore = this.hs.syncs.length;
    const daemon = await this.launch(env, options);
    if (options.caughtUp !== false) {
      // Past the first response of this run too: start-up reconciliation runs once it is committed.
      const position = this.hs.position;
      const bot = this.hs.botUserId;
      await this.hs.waitFor(
        () => this.hs.syncs.slice(syncsBefore + 1).some((s) => s.userId === bot && s.since !== undefined && s.since >= position),
        10_000,
        'the first sync of this run committed',
      );
    }
    return daemon;
  }

  /**
   * Calls startDaemon; the promise settles when start-up does (which waits for the homeserver).
   * `this.daemon` is set once it has.
   */
  async launch(env: Record<string, string> = {}, options: StartOptions = {}): Promise<Daemon> {
    let file: string | undefined;
    if (options.yaml !== undefined) {
      file = join(await this.dirs.make('roomkeeper-config-'), 'config.yaml');
      await writeFile(file, options.yaml);
    }
    const { log, lines } = memoryLogger('debug');
    this.logs = lines;
    this.#runs.push(lines);
    this.#abandon = new AbortController();
    const starting = startDaemon({ config: this.config(env, file), log, version: 'test', retry: FAST_RETRY, signal: this.#abandon.signal });
    this.#starting = starting;
    try {
      this.daemon = await starting;
    } finally {
      this.#starting = undefined;
    }
    return this.daemon;
  }

  /** Every log line of every run of this harness, in order. */
  allLogs(): LogLine[] {
    return this.#runs.flatMap((lines) => lines());
  }

  /** Log lines of every run with this message. */
  logged(msg: string): LogLine[] {
    return this.allLogs().filter((l) => l.msg === msg);
  }

  /**
   * Waits until the daemon has committed everything the fake holds now: it asks for a sync
   * `since` a token only once the response that carried the token is committed.
   */
  async caughtUp(timeoutMs = 10_000): Promise<void> {
    await this.hs.waitForSyncPast(this.hs.position, timeoutMs);
    // Commands are answered in the background once committed.
    await this.daemon?.answered();
  }

  /** Waits for the bot to be joined to `roomId` on the server, then for the daemon to commit that. */
  async joined(roomId: string): Promise<void> {
    await this.hs.waitFor(() => this.hs.membership(roomId, this.hs.botUserId) === 'join', 10_000, `bot joined ${roomId}`);
    await this.caughtUp();
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
  }

  /** Runs `fn` on the data dir's store, with the daemon stopped. */
  async withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.daemon !== undefined) throw new TypeError('stop the daemon before opening its data dir');
    const store = await Store.open(this.dataDir, { create: true });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  /** What the data dir holds, read with the daemon stopped. */
  async inspect(): Promise<InspectDocument> {
    return this.withStore(inspectAll);
  }

  /** What the data dir must hold once the daemon has followed the fake to its current position. */
  expected(): InspectDocument {
    return expectedInspect(this.hs, this.hs.botUserId);
  }

  /**
   * The sum of a Prometheus counter or gauge over its series, or over those with all of `labels`
   * (needs ROOMKEEPER_HTTP_LISTEN).
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const url = this.daemon?.httpUrl;
    if (url === undefined) throw new TypeError('start the daemon with ROOMKEEPER_HTTP_LISTEN to read metrics');
    const text = await (await fetch(`${url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (m?.[1] !== name) continue;
      const series = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => series.split(',').includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  /** Ids of the room events the fake has sent the bot in its /sync responses (state and timeline). */
  deliveredEventIds(): string[] {
    const ids: string[] = [];
    for (const s of this.hs.syncs) {
      if (s.userId !== this.hs.botUserId || s.response === undefined) continue;
      const rooms = s.response['rooms'] as Record<string, Record<string, JsonObject>> | undefined;
      for (const section of ['join', 'leave'] as const) {
        for (const room of Object.values(rooms?.[section] ?? {})) {
          for (const block of ['state', 'timeline'] as const) {
            for (const ev of ((room[block] as JsonObject | undefined)?.['events'] ?? []) as JsonObject[]) {
              if (typeof ev['event_id'] === 'string') ids.push(ev['event_id']);
            }
          }
        }
      }
    }
    return ids;
  }

  async teardown(): Promise<void> {
    // A start-up still waiting for the homeserver is abandoned.
    this.#abandon.abort();
    await this.#starting?.then((d) => d.stop()).catch(() => undefined);
    await this.stop();
    await this.hs.close();
    await this.dirs.cleanup();
  }
}
