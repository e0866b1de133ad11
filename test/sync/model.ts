/**
 * A small in-memory model of what the pipeline and store should end with, for the property test.
 * It keeps, per tracked room, every user's latest applied membership and the room's metadata, and
 * remembers which events it has applied; it knows nothing of batches, keys or LevelDB.
 *
 * The rules, as DESIGN.md states them:
 * - an event is fresh once, the first time it is seen (in a response, or ever); state is last
 *   writer wins: in a tracked room a seen state event applies again (a state reset, or a
 *   response read twice), except the bot's own leave or ban;
 * - a user is in a room iff their latest applied membership there is `join`;
 * - the bot's own `leave`/`ban` forgets the room entirely;
 * - the bot's first-seen own `join` into a room it does not track (or after a membership that was
 *   not `join`) rebuilds the room from the whole response, seen events included: what the server
 *   resends on a rejoin is the room's current state;
 * - a room in `leave` and `join` of one response is one story, its leave section first;
 * - a room only in `leave` that is not tracked is not created;
 * - `m.room.name`, `m.room.topic`, `m.room.canonical_alias`, `m.room.encryption` set RoomInfo.
 */

import { expectedRoom, type ExpectedRoom } from '../support/sync-stream.js';

type Json = Record<string, unknown>;

interface ModelRoom {
  name?: string;
  topic?: string;
  alias?: string;
  encrypted: boolean;
  memberships: Map<string, string>;
  /** Display name per user, from their current member event (gone when it is redacted). */
  names: Map<string, string>;
  /** The current event of each state key, and its origin_server_ts. */
  current: Map<string, { id: string; ts: number }>;
}

/** The same document `inspectAll` produces. */
export interface ModelDocument {
  rooms: ExpectedRoom[];
  users: { userId: string; rooms: string[] }[];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class RoomModel {
  readonly #bot: string;
  readonly #rooms = new Map<string, ModelRoom>();
  readonly #applied = new Set<string>();

  constructor(botUserId: string) {
    this.#bot = botUserId;
  }

  /** Applies one /sync body the way roomkeeper should. Only handles bodies the property test generates. */
  process(body: Json): void {
    const rooms = isObject(body.rooms) ? body.rooms : {};
    // One story per room: its leave section, then its join section (kicked and re-joined in one window).
    const stories = new Map<string, { events: { e: Json; timeline: boolean }[]; sections: Set<string> }>();
    for (const section of ['leave', 'join'] as const) {
      const byRoom = isObject(rooms[section]) ? rooms[section] : {};
      for (const [roomId, room] of Object.entries(byRoom)) {
        const r = room as { state?: { events?: Json[] }; timeline?: { events?: Json[] } };
        let story = stories.get(roomId);
        if (story === undefined) stories.set(roomId, (story = { events: [], sections: new Set() }));
        story.sections.add(section);
        const valid = (e: Json) => typeof e.event_id === 'string' && isObject(e.content);
        // Per event, whether it came in its section's timeline (state block first).
        for (const e of (r.state?.events ?? []).filter(valid)) story.events.push({ e, timeline: false });
        for (const e of (r.timeline?.events ?? []).filter(valid)) story.events.push({ e, timeline: true });
      }
    }
    for (const [roomId, { events, sections }] of stories) {
      const fresh: Json[] = [];
      const entries: { e: Json; seen: boolean; timeline: boolean }[] = [];
      const inResponse = new Set<string>();
      for (const { e, timeline } of events) {
        const key = `${roomId} ${String(e.event_id)}`;
        if (inResponse.has(key)) {
          // Kept where it came first, but in the timeline too: not a response read again.
          const kept = entries.find((x) => x.e.event_id === e.event_id);
          if (kept !== undefined && timeline) kept.timeline = true;
          continue;
        }
        inResponse.add(key);
        const seen = this.#applied.has(key);
        entries.push({ e, seen, timeline });
        if (!seen) fresh.push(e);
      }
      // A room only left that was never tracked is not one the bot is in: nothing is created.
      if (sections.has('join') || this.#rooms.has(roomId)) this.#applyRoom(roomId, entries);
      for (const e of fresh) this.#applied.add(`${roomId} ${String(e.event_id)}`);
    }
  }

  #isOwnJoin(e: Json): boolean {
    return e.type === 'm.room.member' && e.state_key === this.#bot && (e.content as Json).membership === 'join';
  }

  #applyRoom(roomId: string, entries: { e: Json; seen: boolean; timeline: boolean }[]): void {
    const prevOf = (e: Json) => ((e.unsigned as { prev_content?: Json } | undefined)?.prev_content?.membership as string | undefined);
    const rebuild = entries.some(
      ({ e, seen }) => !seen && this.#isOwnJoin(e) && (!this.#rooms.has(roomId) || (prevOf(e) !== undefined && prevOf(e) !== 'join')),
    );
    if (rebuild) this.#rooms.delete(roomId);
    // A room whose events were all seen, timeline included, is a response read again: nothing applies.
    if (!rebuild && entries.length > 0 && entries.every((x) => x.seen) && entries.some((x) => x.timeline)) return;
    // While rebuilding, the bot's leave before its last join is history the rejoin undid.
    const lastOwnJoin = rebuild ? entries.findLastIndex(({ e }) => this.#isOwnJoin(e)) : -1;
    const room = (): ModelRoom => {
      let r = this.#rooms.get(roomId);
      if (r === undefined) this.#rooms.set(roomId, (r = { encrypted: false, memberships: new Map(), names: new Map(), current: new Map() }));
      return r;
    };
    entries.forEach(({ e, seen, timeline }, i) => {
      const content = e.content as Json;
      if (e.type === 'm.room.redaction') {
        const r = this.#rooms.get(roomId);
        const target = typeof content.redacts === 'string' ? content.redacts : e.redacts;
        const key = r === undefined ? undefined : [...r.current].find(([, c]) => c.id === target)?.[0];
        if (r === undefined || key === undefined) return;
        // What the redaction algorithm keeps: membership, and nothing of a name, topic or alias.
        if (key === 'm.room.name ') r.name = undefined;
        else if (key === 'm.room.topic ') r.topic = undefined;
        else if (key === 'm.room.canonical_alias ') r.alias = undefined;
        else if (key.startsWith('m.room.member ')) r.names.delete(key.slice('m.room.member '.length));
        return;
      }
      if (typeof e.state_key !== 'string') return;
      const key = `${String(e.type)} ${e.state_key}`;
      const ts = Number(e.origin_server_ts ?? 0);
      // Last writer wins per state key. A seen event applies when the room is tracked and the
      // event is not the current one: from a state block always (a state reset), from a
      // timeline only when it is not older than the current one; never the bot's own leave.
      if (seen && !rebuild) {
        const r = this.#rooms.get(roomId);
        const cur = r?.current.get(key);
        if (r === undefined || cur?.id === e.event_id) return;
        if (timeline && ts < (cur?.ts ?? 0)) return;
        if (e.type === 'm.room.member' && e.state_key === this.#bot && content.membership !== 'join') return;
      }
      if (!['m.room.member', 'm.room.name', 'm.room.topic', 'm.room.canonical_alias', 'm.room.encryption'].includes(String(e.type))) return;
      if (!(e.type === 'm.room.member' && e.state_key === this.#bot && content.membership !== 'join' && i > lastOwnJoin)) {
        room().current.set(key, { id: String(e.event_id), ts });
      }
      switch (e.type) {
        case 'm.room.member': {
          const membership = String(content.membership);
          if (e.state_key === this.#bot && (membership === 'leave' || membership === 'ban') && i > lastOwnJoin) {
            this.#rooms.delete(roomId);
            return;
          }
          room().memberships.set(String(e.state_key), membership);
          const name = nonEmpty(content.displayname);
          if (name === undefined) room().names.delete(String(e.state_key));
          else room().names.set(String(e.state_key), name);
          return;
        }
        case 'm.room.name':
          room().name = nonEmpty(content.name);
          return;
        case 'm.room.topic':
          room().topic = nonEmpty(content.topic);
          return;
        case 'm.room.canonical_alias':
          room().alias = nonEmpty(content.alias);
          return;
        case 'm.room.encryption':
          room().encrypted = true;
          return;
      }
    });
  }

  /** The model's state in the shape of `inspect --json`. */
  inspect(): ModelDocument {
    const users = new Map<string, string[]>();
    const rooms = [...this.#rooms.keys()].sort(byCodeUnit).map((roomId) => {
      const r = this.#rooms.get(roomId)!;
      const members = [...r.memberships].filter(([, m]) => m === 'join').map(([u]) => u).sort(byCodeUnit);
      for (const u of members) users.set(u, [...(users.get(u) ?? []), roomId]);
      return expectedRoom(roomId, {
        name: r.name ?? null,
        canonicalAlias: r.alias ?? null,
        topic: r.topic ?? null,
        encrypted: r.encrypted,
        members: [...r.memberships].map(([userId, membership]) => {
          const displayName = r.names.get(userId);
          return displayName === undefined ? { userId, membership } : { userId, membership, displayName };
        }),
      });
    });
    return {
      rooms,
      users: [...users.keys()].sort(byCodeUnit).map((userId) => ({ userId, rooms: users.get(userId)! })),
    };
  }
}
