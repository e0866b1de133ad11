/** What `/readyz` (and `/healthz`, its older name) reports: healthy or not, why not, and how old the last good sync is. */
export interface HealthReport {
  ok: boolean;
  /** Why the daemon is not healthy; short, constant wording an operator can grep for. */
  reason?: string;
  /** Milliseconds since the last /sync response was committed; absent before the first one. */
  lastSyncAgeMs?: number;
}

/** The facts `assessHealth` judges, gathered by the daemon at request time. */
export interface HealthFacts {
  storeOpen: boolean;
  /** What start-up is still waiting for (e.g. the homeserver, to log in); undefined once syncing. */
  starting?: string;
  /** Local time (ms) of the last committed /sync response; undefined before the first. */
  lastSyncAt: number | undefined;
  now: number;
  /**
   * Longest acceptable time without a committed sync (see DEFAULT_MAX_SYNC_AGE_MS); undefined
   * when no commit is owed (appservice mode: a homeserver sends nothing while nothing happens).
   */
  maxSyncAgeMs: number | undefined;
}

/**
 * An idle long-poll /sync returns every 30 s (matrix-bot-sdk's timeout), so a healthy daemon
 * commits at least that often; four of them allows for a slow homeserver and one retry.
 */
export const DEFAULT_MAX_SYNC_AGE_MS = 120_000;

/**
 * Ready when the store is open, start-up is over and a sync was committed within `maxSyncAgeMs`. Until the first
 * sync commits the daemon is unavailable; the container HEALTHCHECK's start period covers that.
 */
export function assessHealth(facts: HealthFacts): HealthReport {
  if (!facts.storeOpen) return { ok: false, reason: 'store not open' };
  if (facts.starting !== undefined) return { ok: false, reason: facts.starting };
  if (facts.lastSyncAt === undefined) {
    return facts.maxSyncAgeMs === undefined ? { ok: true } : { ok: false, reason: 'no sync completed yet' };
  }
  const lastSyncAgeMs = Math.max(0, facts.now - facts.lastSyncAt);
  if (facts.maxSyncAgeMs !== undefined && lastSyncAgeMs > facts.maxSyncAgeMs) return { ok: false, reason: 'last sync too old', lastSyncAgeMs };
  return { ok: true, lastSyncAgeMs };
}
