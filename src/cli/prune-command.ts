import { MIN_GUARD_RETENTION_MS } from '../config/index.js';
import { RoomkeeperError } from '../errors.js';
import { formatExactDuration, parseDuration } from '../state/duration.js';
import { withStore, type Io } from './io.js';

/** The change log's default retention (config `changes.retention`), for `--changes-older-than`. */
export const DEFAULT_CHANGES_AGE = '90d';

/**
 * `roomkeeper prune --older-than AGE [--changes-older-than AGE]`: forgets processed events older
 * than AGE (at least 1 h unless forced), and changes of the change log older than the second AGE.
 */
export async function pruneCommand(flags: { dataDir: string; olderThan: string; changesOlderThan: string; force?: boolean }, io: Io): Promise<number> {
  const age = flags.olderThan;
  const ms = parseDuration(age);
  if (ms === undefined) throw new RoomkeeperError('USAGE', `--older-than: "${age}" is not a duration like 30d, 12h, 90m or 45s`);
  const changesAge = flags.changesOlderThan;
  const changesMs = parseDuration(changesAge);
  if (changesMs === undefined || changesMs === 0) {
    throw new RoomkeeperError('USAGE', `--changes-older-than: "${changesAge}" is not a duration like 90d, 30d or 12h`);
  }
  if (ms < MIN_GUARD_RETENTION_MS && flags.force !== true) {
    // The same floor as guard.retention: a pruned entry lets a re-delivered event through again.
    throw new RoomkeeperError(
      'USAGE',
      `--older-than: "${age}" is shorter than ${formatExactDuration(MIN_GUARD_RETENTION_MS)}; events the homeserver re-sends would be applied again (add --force to prune anyway)`,
    );
  }
  const started = Date.now();
  const [removed, changes] = await withStore(flags.dataDir, 'write', async (store) => [
    await store.guard.prune(started - ms),
    await store.changes.prune(started - changesMs),
  ]);
  io.stdout.write(`pruned ${removed} guard entries older than ${age} and ${changes} changes older than ${changesAge} in ${Date.now() - started} ms\n`);
  return 0;
}
