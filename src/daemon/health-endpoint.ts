import { assessHealth, DEFAULT_MAX_SYNC_AGE_MS, type HealthReport } from '../http/health.js';
import type { Metrics } from '../http/metrics.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import type { Logger } from '../log.js';

/** What readiness is judged on, kept up to date by the daemon as it starts, syncs and stops. */
export class Readiness {
  /** What start-up waits for now; undefined once syncing. */
  starting: string | undefined = 'starting';
  storeOpen = true;
  /** When the last /sync response was committed; the pipeline's totals, once there is a pipeline. */
  lastSyncAt: () => number | undefined = () => undefined;
  /**
   * Longest acceptable time since the last commit. An idle /sync long-poll commits every 30 s;
   * an appservice is sent nothing while nothing happens: undefined, no commit is owed.
   */
  maxSyncAgeMs: number | undefined = DEFAULT_MAX_SYNC_AGE_MS;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The report `/readyz` serves. */
  report(): HealthReport {
    return assessHealth({
      storeOpen: this.storeOpen,
      starting: this.starting,
      lastSyncAt: this.lastSyncAt(),
      now: this.#now(),
      maxSyncAgeMs: this.maxSyncAgeMs,
    });
  }
}

export interface HealthEndpointOptions {
  http: { enabled: boolean; host: string; port: number };
  readiness: Readiness;
  metrics: Metrics;
  log: Logger;
}

/** Starts `/livez`, `/readyz`, `/healthz` and `/metrics` when the config enables them. */
export async function startHealthEndpoint(options: HealthEndpointOptions): Promise<HttpServer | undefined> {
  const { http, readiness, metrics, log } = options;
  if (!http.enabled) return undefined;
  return startHttpServer({ host: http.host, port: http.port, metrics, log, health: () => readiness.report() });
}
