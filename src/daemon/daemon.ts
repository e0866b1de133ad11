import { builtinCommands, createRegistry } from '../commands/registry.js';
import { RateLimiter } from '../commands/rate-limit.js';
import { redactConfig, type Config } from '../config/index.js';
import { Metrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import { createRoomkeeperClient } from '../matrix/client.js';
import { reportEncryption } from '../matrix/crypto.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../matrix/retry.js';
import { loadMatrixSdk } from '../matrix/sdk.js';
import { routeSdkLogs } from '../matrix/sdk-log.js';
import { MetaStorageProvider } from '../matrix/storage.js';
import { serial } from '../serial.js';
import type { RoomId, UserId } from '../state/ids.js';
import { Store } from '../store/store.js';
import { emptyResult, Pipeline } from '../sync/pipeline.js';
import { reconcile, type ReconcileReport } from '../sync/reconcile.js';
import { DirectRooms } from './direct-rooms.js';
import { Effects } from './effects.js';
import { gappyRechecker } from './gappy-recheck.js';
import { Readiness, startHealthEndpoint } from './health-endpoint.js';
import { InviteService } from './invite-service.js';
import { PendingInvites } from './pending-invites.js';
import { PruneScheduler } from './prune-scheduler.js';
import { startAppserviceMode } from './appservice-mode.js';
import { accessTokenOf, botIdentity } from './session.js';
import { statusSource } from './status.js';
import { createSyncSink } from './sync-sink.js';

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
  /** Where the appservice listener listens, in appservice mode. */
  appserviceUrl?: string;
  /** Resolves when the daemon stops for good on its own (e.g. its token was revoked) with the error. */
  fatal: Promise<unknown>;
  /** Resolves once every command committed so far is answered (replies go out in the background). */
  answered(): Promise<void>;
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

/** What to undo at shutdown, undone in reverse; a failing step is logged and the rest still run. */
class Teardown {
  readonly #steps: (() => Promise<void> | void)[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  push(step: () => Promise<void> | void): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.#log.warn({ err }, 'error while shutting down');
      }
    }
  }
}

/**
 * Starts the daemon, wiring its services: store → health endpoint → login → client → pipeline,
 * invites, commands and effects → sync sink → sync (reconciliation after the first response) →
 * prune schedule. Throws a RoomkeeperError for what the operator must fix (data dir in use,
 * token rejected). It wires; the services decide.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, log, version, signal } = options;
  const now = options.now ?? Date.now;
  signal?.throwIfAborted();
  const startedAt = now();
  log.info({ version, config: redactConfig(config) }, 'starting roomkeeper');
  // Before anything that needs the SDK; its logs go to pino from its first line on.
  const { availability } = loadMatrixSdk();
  const sdkLogs = routeSdkLogs(log, {
    secrets: [config.auth.method === 'accessToken' ? config.auth.accessToken : config.auth.password, ...(config.appservice === undefined ? [] : [config.appservice.hsToken])],
  });
  reportEncryption({ enabled: config.encryption.enabled, availability, log });

  const store = await Store.open(config.dataDir, { create: true });
  const teardown = new Teardown(log);
  teardown.push(() => store.close());
  try {
    // Up before logging in, so that while the homeserver is down /readyz says so.
    const readiness = new Readiness(now);
    teardown.push(() => void (readiness.storeOpen = false));
    const metrics = new Metrics({
      source: { roomCount: async () => (await store.rooms.allRooms()).length, userCount: () => store.rooms.userCount(), guardEntries: () => store.guard.count() },
      commandNames: builtinCommands.map((c) => c.name),
    });
    const http = await startHealthEndpoint({ http: config.http, readiness, metrics, log });
    if (http !== undefined) teardown.push(() => http.close());

    readiness.starting = 'starting: waiting for the homeserver';
    const storage = new MetaStorageProvider(store.meta, log);
    const accessToken = await accessTokenOf({ auth: config.auth, homeserverUrl: config.homeserverUrl, kv: store.meta, log, retry: options.retry, signal });
    sdkLogs.addSecret(accessToken);
    let reportFatal: (err: unknown) => void = () => undefined;
    const fatal = new Promise<unknown>((resolve) => (reportFatal = resolve));
    const client = createRoomkeeperClient({
      homeserverUrl: config.homeserverUrl,
      accessToken,
      storage,
      syncTokens: storage,
      log,
      retry: options.retry,
      onFatal: (err) => reportFatal(err),
      onSyncRequest: (seconds, outcome) => metrics.observeSync(seconds, outcome),
    });
    teardown.push(() => client.stopAndDrain());
    // The client's retries (of whoami while the homeserver is down, say) end when start-up is abandoned.
    const abandon = () => client.stop();
    signal?.addEventListener('abort', abandon, { once: true });
    teardown.push(() => signal?.removeEventListener('abort', abandon));

    const botUserId = await botIdentity(client, config.auth.userId);
    signal?.throwIfAborted();
    log.info({ botUserId }, 'logged in');

    const pipeline = new Pipeline(store, { botUserId, log, now });
    readiness.lastSyncAt = () => pipeline.totals.lastCommitAt;
    const direct = new DirectRooms({ store, account: client, botUserId, log, now });
    await direct.load();
    const pending = new PendingInvites(store.meta, log.child({ mod: 'invites' }));
    const unanswered = await pending.load();
    const shutdown = new AbortController();
    const invites = new InviteService({
      client,
      policy: config.autoJoin,
      pending,
      log: log.child({ mod: 'invites' }),
      backoff: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      signal: shutdown.signal,
    });

    // The pipeline and reconciliation both read the store and then write what they read decides: a
    // re-check in the background committing between a sync's read and its write (or the other way
    // round) would lose one of the two.
    const exclusive = serial();
    const reconcileDeps = {
      store,
      pipeline,
      source: {
        joinedRooms: async () => (await client.getJoinedRooms()) as RoomId[],
        roomState: (roomId: RoomId) => client.getRoomState(roomId),
      },
      botUserId,
      log: log.child({ mod: 'reconcile' }),
      isJoining: (roomId: RoomId) => invites.isJoining(roomId),
    };
    const reconcileNow = (only?: RoomId): Promise<ReconcileReport> => exclusive(() => reconcile(reconcileDeps, only));
    const pruning = new PruneScheduler({
      guard: store.guard,
      retentionMs: config.guard.retentionMs,
      intervalMs: config.guard.pruneIntervalMs,
      changes: { log: store.changes, retentionMs: config.changes.retentionMs },
      log,
      now,
    });

    const effects = new Effects({
      client,
      store,
      direct,
      botUserId,
      log,
      now,
      dispatch: {
        rooms: store.rooms,
        changes: store.changes,
        botId: botUserId,
        status: statusSource(store, pipeline.totals, version, startedAt),
        reconcile: reconcileNow,
        prune: (olderThanMs) => pruning.prune(olderThanMs),
        defaultPruneAgeMs: config.guard.retentionMs,
        pruneChanges: () => pruning.pruneChanges(),
        changeRetentionMs: config.changes.retentionMs,
        prefix: config.commandPrefix,
        admins: new Set(config.admins),
        groupRoomCommands: new Set(config.commands.allowInGroupRooms),
        registry: createRegistry(builtinCommands),
        directRooms: direct,
        rateLimiter: new RateLimiter({ limit: config.commands.rateLimit.count, windowMs: config.commands.rateLimit.windowMs }),
        log: log.child({ mod: 'commands' }),
      },
      onInvite: (invite) => invites.answer(invite),
      onCommand: (name, outcome) => metrics.countCommand(name, outcome),
      onGappy: config.reconcile.afterGappySync ? gappyRechecker(reconcileNow, config.reconcile.minIntervalMs, now) : undefined,
    });
    // Stops syncing (finishing the batch in flight) before effects are drained, so that no new
    // effect starts while they are; the shutdown signal then cuts their retries short.
    teardown.push(async () => {
      await client.stopAndDrain();
      shutdown.abort();
      await within(effects.drain(), DRAIN_GRACE_MS);
    });

    const reconcileOnStart = config.reconcile.onStart ? () => reconcileNow() : undefined;
    // Invites a previous run did not get to answer, handed to effects as a response of their own
    // (initial: nothing in it is a command).
    const answerUnanswered = () => {
      if (unanswered.length > 0) effects.after({ ...emptyResult(), invites: unanswered }, true);
    };
    let appserviceUrl: string | undefined;
    if (config.appservice !== undefined) {
      // Appservice mode: no /sync loop; the homeserver pushes transactions to the listener.
      const listener = await startAppserviceMode({
        appservice: config.appservice,
        pipeline,
        store,
        exclusive,
        pending,
        invites,
        effects,
        metrics,
        readiness,
        botUserId,
        roomState: (roomId) => client.getRoomState(roomId),
        reconcileOnStart,
        log,
        now,
      });
      // Before the effects drain (pushed above, so run after this): no transaction starts once it does.
      teardown.push(() => listener.close());
      answerUnanswered();
      appserviceUrl = listener.url;
      log.info({ url: listener.url }, 'receiving appservice transactions');
    } else {
      // The first sync returns at once, whether or not there is news, so that start-up
      // reconciliation (which waits for it) is not held up by a quiet long-poll.
      const longPollMs = client.syncingTimeout;
      client.syncingTimeout = 0;
      client.setSyncSink(
        createSyncSink({
          pipeline,
          exclusive,
          pending,
          invites,
          effects,
          metrics,
          // The first sync of a data dir that has never synced carries history, not new commands.
          synced: (await store.syncToken()) !== undefined,
          reconcileOnStart,
          onFirstResponse: () => void (client.syncingTimeout = longPollMs),
          log,
        }),
      );
      answerUnanswered();
      await client.start();
      signal?.throwIfAborted();
      readiness.starting = undefined;
      log.info('syncing');
    }

    pruning.start();
    teardown.push(() => pruning.stop());

    let stopping: Promise<void> | undefined;
    return {
      botUserId,
      httpUrl: http?.url,
      ...(appserviceUrl === undefined ? {} : { appserviceUrl }),
      fatal,
      answered: () => effects.answered(),
      stop: () => (stopping ??= teardown.run()),
    };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}
