import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import { decodeEvent } from '../../src/state/events.js';
import type { UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { BOT, simulate, stepArb } from '../support/sync-stream.js';
import { TempDirs } from '../support/temp-dir.js';
import { RoomModel } from './model.js';

/**
 * Random streams (test/support/sync-stream.ts, with leave and join of one room in one response)
 * made hostile: wrong types in every section, junk siblings, rooms with bad ids or bad shapes,
 * events of odd ids and wrong types, and events repeated with other content. The hostile body
 * goes through the real Pipeline; its clean original through RoomModel. After every response
 * the store must hold exactly what the model holds: the valid parts are applied as they would
 * be alone. The token moves only with a usable next_batch.
 */

type Json = Record<string, unknown>;

const junkValue = fc.constantFrom<unknown>(null, [], 'junk', 42, true, [1, 2], { events: 'x' });
const badRoomId = fc.constantFrom('not-a-room', '!a\u00ffb:x', '!\ud800:x', '!', '@user:x', '!tab\t:x', '');
/** Never one of the stream's rooms: a junk room must not stand in for a real one. */
const junkRoomId = fc.nat(5).map((n) => `!junk${n}:x`);
const junkRoom = fc.constantFrom<unknown>('junk', null, 7, [], { state: 5 }, { timeline: { events: 'x' } }, { state: { events: [1, null] } }, { timeline: { events: [], limited: 'yes' } });
const badEvent = fc.constantFrom<unknown>(
  42,
  null,
  'event',
  [],
  { type: 'm.room.member', content: { membership: 'join' } },
  { event_id: '$x\ud800', type: 'm.room.member', sender: '@al:x', state_key: '@al:x', content: { membership: 'join' } },
  { event_id: '$bad1', type: 'm.room.member', sender: '@al:x', state_key: '@mal\u0000:x', content: { membership: 'join' } },
  { event_id: '$bad2', type: 'm.room.member', sender: '@al:x', state_key: '@al\udc00:x', content: { membership: 'join' } },
  { event_id: '$bad3\u00ff', type: 'm.room.name', sender: '@al:x', state_key: '', content: { name: 'Evil' } },
  { event_id: '$bad4', type: 'm.room.member', sender: '@al:x', state_key: '@al:x', content: { membership: 'lurk' } },
  { event_id: '$bad5', type: 'm.room.name', sender: '@al:x', state_key: '', content: { name: 42 } },
  { event_id: '$bad6', type: 7, sender: '@al:x', content: {} },
  { event_id: '$bad7', type: 'm.room.topic', sender: 'nobody', state_key: '', content: { topic: 'x' } },
);

/** How one body is spoiled; applied to a deep copy. */
interface Spoil {
  invite?: unknown;
  leave?: unknown;
  nextBatch?: unknown;
  topLevel?: [string, unknown];
  junkRooms: { section: 'join' | 'leave'; id: string; value: unknown }[];
  badEvents: { at: number; event: unknown }[];
  copies: number[];
}

const spoilArb: fc.Arbitrary<Spoil> = fc.record(
  {
    invite: junkValue,
    leave: junkValue,
    nextBatch: fc.constantFrom<unknown>(123, null, '', ['s1'], { token: 's' }),
    topLevel: fc.tuple(fc.constantFrom('account_data', 'presence', 'to_device', 'device_lists'), junkValue),
    junkRooms: fc.array(
      fc.record({ section: fc.constantFrom('join' as const, 'leave' as const), id: fc.oneof(badRoomId, junkRoomId), value: fc.oneof(junkRoom, fc.constant({ timeline: { events: [] } })) }),
      { maxLength: 3 },
    ),
    badEvents: fc.array(fc.record({ at: fc.nat(), event: badEvent }), { maxLength: 4 }),
    copies: fc.array(fc.nat(), { maxLength: 3 }),
  },
  { requiredKeys: ['junkRooms', 'badEvents', 'copies'] },
);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The event arrays of every room of a body's join and leave sections. */
function eventLists(body: Json): { room: Json; lists: unknown[][] }[] {
  const out: { room: Json; lists: unknown[][] }[] = [];
  const rooms = isObject(body.rooms) ? body.rooms : {};
  for (const section of ['leave', 'join']) {
    const byRoom = rooms[section];
    if (!isObject(byRoom)) continue;
    for (const room of Object.values(byRoom)) {
      if (!isObject(room)) continue;
      const lists = ['state', 'timeline']
        .map((b) => (isObject(room[b]) ? (room[b]).events : undefined))
        .filter((l): l is unknown[] => Array.isArray(l));
      out.push({ room, lists });
    }
  }
  return out;
}

function spoiled(body: Json, spoil: Spoil): Json {
  const out = structuredClone(body);
  // Events first, while the sections are the original ones.
  const rooms = eventLists(out);
  const all = rooms.flatMap(({ lists }) => lists);
  if (all.length > 0) {
    // A copy of a valid event with other content, after every other event of its room. Copies
    // first: a copy of an invalid event would be a new valid one.
    for (const at of spoil.copies) {
      const { lists } = rooms[at % rooms.length]!;
      const events = lists.flat().filter((e): e is Json => decodeEvent(e, false).ok || decodeEvent(e, true).ok);
      const original = events[at % Math.max(1, events.length)];
      const last = lists.at(-1);
      if (original === undefined || last === undefined) continue;
      last.push({ ...original, content: { membership: 'ban', name: 'Forged', topic: 'Forged', body: 'forged' } });
    }
    for (const { at, event } of spoil.badEvents) {
      const list = all[at % all.length]!;
      list.splice(at % (list.length + 1), 0, structuredClone(event));
    }
  }
  if (!isObject(out.rooms)) out.rooms = {};
  const r = out.rooms as Json;
  if (spoil.invite !== undefined) r.invite = spoil.invite;
  // A section the body has is kept: replacing it would lose valid parts.
  if (spoil.leave !== undefined && !(isObject(r.leave) && Object.keys(r.leave).length > 0)) r.leave = spoil.leave;
  for (const { section, id, value } of spoil.junkRooms) {
    if (isObject(r[section])) (r[section])[id] = structuredClone(value);
  }
  if (spoil.nextBatch !== undefined) out.next_batch = spoil.nextBatch;
  if (spoil.topLevel !== undefined) out[spoil.topLevel[0]] = spoil.topLevel[1];
  return out;
}

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('Pipeline under hostile /sync bodies (property)', () => {
  it('applies the valid parts of every hostile body exactly as the clean body alone, and moves the token only with a usable next_batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 25 }),
        fc.infiniteStream(fc.option(spoilArb, { freq: 4 })),
        async (steps, spoils) => {
          const deliveries = simulate(steps);
          const store = await Store.open(await dirs.make(), { create: true });
          try {
            const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger('silent').log });
            const model = new RoomModel(BOT);
            let token: string | undefined;
            for (const [i, { body }] of deliveries.entries()) {
              const spoil = spoils.next().value as Spoil | null;
              const hostile = spoil === null ? body : spoiled(body, spoil);
              const r = await pipeline.process(hostile);
              model.process(body);
              const next = hostile.next_batch;
              if (typeof next === 'string' && next !== '') token = next;
              expect(r.tokenCommitted, `response ${i}`).toBe(typeof next === 'string' && next !== '');
              expect(await store.syncToken(), `token after response ${i}`).toBe(token);
              expect(await inspectAll(store), `after response ${i}`).toEqual(model.inspect());
            }
          } finally {
            await store.close();
            await dirs.cleanup();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
