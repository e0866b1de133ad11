import type { Metrics } from '../http/metrics.js';
import { eventType } from '../state/events.js';
import type { TransactionRef } from '../store/sync-store.js';
import type { Pipeline, ProcessResult } from '../sync/pipeline.js';
import type { Effects } from './effects.js';
import type { InviteService } from './invite-service.js';
import type { PendingInvites } from './pending-invites.js';

/** What committing a body needs of the daemon's services. */
export interface CommitBodyDeps {
  pipeline: Pipeline;
  pending: PendingInvites;
  invites: InviteService;
  effects: Effects;
  metrics: Metrics;
}

/**
 * What both feeds do with a body they received (a /sync response, or a transaction turned into
 * one): commit it through the pipeline, its pending invites in the batch that moves the token
 * past them, count it, and hand it to effects. `initial`: the first sync of a new data dir, whose
 * messages are history, not commands.
 */
export async function commitBody(
  body: unknown,
  deps: CommitBodyDeps,
  options: { initial: boolean; transaction?: TransactionRef },
): Promise<ProcessResult> {
  const { pipeline, pending, invites, effects, metrics } = deps;
  const started = performance.now();
  const result = await pipeline.process(body, {
    metaWithToken: (list) => pending.record(list),
    ...(options.transaction === undefined ? {} : { transaction: options.transaction }),
  });
  metrics.observeCommit((performance.now() - started) / 1000);
  invites.joinsSynced(result.snapshots);
  for (const f of result.fresh) metrics.countEvents('applied', eventType(f.event));
  metrics.countEvents('duplicate', undefined, result.duplicates);
  metrics.countEvents('invalid', undefined, result.invalid);
  metrics.countStateResets(result.stateResets);
  effects.after(result, options.initial);
  return result;
}
