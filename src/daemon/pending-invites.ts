import { z } from 'zod';
import type { Logger } from '../log.js';
import { serial } from '../serial.js';
import { roomIdSchema, userIdSchema } from '../state/ids.js';
import { META_KEYS } from '../store/meta-keys.js';
import type { KeyValue, MetaWrite } from '../store/store.js';
import type { Invite } from '../state/sync-body.js';

const KEY = META_KEYS.pendingInvites;

const storedSchema = z.array(z.object({ roomId: roomIdSchema, inviter: userIdSchema.optional(), isDirect: z.boolean() }));

/**
 * Invites received but not answered yet, kept in the store. The sync token that follows an invite
 * is committed before the bot answers it, and the server sends an invite only once: the list goes
 * into the very batch that commits that token, or a crash or shutdown before the join would lose it.
 */
export class PendingInvites {
  readonly #meta: KeyValue;
  readonly #log: Logger;
  readonly #invites = new Map<string, Invite>();
  /** Bumped each time an invite of the room is added: tells a renewed invite from the one being answered. */
  readonly #generations = new Map<string, number>();
  /** Writes of the whole list, one at a time, so that the last write holds the last list. */
  readonly #writes = serial();

  constructor(meta: KeyValue, log: Logger) {
    this.#meta = meta;
    this.#log = log;
  }

  /** Reads the invites a previous run left unanswered. */
  async load(): Promise<Invite[]> {
    const raw = await this.#meta.get(KEY);
    if (raw === undefined) return [];
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      // Continuing on purpose: those invites are lost, as they were before this list existed.
      this.#log.warn({ err, key: KEY }, 'stored pending invites are not JSON; dropped');
      return [];
    }
    const parsed = storedSchema.safeParse(json);
    if (!parsed.success) {
      this.#log.warn({ key: KEY }, 'stored pending invites are malformed; dropped');
      return [];
    }
    for (const invite of parsed.data) this.#invites.set(invite.roomId, invite);
    return parsed.data;
  }

  /**
   * Records invites of a response; returns the write of the list to commit with its sync token
   * (the value is read at commit time, so an answer that came meanwhile is not undone).
   */
  record(invites: readonly Invite[]): MetaWrite[] {
    if (invites.length === 0) return [];
    for (const invite of invites) {
      this.#invites.set(invite.roomId, invite);
      this.#generations.set(invite.roomId, this.generation(invite.roomId) + 1);
    }
    return [{ key: KEY, value: () => this.#serialized() }];
  }

  /** How many times an invite of the room was added in this run. */
  generation(roomId: string): number {
    return this.#generations.get(roomId) ?? 0;
  }

  /** The latest unanswered invite of the room. */
  get(roomId: string): Invite | undefined {
    return this.#invites.get(roomId);
  }

  /** Forgets an answered (or given up) invite. */
  async remove(roomId: string): Promise<void> {
    if (!this.#invites.delete(roomId)) return;
    await this.#write();
  }

  #serialized(): string {
    return JSON.stringify([...this.#invites.values()]);
  }

  #write(): Promise<void> {
    return this.#writes(() => this.#meta.put(KEY, this.#serialized()));
  }
}
