/**
 * The fake homeserver's side of the Application Service API: it pushes the room events an
 * appservice is interested in (its bot's rooms and its bot's own membership) as transactions,
 * in stream order, one at a time, each retried with the same txnId until it is answered 200, as
 * Synapse does. Tests can duplicate a transaction on purpose, mangle one attempt, add ephemeral
 * fields, and pause pushing.
 */
import { type FakeMatrixModel, type JsonObject, type StoredEvent, memberEventAt, membershipOf } from './model.js';
import { toClientEvent } from './sync.js';

export interface AppservicePushOptions {
  /** The appservice's URL (the registration's `url`); may be set later with `target`. */
  url?: string;
  hsToken: string;
  /** The appservice's bot (its sender_localpart user). */
  botUserId: string;
  /** Most events per transaction (Synapse: 100). */
  batchSize?: number;
  /** Wait between attempts of a failed transaction. */
  retryMs?: number;
  /** The first txnId (a number, as Synapse sends). Default 1. */
  firstTxnId?: number;
}

/** One attempt of a transaction: the status answered, or the network error. */
export interface PushAttempt {
  status?: number;
  error?: string;
  body?: unknown;
}

/** A transaction and every attempt at it. */
export interface PushedTransaction {
  txnId: string;
  events: unknown[];
  attempts: PushAttempt[];
  /** Set once it was answered 200. */
  done: boolean;
}

/** Pushes a fake homeserver's events to an appservice as transactions. */
export class AppservicePusher {
  readonly transactions: PushedTransaction[] = [];
  readonly #model: FakeMatrixModel;
  readonly #options: Required<Omit<AppservicePushOptions, 'url'>>;
  #url: string | undefined;
  #cursor: number;
  #nextTxn: number;
  #running: Promise<void> | undefined;
  #again = false;
  #paused = false;
  #closed = false;
  #duplicateNext = false;
  #mangleNext: ((body: JsonObject) => unknown) | undefined;
  #extraNext: JsonObject | undefined;
  #loseNextAck = false;
  readonly #unsubscribe: () => void;

  constructor(model: FakeMatrixModel, options: AppservicePushOptions) {
    this.#model = model;
    this.#url = options.url;
    this.#options = { batchSize: 100, retryMs: 20, firstTxnId: 1, ...options };
    this.#cursor = model.position;
    this.#nextTxn = this.#options.firstTxnId;
    this.#unsubscribe = model.onChange(() => this.#kick());
  }

  /** Where to push from now on; pushing starts with the first target. */
  target(url: string): void {
    this.#url = url;
    this.#kick();
  }

  /** Stops starting new transactions (one in flight finishes its attempts). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#kick();
  }

  /** Sends the next transaction once more after it is acknowledged, with the same txnId and body. */
  duplicateNext(): void {
    this.#duplicateNext = true;
  }

  /** Replaces the body of the next transaction's first attempt by what `fn` returns. */
  mangleNext(fn: (body: JsonObject) => unknown): void {
    this.#mangleNext = fn;
  }

  /**
   * Treats the next 200 as lost (as when the appservice dies between its commit and its answer):
   * the transaction is sent again, with the same txnId, until a later 200, once `resume()` is
   * called (pushing pauses when the answer is lost).
   */
  loseNextAck(): void {
    this.#loseNextAck = true;
  }

  /** Adds these fields (e.g. `ephemeral`) to the next transaction's body. */
  addToNext(fields: JsonObject): void {
    this.#extraNext = fields;
  }

  /** Whether every event so far was pushed and acknowledged. */
  get idle(): boolean {
    return this.#running === undefined && this.#pending().length === 0;
  }

  /** Resolves once every event so far is acknowledged by the appservice. */
  async drained(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.idle) {
      if (Date.now() > end) throw new Error(`appservice pushes not drained after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    await this.#running;
  }

  #kick(): void {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    if (this.#closed || this.#paused || this.#url === undefined) return;
    this.#running = this.#pump().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  /** Events after the cursor the appservice is interested in, in stream order. */
  #pending(): StoredEvent[] {
    const bot = this.#options.botUserId;
    const out: StoredEvent[] = [];
    for (const room of this.#model.rooms()) {
      for (const ev of room.events) {
        if (ev.pos <= this.#cursor) continue;
        const before = membershipOf(memberEventAt(room, bot, ev.pos - 1));
        // Synapse: events whose sender or state_key is in the namespace, and events of rooms an
        // appservice user is joined to.
        if (ev.stateKey === bot || ev.event['sender'] === bot || before === 'join') out.push(ev);
      }
    }
    return out.sort((a, b) => a.pos - b.pos);
  }

  async #pump(): Promise<void> {
    while (!this.#closed && !this.#paused) {
      const pending = this.#pending();
      // Events of no interest move the cursor too.
      if (pending.length === 0) {
        this.#cursor = this.#model.position;
        return;
      }
      const batch = pending.slice(0, this.#options.batchSize);
      const events = batch.map((ev) => toClientEvent(ev, { withRoomId: true }));
      const body: JsonObject = { events, ...this.#extraNext };
      this.#extraNext = undefined;
      const txn: PushedTransaction = { txnId: String(this.#nextTxn++), events, attempts: [], done: false };
      this.transactions.push(txn);
      const mangle = this.#mangleNext;
      this.#mangleNext = undefined;
      await this.#send(txn, mangle === undefined ? body : mangle(structuredClone(body)), body);
      if (this.#closed) return;
      this.#cursor = batch.at(-1)!.pos;
      if (this.#duplicateNext) {
        this.#duplicateNext = false;
        const again: PushedTransaction = { txnId: txn.txnId, events, attempts: [], done: false };
        this.transactions.push(again);
        await this.#send(again, body, body);
      }
    }
  }

  /** Sends until answered 200: the first attempt with `first`, the retries with `body`. */
  async #send(txn: PushedTransaction, first: unknown, body: unknown): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      const sent = attempt === 0 ? first : body;
      try {
        const res = await fetch(`${this.#url}/_matrix/app/v1/transactions/${encodeURIComponent(txn.txnId)}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${this.#options.hsToken}`, 'content-type': 'application/json' },
          body: typeof sent === 'string' ? sent : JSON.stringify(sent),
        });
        const text = await res.text();
        txn.attempts.push({ status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) });
        if (res.status === 200 && this.#loseNextAck) {
          this.#loseNextAck = false;
          txn.attempts.at(-1)!.error = 'answer lost on purpose';
          this.#paused = true;
        } else if (res.status === 200) {
          txn.done = true;
          return;
        }
      } catch (err) {
        txn.attempts.push({ error: err instanceof Error ? err.message : String(err) });
      }
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryMs));
      while (this.#paused && !this.#closed) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
