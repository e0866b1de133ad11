import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { SyncSink } from '../matrix/client.js';
import type { Serial } from '../serial.js';
import type { Pipeline } from '../sync/pipeline.js';
import { commitBody } from './commit-body.js';
import type { Effects } from './effects.js';
import type { InviteService } from './invite-service.js';
import type { PendingInvites } from './pending-invites.js';

export interface SyncSinkOptions {
  pipeline: Pipeline;
  /** The queue the pipeline and reconciliation share (see daemon.ts). */
  exclusive: Serial;
  pending: PendingInvites;
  invites: InviteService;
  effects: Effects;
  metrics: Metrics;
  /** Whether the data dir has synced before: the first sync of a new one is history, not commands. */
  synced: boolean;
  /** Reconciliation to run once after the first response (config `reconcile.onStart`). */
  reconcileOnStart?: () => Promise<unknown>;
  /** Called once the first response is committed (the daemon then long-polls). */
  onFirstResponse?: () => void;
  log: Logger;
}

/**
 * Where the client's sync loop hands each whole response: commit it through the pipeline (its
 * invites in the same batch as the token), count it, hand it to effects, and after the first one
 * reconcile. Resolves once the response is
 * committed; a rejection makes the loop give it again.
 */
export function createSyncSink(options: SyncSinkOptions): SyncSink {
  const { exclusive, log } = options;
  let synced = options.synced;
  let reconcilePending = options.reconcileOnStart;
  let first = true;
  return async (body) => {
    if (first) options.onFirstResponse?.();
    first = false;
    await exclusive(() => commitBody(body, options, { initial: !synced }));
    synced = true;
    // After the first sync rather than before it: a snapshot from /state taken before would be
    // followed by that sync's older events, which the guard has not seen (only the current
    // state is marked) and which would be applied over the newer state. Inside the sink, so
    // that the next response waits for it.
    if (reconcilePending !== undefined) {
      try {
        await reconcilePending();
        reconcilePending = undefined;
      } catch (err) {
        log.warn({ err }, 'start-up reconciliation failed; trying again after the next sync');
      }
    }
  };
}
