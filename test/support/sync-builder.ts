/**
 * Builds /sync response bodies for tests, as a homeserver would send them.
 * Event ids are deterministic per builder so that tests can re-send "the same" event.
 */
export type RawEvent = Record<string, unknown>;

export interface RoomBlocks {
  state?: RawEvent[];
  timeline?: RawEvent[];
  limited?: boolean;
  /** The room's `summary` (heroes and member counts), sent as given. */
  summary?: Record<string, unknown>;
}

export class SyncBuilder {
  #n = 0;
  #ts = 1_700_000_000_000;

  /** A fresh event id. */
  id(): string {
    return `$e${++this.#n}`;
  }

  #base(type: string, sender: string, content: Record<string, unknown>, stateKey?: string): RawEvent {
    const e: RawEvent = { event_id: this.id(), type, sender, content, origin_server_ts: ++this.#ts };
    if (stateKey !== undefined) e.state_key = stateKey;
    return e;
  }

  /** An m.room.member event. */
  member(user: string, membership: string, opts: { sender?: string; displayname?: string; prev?: string; isDirect?: boolean } = {}): RawEvent {
    const content: Record<string, unknown> = { membership };
    if (opts.displayname !== undefined) content.displayname = opts.displayname;
    if (opts.isDirect !== undefined) content.is_direct = opts.isDirect;
    const e = this.#base('m.room.member', opts.sender ?? user, content, user);
    if (opts.prev !== undefined) e.unsigned = { prev_content: { membership: opts.prev } };
    return e;
  }

  name(sender: string, name: string): RawEvent {
    return this.#base('m.room.name', sender, { name }, '');
  }

  alias(sender: string, alias: string): RawEvent {
    return this.#base('m.room.canonical_alias', sender, { alias }, '');
  }

  topic(sender: string, topic: string): RawEvent {
    return this.#base('m.room.topic', sender, { topic }, '');
  }

  encryption(sender: string): RawEvent {
    return this.#base('m.room.encryption', sender, { algorithm: 'm.megolm.v1.aes-sha2' }, '');
  }

  message(sender: string, body: string): RawEvent {
    return this.#base('m.room.message', sender, { msgtype: 'm.text', body });
  }

  /** A response with the given joined (and left) rooms. */
  response(join: Record<string, RoomBlocks> = {}, leave: Record<string, RoomBlocks> = {}, nextBatch?: string): Record<string, unknown> {
    const section = (rooms: Record<string, RoomBlocks>) =>
      Object.fromEntries(
        Object.entries(rooms).map(([roomId, b]) => [
          roomId,
          {
            state: { events: b.state ?? [] },
            timeline: { events: b.timeline ?? [], limited: b.limited ?? false },
            ...(b.summary === undefined ? {} : { summary: b.summary }),
          },
        ]),
      );
    return { next_batch: nextBatch ?? `s${this.#n}`, rooms: { join: section(join), leave: section(leave) } };
  }
}
