import type { Logger } from '../log.js';
import { handleInvite, type InviteClient, type InvitePolicy } from '../matrix/invites.js';
import type { Backoff } from '../matrix/retry.js';
import type { RoomId } from '../state/ids.js';
import type { Invite } from '../sync/pipeline.js';
import type { PendingInvites } from './pending-invites.js';

export interface InviteServiceOptions {
  client: InviteClient;
  policy: InvitePolicy;
  pending: PendingInvites;
  log: Logger;
  backoff: Backoff;
  /** Aborted at shutdown: an answer cut short is kept for the next run. */
  signal: AbortSignal;
}

/**
 * Answers invites by the auto-join policy and keeps track of rooms joined from one whose join
 * the pipeline has not seen yet (reconciliation must leave those alone).
 */
export class InviteService {
  readonly #options: InviteServiceOptions;
  readonly #joining = new Set<RoomId>();

  constructor(options: InviteServiceOptions) {
    this.#options = options;
  }

  /** Accepts or declines one invite; resolves to whether the bot joined. Never rejects. */
  async answer(first: Invite): Promise<boolean> {
    const { pending, signal } = this.#options;
    const deps = { client: this.#options.client, policy: this.#options.policy, log: this.#options.log, backoff: this.#options.backoff, signal };
    for (let invite = first; ; ) {
      const generation = pending.generation(invite.roomId);
      const outcome = await handleInvite(deps, invite);
      // An answer cut short by a shutdown is kept for the next run.
      if (signal.aborted) return outcome === 'joined';
      // Effects answers one invite of a room at a time and drops the ones that come meanwhile:
      // a join that failed because the invite was withdrawn must try the renewed one.
      if (outcome !== 'joined' && pending.generation(invite.roomId) !== generation) {
        invite = pending.get(invite.roomId) ?? invite;
        continue;
      }
      if (outcome === 'joined') this.#joining.add(invite.roomId);
      await pending.remove(invite.roomId);
      return outcome === 'joined';
    }
  }

  /** Whether the bot is joining the room from an invite: answered, or joined but not yet synced. */
  isJoining(roomId: RoomId): boolean {
    return this.#joining.has(roomId) || this.#options.pending.get(roomId) !== undefined;
  }

  /** The pipeline has seen the bot's join of these rooms. */
  joinsSynced(roomIds: readonly RoomId[]): void {
    for (const roomId of roomIds) this.#joining.delete(roomId);
  }
}
