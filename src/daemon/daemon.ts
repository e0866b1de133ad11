import { handleInvite } from '../matrix/invites.js';
import { createRegistry, builtinCommands } from '../commands/registry.js';
import { RateLimiter } from '../commands/rate-limit.js';
import { redactConfig, type Config } from '../config/index.js';
import { RoomkeeperError } from '../errors.js';
import { assessHealth, DEFAULT_MAX_SYNC_AGE_MS } from '../http/health.js';
import { Metrics } from '../http/metrics.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import type { Logger } from '../log.js';
import { RoomkeeperClient } from '../matrix/client.js';
import { openCryptoStore } from '../matrix/crypto.js';
import { loginOnce } from '../matrix/login.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../matrix/retry.js';
import { routeSdkLogs } from '../matrix/sdk-log.js';
import { MetaStorageProvider } from '../matrix/storage.js';
import { parseUserId, type RoomId, type UserId } from '../state/ids.js';
import { eventType } from '../state/events.js';
import { Store } from '../store/store.js';
import { Pipeline } from '../sync/pipeline.js';
import { reconcile, type ReconcileReport, type RoomSource } from '../sync/reconcile.js';
import { DirectRooms } from './direct-rooms.js';
import { Effects } from './effects.js';
import { PendingInvites } from './pending-invites.js';
import { gappyRechecker } from './gappy-recheck.js';
import { statusSource } from './status.js';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  version: string;
  /** Backoff of homeserver requests; tests shorten it. */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  /**
   * Aborting it during start-up (e.g. a signal while the homeserver is down) ends the start-up:
   * startDaemon then rejects with the signal's reason once it has cleaned up.
   */
  signal?: AbortSignal;
}

/** A running roomkeeper. */
export interface Daemon {
  botUserId: UserId;
  /** The health and metrics endpoint, when enabled. */
  httpUrl?: string;
  /** Resolves when the daemon stops for good on its own (e.g. its token was revoked) with the error. */
  fatal: Promise<unknown>;
  /** Stops syncing, finishes the batch in flight, and closes everything. */
  stop(): Promise<void>;
}

/** How long effects started before a shutdown (joins, re-checks) may still run. */
const DRAIN_GRACE_MS = 2_000;

/** Resolves when `work` settles or after `ms`, whichever is first, leaving no timer behind. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs async work one piece at a time. The pipeline and reconciliation both read the store and
 * then write what they read decides: a re-check in the background committing between a sync's
 * read and its write (or the other way round) would lose one of the two.
 */
function serializer(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * Starts the daemon: store → login → client → pipeline → commands → sync (reconciliation after
 * the first response), plus the prune schedule and the HTTP endpoint. Throws a RoomkeeperError for what the operator
 * must fix (data dir in use, token rejected).
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, log, version, signal } = options;
  const now = options.now ?? Date.now;
  signal?.throwIfAborted();
  const startedAt = now();
  log.info({ version, config: redactConfig(config) }, 'starting roomkeeper');
  routeSdkLogs(log, { secrets: config.auth.method === 'accessToken' ? [config.auth.accessToken] : [config.auth.password] });

  const store = await Store.open(config.dataDir);
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  const closeAll = async () => {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn({ err }, 'error while shutting down');
      }
    }
  };

  try {
    const storage = new MetaStorageProvider(store.meta, log);
    const accessToken =
      config.auth.method === 'accessToken'
        ? config.auth.accessToken
        : (await loginOnce({ homeserverUrl: config.homeserverUrl, userId: config.auth.userId, password: config.auth.password, kv: store.meta, log, retry: options.retry })).accessToken;
    routeSdkLogs(log, { secrets: [accessToken] });

    let rejectFatal: (err: unknown) => void = () => undefined;
    const fatal = new Promise<unknown>((resolve) => (rejectFatal = resolve));
    const client = new RoomkeeperClient({
      homeserverUrl: config.homeserverUrl,
      accessToken,
      storage,
      syncTokens: storage,
      log,
      cryptoStore: openCryptoStore({ dataDir: config.dataDir, enabled: config.encryption.enabled, log }),
      retry: options.retry,
      onFatal: (err) => rejectFatal(err),
    });
    cleanup.push(() => client.stopAndDrain());
    const shutdown = new AbortController();
    // The client's retries (of whoami while the homeserver is down, say) end when start-up is abandoned.
    const abandon = () => client.stop();
    signal?.addEventListener('abort', abandon, { once: true });
    cleanup.push(() => signal?.removeEventListener('abort', abandon));

    const who = await client.whoAmIOrFail();
    const botUserId = parseUserId(who.user_id);
    if (botUserId === undefined) throw new RoomkeeperError('HOMESERVER_ERROR', `whoami returned "${who.user_id}", which is not a user id`);
    if (config.auth.userId !== undefined && config.auth.userId !== botUserId) {
      throw new RoomkeeperError('CONFIG_INVALID', `userId: the access token belongs to ${botUserId}, not ${config.auth.userId}`);
    }
    signal?.throwIfAborted();
    log.info({ botUserId }, 'logged in');

    const pipeline = new Pipeline(store, { botUserId, log, now });
    const metrics = new Metrics({
      source: { roomCount: async () => (await store.rooms.allRooms()).length, userCount: () => store.rooms.userCount(), guardEntries: () => store.guard.count() },
      commandNames: builtinCommands.map((c) => c.name),
    });
    const direct = new DirectRooms(store, client, log);
    await direct.load();

    const rooms: RoomSource = {
      joinedRooms: async () => (await client.getJoinedRooms()) as RoomId[],
      roomState: (roomId) => client.getRoomState(roomId),
    };
    const pending = new PendingInvites(store.meta, log.child({ mod: 'invites' }));
    // Rooms joined from an invite whose join the pipeline has not seen yet.
    const joining = new Set<RoomId>();
    const exclusive = serializer();
    const reconcileNow = (only?: RoomId): Promise<ReconcileReport> =>
      exclusive(() =>
        reconcile(
          {
            store,
            pipeline,
            source: rooms,
            botUserId,
            log: log.child({ mod: 'reconcile' }),
            isJoining: (roomId) => joining.has(roomId) || pending.get(roomId) !== undefined,
          },
          only,
        ),
      );
    const unanswered = await pending.load();
    const inviteBackoff = { ...DEFAULT_RETRY_POLICY, ...options.retry };

    const prune = async (olderThanMs: number): Promise<number> => {
      const started = now();
      const removed = await store.guard.prune(started - olderThanMs);
      log.info({ removed, durationMs: now() - started }, 'pruned the guard');
      return removed;
    };

    const effects = new Effects({
      client,
      store,
      direct,
      botUserId,
      log,
      now,
      dispatch: {
        rooms: store.rooms,
        botId: botUserId,
        status: statusSource(store, pipeline.totals, version, startedAt),
        reconcile: reconcileNow,
        prune,
        defaultPruneAgeMs: config.guard.retentionMs,
        prefix: config.commandPrefix,
        admins: new Set(config.admins),
        groupRoomCommands: new Set(config.commands.allowInGroupRooms),
        registry: createRegistry(builtinCommands),
        directRooms: direct,
        rateLimiter: new RateLimiter({ limit: config.commands.rateLimit.count, windowMs: config.commands.rateLimit.windowMs }),
        log: log.child({ mod: 'commands' }),
      },
      onInvite: async (first) => {
        const deps = { client, policy: inviteAsPolicy(config), log: log.child({ mod: 'invites' }), backoff: inviteBackoff, signal: shutdown.signal };
        for (let invite = first; ; ) {
          const generation = pending.generation(invite.roomId);
          const outcome = await handleInvite(deps, invite);
          // An answer cut short by a shutdown is kept for the next run.
          if (shutdown.signal.aborted) return outcome === 'joined';
          // Effects answers one invite of a room at a time and drops the ones that come meanwhile:
          // a join that failed because the invite was withdrawn must try the renewed one.
          if (outcome !== 'joined' && pending.generation(invite.roomId) !== generation) {
            invite = pending.get(invite.roomId) ?? invite;
            continue;
          }
          if (outcome === 'joined') joining.add(invite.roomId);
          await pending.remove(invite.roomId);
          return outcome === 'joined';
        }
      },
      onGappy: config.reconcile.afterGappySync ? gappyRechecker(reconcileNow, config.reconcile.minIntervalMs, now) : undefined,
    });

    // Stops syncing (finishing the batch in flight) before effects are drained, so that no new
    // effect starts while they are; the shutdown signal then cuts their retries short.
    cleanup.push(async () => {
      await client.stopAndDrain();
      shutdown.abort();
      await within(effects.drain(), DRAIN_GRACE_MS);
    });
    // The first sync of a data dir that has never synced carries history, not new commands.
    let synced = (await store.syncToken()) !== undefined;
    let reconcilePending = config.reconcile.onStart;
    // The first sync returns at once, whether or not there is news, so that start-up
    // reconciliation (which waits for it) is not held up by a quiet long-poll.
    const longPollMs = client.syncingTimeout;
    client.syncingTimeout = 0;
    let lastSinkEnd = now();
    client.setSyncSink(async (body) => {
      client.syncingTimeout = longPollMs;
      metrics.observeSync((now() - lastSinkEnd) / 1000);
      const started = performance.now();
      // On disk in the commit that moves the token past them (see PendingInvites).
      const result = await exclusive(() => pipeline.process(body, { metaWithToken: (invites) => pending.record(invites) }));
      for (const roomId of result.snapshots) joining.delete(roomId);
      metrics.observeCommit((performance.now() - started) / 1000);
      for (const f of result.fresh) metrics.countEvents('applied', eventType(f.event));
      metrics.countEvents('duplicate', undefined, result.duplicates);
      metrics.countEvents('invalid', undefined, result.invalid);
      await effects.after(result, !synced);
      synced = true;
      // After the first sync rather than before it: a snapshot from /state taken before would be
      // followed by that sync's older events, which the guard has not seen (only the current
      // state is marked) and which would be applied over the newer state. Inside the sink, so
      // that the next response waits for it.
      if (reconcilePending) {
        try {
          await reconcileNow();
          reconcilePending = false;
        } catch (err) {
          log.warn({ err }, 'start-up reconciliation failed; trying again after the next sync');
        }
      }
      lastSinkEnd = now();
    });
    // Invites a previous run did not get to answer, handed to effects as a response of their own
    // (initial: nothing in it is a command).
    if (unanswered.length > 0) {
      await effects.after({ applied: 0, duplicates: 0, invalid: 0, fresh: [], invites: unanswered, snapshots: [], gappy: [], stateResets: 0 }, true);
    }

    await client.start();
    signal?.throwIfAborted();
    log.info('syncing');

    const pruneTimer = setInterval(() => {
      prune(config.guard.retentionMs).catch((err: unknown) => log.error({ err }, 'scheduled prune failed'));
    }, config.guard.pruneIntervalMs);
    cleanup.push(() => clearInterval(pruneTimer));

    let http: HttpServer | undefined;
    if (config.http.enabled) {
      let open = true;
      cleanup.push(() => {
        open = false;
      });
      http = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        metrics,
        log,
        health: () => assessHealth({ storeOpen: open, lastSyncAt: pipeline.totals.lastCommitAt, now: now(), maxSyncAgeMs: DEFAULT_MAX_SYNC_AGE_MS }),
      });
      const server = http;
      cleanup.push(() => server.close());
    }

    let stopping: Promise<void> | undefined;
    return {
      botUserId,
      httpUrl: http?.url,
      fatal,
      stop: () => (stopping ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function inviteAsPolicy(config: Config) {
  const p = config.autoJoin;
  return p.mode === 'allow' ? { allow: { users: p.users, servers: p.servers } } : p.mode;
}

