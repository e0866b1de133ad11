import { MIN_GUARD_RETENTION_MS } from '../config/index.js';
import { RoomkeeperError } from '../errors.js';
import { formatExactDuration, parseDuration } from '../state/duration.js';
import { withStore, type Io } from './io.js';

/** `roomkeeper prune --older-than AGE`: forgets processed events older than AGE (at least 1 h unless forced). */
export async function pruneCommand(flags: { dataDir: string; olderThan: string; force?: boolean }, io: Io): Promise<number> {
  const age = flags.olderThan;
  const ms = parseDuration(age);
  if (ms === undefined) throw new RoomkeeperError('USAGE', `--older-than: "${age}" is not a duration like 30d, 12h, 90m or 45s`);
  if (ms < MIN_GUARD_RETENTION_MS && flags.force !== true) {
    // The same floor as guard.retention: a pruned entry lets a re-delivered event through again.
    throw new RoomkeeperError(
      'USAGE',
      `--older-than: "${age}" is shorter than ${formatExactDuration(MIN_GUARD_RETENTION_MS)}; events the homeserver re-sends would be applied again (add --force to prune anyway)`,
    );
  }
  const started = Date.now();
  const removed = await withStore(flags.dataDir, 'write', (store) => store.guard.prune(started - ms));
  io.stdout.write(`pruned ${removed} guard entries older than ${age} in ${Date.now() - started} ms\n`);
  return 0;
}
