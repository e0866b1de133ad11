import { loadConfig, type Config } from '../../src/config/index.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { AppservicePusher } from '../support/fake-homeserver.js';
import { Harness, type StartOptions } from './harness.js';

export const HS_TOKEN = 'test-hs-token';
export const AS_TOKEN = 'test-as-token';

/** The fake homeserver, a data dir and a daemon in appservice mode, the fake pushing transactions to it. */
export class AppserviceHarness extends Harness {
  pusher!: AppservicePusher;

  override async setup(): Promise<void> {
    await super.setup();
    this.pusher = this.hs.pushToAppservice({ hsToken: HS_TOKEN, asToken: AS_TOKEN });
  }

  override config(env: Record<string, string> = {}, file?: string): Config {
    return loadConfig({
      file,
      env: {
        ROOMKEEPER_HOMESERVER_URL: this.hs.url,
        ROOMKEEPER_MODE: 'appservice',
        ROOMKEEPER_APPSERVICE_HS_TOKEN: HS_TOKEN,
        ROOMKEEPER_APPSERVICE_AS_TOKEN: AS_TOKEN,
        ROOMKEEPER_DATA_DIR: this.dataDir,
        ROOMKEEPER_LOG_LEVEL: 'debug',
        ...env,
      },
    });
  }

  /** Starts the daemon on a free port and points the fake's pushes at it. */
  override async start(env: Record<string, string> = {}, options: StartOptions = {}): Promise<Daemon> {
    const daemon = await this.launch(env, { yaml: options.yaml ?? 'appservice:\n  port: 0\n' });
    if (daemon.appserviceUrl === undefined) throw new TypeError('the daemon did not start in appservice mode');
    this.pusher.target(daemon.appserviceUrl);
    return daemon;
  }

  /** Waits until every event so far is acknowledged, and the commands in them answered. */
  override async caughtUp(timeoutMs = 10_000): Promise<void> {
    await this.pusher.drained(timeoutMs);
    await this.daemon?.answered();
  }
}
