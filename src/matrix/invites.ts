import type { Logger } from '../log.js';
import { classify, DEFAULT_RETRY_POLICY, retrying, type Backoff } from './retry.js';

/**
 * Which invites the bot accepts: everyone's, nobody's, or those of listed users or servers. The
 * one shape of the policy: the config's `autoJoin` resolves to it and the daemon passes it as is.
 */
export type InvitePolicy =
  | { mode: 'all' }
  | { mode: 'none' }
  /** Invites from one of `users`, or from any user on one of `servers`. */
  | { mode: 'allow'; users: readonly string[]; servers: readonly string[] };

export type InviteDecision = 'accept' | 'decline';

/** The server name of a user id (`@alice:example.org` → `example.org`), lower-cased. */
function serverOf(userId: string): string | undefined {
  const colon = userId.indexOf(':');
  return userId.startsWith('@') && colon > 1 ? userId.slice(colon + 1).toLowerCase() : undefined;
}

/**
 * Whether to accept an invite from `inviter` into `roomId` under `policy`. An unknown inviter is
 * accepted only under 'all'. Room ids are opaque (spec: room ids carry no meaningful server), so
 * the decision never looks at the room.
 */
export function decideInvite(policy: InvitePolicy, inviter: string | undefined, _roomId: string): InviteDecision {
  if (policy.mode === 'all') return 'accept';
  if (policy.mode === 'none' || inviter === undefined) return 'decline';
  if (policy.users.includes(inviter)) return 'accept';
  const server = serverOf(inviter);
  if (server !== undefined && policy.servers.some((s) => s.toLowerCase() === server)) return 'accept';
  return 'decline';
}

/** What handleInvite needs of the client. */
export interface InviteClient {
  joinRoom(roomId: string): Promise<string>;
  leaveRoom(roomId: string, reason?: string): Promise<unknown>;
}

export interface InviteDeps {
  client: InviteClient;
  policy: InvitePolicy;
  log: Logger;
  /** Join attempts before giving up (each request is also retried by the client on 429/5xx). */
  maxJoinAttempts?: number;
  backoff?: Backoff;
  /** Aborting it (shutdown) ends the retries. */
  signal?: AbortSignal;
}

export type InviteOutcome = 'joined' | 'declined' | 'failed';

/**
 * Accepts or declines one invite per the policy, logging either way. Never rejects: a failed join
 * is retried with backoff (federated joins often fail transiently) and then given up with a warning.
 */
export async function handleInvite(deps: InviteDeps, invite: { roomId: string; inviter?: string }): Promise<InviteOutcome> {
  const { client, log } = deps;
  const { roomId, inviter } = invite;
  const decision = decideInvite(deps.policy, inviter, roomId);
  if (decision === 'decline') {
    try {
      await client.leaveRoom(roomId, 'roomkeeper does not accept invites from this user');
      log.info({ roomId, inviter }, 'invite declined');
      return 'declined';
    } catch (err) {
      log.warn({ err, roomId, inviter }, 'invite declined but rejecting it failed');
      return 'failed';
    }
  }
  const maxAttempts = deps.maxJoinAttempts ?? 5;
  const fields = { roomId, inviter };
  let attempts = 0;
  try {
    await retrying(
      async (attempt) => {
        attempts = attempt;
        await client.joinRoom(roomId);
      },
      {
        what: 'joining an invited room',
        fields,
        policy: deps.backoff ?? DEFAULT_RETRY_POLICY,
        log,
        maxAttempts,
        signal: deps.signal,
        // Federated joins often fail transiently, with 4xx as well as 5xx; a bad token never heals.
        shouldRetry: (err) => classify(err) !== 'fatal-token',
      },
    );
    log.info({ ...fields, attempt: attempts }, 'invite accepted, room joined');
    return 'joined';
  } catch (err) {
    if (deps.signal?.aborted === true) log.warn({ ...fields, err, attempts }, 'joining an invited room interrupted by shutdown');
    else log.warn({ ...fields, err, attempts }, 'joining an invited room failed; giving up');
    return 'failed';
  }
}
