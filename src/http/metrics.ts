import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandOutcome } from '../commands/dispatch.js';

/**
 * The Prometheus metrics of one roomkeeper instance, on a registry of its own rather than
 * prom-client's global one: two instances in one process (tests, a bot that embeds roomkeeper
 * and has metrics of its own) never collide over a metric name.
 */

/** Event types counted under their own name; every other type is counted as `other`. */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  // What roomkeeper acts on.
  'm.room.member',
  'm.room.name',
  'm.room.canonical_alias',
  'm.room.topic',
  'm.room.encryption',
  'm.room.message',
  // Common in every room; worth telling apart from the rest.
  'm.room.create',
  'm.room.power_levels',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.avatar',
  'm.room.encrypted',
  'm.room.redaction',
  'm.reaction',
  'm.sticker',
  'm.room.pinned_events',
  'm.room.server_acl',
  'm.room.tombstone',
  'm.room.third_party_invite',
  'm.space.child',
  'm.space.parent',
]);

/** The label value for types outside the known set, and for names outside the command list. */
export const OTHER_LABEL = 'other';

/** What happened to an event in the pipeline. */
export type EventOutcome = 'applied' | 'duplicate' | 'invalid';

export type { CommandOutcome } from '../commands/dispatch.js';

/** How a /sync request ended. */
export type SyncOutcome = 'ok' | 'error';

/** What became of an appservice transaction: applied, acknowledged as already done, or refused (token, body, failure). */
export type TransactionMetricOutcome = 'applied' | 'duplicate' | 'rejected';

/**
 * Where the gauges read their values at scrape time. A call may be async; a rejection fails
 * that scrape (HTTP 500) rather than reporting a stale number.
 */
export interface MetricsSource {
  /** Rooms in the store (rooms the bot is joined to). */
  roomCount(): number | Promise<number>;
  /** Distinct users joined to at least one tracked room. */
  userCount(): number | Promise<number>;
  /** Events remembered as processed by the guard. */
  guardEntries(): number | Promise<number>;
}

export interface MetricsOptions {
  /** Read at every scrape; without it the three gauges stay at 0. */
  source?: MetricsSource;
  /** Command names counted under their own name (the registry's); anything else is `other`. */
  commandNames?: readonly string[];
  /** Node process metrics (CPU, memory, event loop lag, GC); on unless false. */
  processMetrics?: boolean;
}

// A long-poll /sync waits up to its timeout (30 s in matrix-bot-sdk) when nothing happens, so the
// buckets reach past it; a catch-up sync after downtime can take longer still.
const SYNC_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120];
// One LevelDB batch: sub-millisecond for an idle response, tens of ms for a big snapshot.
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** roomkeeper's counters, histograms and gauges, and the registry that renders them. */
export class Metrics {
  readonly registry: Registry;
  readonly #events: Record<EventOutcome, Counter<'type'>>;
  readonly #sync: Histogram<'outcome'>;
  readonly #commit: Histogram;
  readonly #commands: Counter<'name' | 'outcome'>;
  readonly #stateResets: Counter;
  readonly #commandNames: ReadonlySet<string>;
  readonly #transactions: Counter<'outcome'>;
  readonly #transactionEvents: Histogram;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    const source = options.source;
    this.#commandNames = new Set(options.commandNames ?? []);

    this.#events = {
      applied: new Counter({
        name: 'roomkeeper_events_applied_total',
        help: 'Events processed for the first time and applied to the store, by event type.',
        labelNames: ['type'],
        registers,
      }),
      duplicate: new Counter({
        name: 'roomkeeper_events_duplicate_total',
        help: 'Events skipped because the guard had already processed them, by event type.',
        labelNames: ['type'],
        registers,
      }),
      invalid: new Counter({
        name: 'roomkeeper_events_invalid_total',
        help: 'Events (or rooms, or whole responses) rejected as malformed, by event type.',
        labelNames: ['type'],
        registers,
      }),
    };
    this.#sync = new Histogram({
      name: 'roomkeeper_sync_request_duration_seconds',
      help: 'Duration of /sync requests to the homeserver, long-poll wait included.',
      labelNames: ['outcome'],
      buckets: SYNC_BUCKETS,
      registers,
    });
    this.#commit = new Histogram({
      name: 'roomkeeper_commit_duration_seconds',
      help: 'Duration of one store commit (one LevelDB batch: guard marks, time index, store ops, sync token).',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.#commands = new Counter({
      name: 'roomkeeper_commands_total',
      help: 'Commands received in rooms, by command name and outcome.',
      labelNames: ['name', 'outcome'],
      registers,
    });
    this.#stateResets = new Counter({
      name: 'roomkeeper_state_resets_total',
      help: 'Room state keys a /sync state block moved back to an event already processed, other than the one held (state resets or resolved conflicts), followed.',
      registers,
    });

    this.#transactions = new Counter({
      name: 'roomkeeper_appservice_transactions_total',
      help: 'Appservice transactions pushed by the homeserver, by outcome (applied, duplicate: a retry of one already committed, rejected).',
      labelNames: ['outcome'],
      registers,
    });
    this.#transactionEvents = new Histogram({
      name: 'roomkeeper_appservice_transaction_events',
      help: 'Events per applied appservice transaction (the homeserver sends up to 100).',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });

    new Gauge({
      name: 'roomkeeper_rooms_tracked',
      help: 'Rooms the store tracks (rooms the bot is joined to).',
      registers,
      async collect() {
        if (source !== undefined) this.set(await source.roomCount());
      },
    });
    new Gauge({
      name: 'roomkeeper_users_tracked',
      help: 'Distinct users joined to at least one tracked room.',
      registers,
      async collect() {
        if (source !== undefined) this.set(await source.userCount());
      },
    });
    new Gauge({
      name: 'roomkeeper_guard_entries',
      help: 'Events the processed-event guard remembers (until pruned).',
      registers,
      async collect() {
        if (source !== undefined) this.set(await source.guardEntries());
      },
    });

    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts `n` events of one outcome; `type` is the event's `type` (undefined when it had none). */
  countEvents(outcome: EventOutcome, type: string | undefined, n = 1): void {
    if (n === 0) return;
    this.#events[outcome].inc({ type: eventTypeLabel(type) }, n);
  }

  /** Records one /sync request's duration in seconds. */
  observeSync(seconds: number, outcome: SyncOutcome = 'ok'): void {
    this.#sync.observe({ outcome }, seconds);
  }

  /** Records one store commit's duration in seconds. */
  observeCommit(seconds: number): void {
    this.#commit.observe(seconds);
  }

  /** Counts the state resets one response made the store follow. */
  countStateResets(n: number): void {
    if (n > 0) this.#stateResets.inc(n);
  }

  /** Counts one appservice transaction by outcome; an applied one's event count goes to the size histogram. */
  countTransaction(outcome: TransactionMetricOutcome, events?: number): void {
    this.#transactions.inc({ outcome });
    if (outcome === 'applied' && events !== undefined) this.#transactionEvents.observe(events);
  }

  /** Counts one command by its name (without the prefix) and how it ended. */
  countCommand(name: string | undefined, outcome: CommandOutcome): void {
    const label = name !== undefined && this.#commandNames.has(name) ? name : OTHER_LABEL;
    this.#commands.inc({ name: label, outcome });
  }

  /** The Content-Type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format; runs the gauges' source. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The `type` label of an event type: itself when known, else `other` (keeps the series count bounded). */
export function eventTypeLabel(type: string | undefined): string {
  return type !== undefined && KNOWN_EVENT_TYPES.has(type) ? type : OTHER_LABEL;
}
