import { loadConfig } from '../config/index.js';
import { startDaemon } from '../daemon/daemon.js';
import { isRoomkeeperError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';

export interface RunOptions {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  stdoutIsTTY: boolean;
  version: string;
  /** Writes the one line an operator reads when the daemon cannot start or stops on its own. */
  fail: (message: string) => void;
}

/** A shutdown that takes longer than this is abandoned with exit code 1. */
const SHUTDOWN_LIMIT_MS = 5_000;

/**
 * `roomkeeper run`: loads the config, starts the daemon and runs until SIGINT or SIGTERM (exit 0)
 * or until it stops on its own (its token was revoked: exit 2).
 */
export async function run(options: RunOptions): Promise<number> {
  const config = loadConfig({ file: options.configFile, env: options.env });
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && options.stdoutIsTTY);
  const log = createLogger({ level: config.log.level, fd: 1, pretty });

  // A signal during start-up (e.g. while waiting for a homeserver that is down) must stop it too.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const abandon = new AbortController();
  const started = startDaemon({ config, log, version: options.version, signal: abandon.signal });
  const first = await Promise.race([started.then((d) => ({ daemon: d })), signalled.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    log.info({ signal: first.signal }, 'stopping before start-up finished');
    // Ends the start-up's retries; startDaemon then cleans up after itself and rejects. When it
    // got through anyway, stop what it started.
    abandon.abort();
    await withinShutdownLimit(log, started.then((d) => d.stop(), () => undefined));
    log.info('stopped');
    return 0;
  }
  const { daemon } = first;
  const outcome = await Promise.race([signalled.then((signal) => ({ signal })), daemon.fatal.then((err) => ({ err }))]);
  if ('signal' in outcome) log.info({ signal: outcome.signal }, 'stopping');
  await withinShutdownLimit(log, daemon.stop());
  if ('err' in outcome) {
    log.error({ err: outcome.err }, 'stopped: the homeserver no longer accepts the bot');
    options.fail(isRoomkeeperError(outcome.err) ? outcome.err.message : 'syncing stopped for good; see the log');
    return 2;
  }
  log.info('stopped');
  return 0;
}

/** Waits for a shutdown; one that takes longer than SHUTDOWN_LIMIT_MS is abandoned with exit code 1. */
async function withinShutdownLimit(log: Logger, stopping: Promise<void>): Promise<void> {
  const timer = setTimeout(() => {
    log.error('shutdown took longer than 5 s; exiting anyway');
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS);
  timer.unref();
  try {
    await stopping;
  } finally {
    clearTimeout(timer);
  }
}
