import { setTimeout as delay } from 'node:timers/promises';
import { handleInvite } from '../matrix/invites.js';
import { createRegistry, builtinCommands } from '../commands/registry.js';
import { RateLimiter } from '../commands/rate-limit.js';
import { redactConfig, type Config } from '../config.js';
import { RoomkeeperError } from '../errors.js';
import { assessHealth, DEFAULT_MAX_SYNC_AGE_MS } from '../http/health.js';
import { Metrics } from '../http/metrics.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import type { Logger } from '../log.js';
import { RoomkeeperClient } from '../matrix/client.js';
import { openCryptoStore } from '../matrix/crypto.js';
import { loginOnce } from '../matrix/login.js';
import type { RetryPolicy } from '../matrix/retry.js';
import { routeSdkLogs } from '../matrix/sdk-log.js';
import { MetaStorageProvider } from '../matrix/storage.js';
import { parseUserId, type RoomId, type UserId } from '../state/ids.js';
import { Store } from '../store/store.js';
import { Pipeline } from '../sync/pipeline.js';
import { reconcile, type ReconcileReport, type RoomSource } from '../sync/reconcile.js';
import { DirectRooms } from './direct-rooms.js';
import { Effects } from './effects.js';
import { statusSource } from './status.js';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  version: string;
  /** Backoff of homeserver requests; tests shorten it. */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
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

/**
 * Starts the daemon: store → login → client → pipeline → commands → reconciliation → sync,
 * plus the prune schedule and the HTTP endpoint. Throws a RoomkeeperError for what the operator
 * must fix (data dir in use, token rejected).
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, log, version } = options;
  const now = options.now ?? Date.now;
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

    const who = await client.whoAmIOrFail();
    const botUserId = parseUserId(who.user_id);
    if (botUserId === undefined) throw new RoomkeeperError('HOMESERVER_ERROR', `whoami returned "${who.user_id}", which is not a user id`);
    if (config.auth.userId !== undefined && config.auth.userId !== botUserId) {
      throw new RoomkeeperError('CONFIG_INVALID', `userId: the access token belongs to ${botUserId}, not ${config.auth.userId}`);
    }
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
    const reconcileNow = (only?: RoomId): Promise<ReconcileReport> =>
      reconcile({ store, pipeline, source: rooms, botUserId, log: log.child({ mod: 'reconcile' }) }, only);
    if (config.reconcile.onStart) await reconcileNow();

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
      onInvite: async (invite) =>
        (await handleInvite({ client, policy: inviteAsPolicy(config), log: log.child({ mod: 'invites' }) }, invite)) === 'joined',
      onGappy: config.reconcile.afterGappySync ? gappyRechecker(reconcileNow, config.reconcile.minIntervalMs, now) : undefined,
    });

    // The first sync of a data dir that has never synced carries history, not new commands.
    let synced = (await store.syncToken()) !== undefined;
    let lastSinkEnd = now();
    client.setSyncSink(async (body) => {
      metrics.observeSync((now() - lastSinkEnd) / 1000);
      const started = performance.now();
      const result = await pipeline.process(body);
      metrics.observeCommit((performance.now() - started) / 1000);
      for (const f of result.fresh) metrics.countEvents('applied', typeOf(f.event));
      metrics.countEvents('duplicate', undefined, result.duplicates);
      metrics.countEvents('invalid', undefined, result.invalid);
      await effects.after(result, body, !synced);
      synced = true;
      lastSinkEnd = now();
    });
    cleanup.push(async () => {
      await Promise.race([effects.drain(), delay(DRAIN_GRACE_MS)]);
    });

    await client.start();
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

function typeOf(e: import('../state/events.js').TrackedEvent): string {
  switch (e.kind) {
    case 'member':
      return 'm.room.member';
    case 'name':
      return 'm.room.name';
    case 'canonical-alias':
      return 'm.room.canonical_alias';
    case 'topic':
      return 'm.room.topic';
    case 'encryption':
      return 'm.room.encryption';
    case 'message':
      return 'm.room.message';
    case 'other-state':
    case 'other':
      return e.type;
  }
}

/**
 * Re-checks a room from the server after a gappy sync, at most once per `minIntervalMs` per room
 * and one room at a time, so a burst of gaps cannot flood the homeserver.
 */
function gappyRechecker(reconcileNow: (roomId: RoomId) => Promise<unknown>, minIntervalMs: number, now: () => number) {
  const last = new Map<RoomId, number>();
  let queue: Promise<unknown> = Promise.resolve();
  return (roomId: RoomId): Promise<void> => {
    const t = now();
    for (const [r, at] of last) if (t - at >= minIntervalMs) last.delete(r);
    if (last.has(roomId)) return Promise.resolve();
    last.set(roomId, t);
    const run = queue.then(() => reconcileNow(roomId));
    queue = run.catch(() => undefined);
    return run.then(() => undefined);
  };
}
