import type { IStorageProvider, MatrixClient } from 'matrix-bot-sdk';
import { isRoomkeeperError, RoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';

/*
 * How a bot's own matrix-bot-sdk MatrixClient feeds roomkeeper. The SDK's loop (startSync) is, per
 * response: doSync → [save token unless persistTokenAfterSync] → processSync(body) → [save token
 * if persistTokenAfterSync]. processSync is where the SDK emits room.* events, awaiting each emit,
 * and the loop looks it up on the instance for every response. So attaching sets
 * persistTokenAfterSync and puts an own `processSync` on the instance that commits the whole body
 * first and then hands it to the SDK's: its events fire after the commit, and its token is saved
 * after both. Nothing of matrix-bot-sdk is loaded here (types only), so `roomkeeper` itself never
 * loads the SDK or its native crypto binding.
 */

/** The parts of MatrixClient that attach replaces or reads; protected in the SDK's typings. */
interface ClientInternals {
  processSync: (this: ClientInternals, raw: unknown, emitFn?: unknown) => Promise<unknown>;
  persistTokenAfterSync: boolean;
  start: (this: ClientInternals, filter?: unknown) => Promise<unknown>;
  stop(): void;
  storage: IStorageProvider;
}

/** The client a bot attaches: matrix-bot-sdk's own MatrixClient (named here so that only matrix/ imports the SDK). */
export type AttachableClient = MatrixClient;

/** What an attached client needs of roomkeeper. */
export interface AttachTarget {
  /**
   * Commits one whole /sync body (serialized with every other writer); resolves once it is
   * durable, rejects with STORE_CLOSED once the store is closed.
   */
  commit(body: unknown): Promise<void>;
  /** The token roomkeeper committed last; undefined before the first body. */
  syncToken(): Promise<string | undefined>;
  log: Logger;
  /** Told once when a commit failed and the client was stopped because of it. */
  onFatal?: (err: unknown) => void;
}

/** A client attached to roomkeeper; detach() restores it. */
export interface Attachment {
  readonly client: MatrixClient;
  /** Restores the client's own processSync, start and token setting; resolves once the body in hand (if any) is done. */
  detach(): Promise<void>;
}

const attached = new WeakSet<object>();

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

// A join rebuilds the room from the state block, so it must hold every member (spec: "Lazy-loading
// room members" is off unless a filter asks for it).
function lazyLoadsMembers(filter: unknown): boolean {
  const room = isObject(filter) ? filter['room'] : undefined;
  if (!isObject(room)) return false;
  return [room['state'], room['timeline']].some((part) => isObject(part) && part['lazy_load_members'] === true);
}

/**
 * Makes every whole /sync body the client receives go through `target.commit` before the SDK
 * emits its events, and the SDK's token be saved only after both.
 */
export function attachClient(client: MatrixClient, target: AttachTarget): Attachment {
  const internals = client as unknown as ClientInternals;
  if (typeof internals.processSync !== 'function' || typeof internals.start !== 'function') {
    throw new TypeError('attach(client): client is not a matrix-bot-sdk MatrixClient');
  }
  if (attached.has(client)) throw new TypeError('attach(client): this client is already attached to a roomkeeper store');
  const log = target.log.child({ mod: 'attach' });
  const ownProcessSync = Object.prototype.hasOwnProperty.call(client, 'processSync');
  const ownStart = Object.prototype.hasOwnProperty.call(client, 'start');
  const originalProcessSync = internals.processSync;
  const originalStart = internals.start;
  const originalPersistAfter = internals.persistTokenAfterSync;
  let inFlight: Promise<unknown> = Promise.resolve();
  let active = true;

  async function processSync(raw: unknown, emitFn?: unknown): Promise<unknown> {
    // The SDK skips an empty body; so does the record.
    if (active && raw) {
      try {
        await target.commit(raw);
      } catch (err) {
        // A closed store refuses what the client's last long-poll brings: no event of it fires and
        // its token is not saved, so the next run fetches it again.
        if (isRoomkeeperError(err, 'STORE_CLOSED')) {
          internals.stop();
          throw err;
        }
        // The SDK's loop has already moved its in-memory token past this body: carrying on would
        // skip it for good. Stop before any event is emitted and before the token is saved, so a
        // restart fetches the body again.
        log.error({ err }, 'committing a sync response failed; the client was stopped');
        internals.stop();
        target.onFatal?.(err);
        throw err;
      }
    }
    return originalProcessSync.call(internals, raw, emitFn);
  }

  function tracked(raw: unknown, emitFn?: unknown): Promise<unknown> {
    const run = processSync(raw, emitFn);
    inFlight = run.catch(() => undefined);
    return run;
  }

  async function start(filter?: unknown): Promise<unknown> {
    if (active && lazyLoadsMembers(filter)) {
      throw new RoomkeeperError(
        'INPUT_INVALID',
        'client.start(filter): a filter with lazy_load_members leaves members out of the state block, which roomkeeper needs whole',
      );
    }
    if (active) await alignSyncToken();
    return originalStart.call(internals, filter);
  }

  // The SDK resumes from its own storage's token, which attach keeps at or behind roomkeeper's
  // (the body in between comes again and its events are skipped as duplicates). Two cases break
  // that: a record that has never seen a body must start from an initial sync to learn every
  // room, and a storage that lost its token (MemoryStorageProvider) resumes where the record is.
  async function alignSyncToken(): Promise<void> {
    const [ours, theirs] = await Promise.all([target.syncToken(), Promise.resolve(internals.storage.getSyncToken())]);
    if (ours === undefined && theirs !== null && theirs !== undefined) {
      log.info('empty record: the first sync is an initial one');
      await Promise.resolve(internals.storage.setSyncToken(null));
    } else if (ours !== undefined && (theirs === null || theirs === undefined)) {
      log.info('resuming sync from the committed token');
      await Promise.resolve(internals.storage.setSyncToken(ours));
    }
  }

  internals.processSync = tracked;
  internals.start = start;
  internals.persistTokenAfterSync = true;
  attached.add(client);

  return {
    client,
    async detach(): Promise<void> {
      if (!active) return;
      active = false;
      if (ownProcessSync) internals.processSync = originalProcessSync;
      else delete (internals as Partial<ClientInternals>).processSync;
      if (ownStart) internals.start = originalStart;
      else delete (internals as Partial<ClientInternals>).start;
      internals.persistTokenAfterSync = originalPersistAfter;
      attached.delete(client);
      await inFlight;
    },
  };
}
