import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWellFormed, decodeWithSchema, MEMBERSHIPS } from '../../src/state/events.js';

// Values on both sides of every rule the two decoders check: sigils, lengths (255), U+00FF and
// control characters in ids, integer and negative timestamps, wrong types, and objects that are
// not plain JSON (null prototype, an own `constructor`, arrays).
const long = (n: number) => 'a'.repeat(n);
/** Usually a value every rule accepts, else one of the edge cases: both paths get exercised. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...edges: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 4 * edges.length, arbitrary: valid }, ...edges.map((arbitrary) => ({ weight: 1, arbitrary })));
const idChars = fc.string({ unit: fc.constantFrom('a', 'b', ':', '.', '-', '\u00ff', '\u0000', '\u007f', 'é'), maxLength: 8 });
const eventId = mostly<unknown>(fc.constantFrom('$e1', '$e2:x'), idChars.map((s) => '$' + s), fc.constant('$'), fc.constant('e1'), fc.constant('$' + long(254)), fc.constant('$' + long(255)), fc.integer());
const userId = mostly<unknown>(
  fc.constantFrom('@alice:x', '@bot:x'),
  idChars.map((s) => '@' + s + ':x'),
  idChars.map((s) => '@' + s),
  fc.constant('@:x'),
  fc.constant('alice:x'),
  fc.constant('@' + long(250) + ':x'),
  fc.constant('@' + long(252) + ':x'),
);
const type = mostly<unknown>(
  fc.constantFrom('m.room.member', 'm.room.name', 'm.room.canonical_alias', 'm.room.topic', 'm.room.encryption', 'm.room.message', 'm.room.create', 'org.custom'),
  fc.constantFrom('', long(255), long(256)),
  fc.integer(),
);
const stateKey = mostly<unknown>(fc.constantFrom('', '@alice:x'), userId, fc.constantFrom('x', long(255), long(256)), fc.integer(), fc.constant(null));
const text = mostly<unknown>(fc.string({ maxLength: 4 }), fc.constant(''), fc.constant(null), fc.integer(), fc.boolean());
const nonPlain = fc.constantFrom<unknown>(Object.create(null) as unknown, [], 'content', null, { constructor: 'x' });
/** Plain objects only: fc.record would otherwise make some with a null prototype. */
const OPTIONAL = { requiredKeys: [] as never[], noNullPrototype: true };
const contentFields = fc.record(
  {
    membership: mostly<unknown>(fc.constantFrom(...MEMBERSHIPS), fc.constantFrom('joined', ''), fc.integer()),
    displayname: text,
    is_direct: fc.oneof(fc.boolean(), fc.constant('true')),
    name: text,
    alias: text,
    topic: text,
    msgtype: mostly<unknown>(fc.constantFrom('m.text', 'm.notice'), fc.integer()),
    body: text,
  },
  OPTIONAL,
);
const content = mostly<unknown>(contentFields, nonPlain);
const prevContent = fc.record({ membership: fc.oneof(fc.constantFrom(...MEMBERSHIPS), fc.integer()) }, OPTIONAL);
const unsigned = mostly<unknown>(fc.record({ prev_content: mostly<unknown>(prevContent, nonPlain), age: fc.nat() }, OPTIONAL), nonPlain);
const ts = mostly<unknown>(fc.oneof(fc.nat(), fc.constant(1_700_000_000_000)), fc.constantFrom(-1, 1.5, 2 ** 53, Number.NaN), fc.constant('1'));
const fields = { event_id: eventId, type, sender: userId, state_key: stateKey, content, origin_server_ts: ts, unsigned };
const rawEvent = mostly<unknown>(
  fc.record(fields, { requiredKeys: ['event_id', 'type', 'sender', 'content'], noNullPrototype: true }),
  fc.record(fields, OPTIONAL),
  fc.constantFrom<unknown>(null, 'event', 7, [], Object.create(null) as unknown),
);

describe('decodeEvent', () => {
  it('gives the same result on its fast path as the schemas whenever the fast path answers', () => {
    let fast = 0;
    let total = 0;
    fc.assert(
      fc.property(rawEvent, fc.boolean(), (raw, requireState) => {
        total++;
        const quick = decodeWellFormed(raw, requireState);
        const schema = decodeWithSchema(raw, requireState);
        // The fast path never rejects: an event it does not answer goes to the schemas, which
        // are the definition. What it does answer, the schemas must answer the same way.
        if (quick === undefined) return;
        fast++;
        expect(quick.ok).toBe(true);
        expect(schema).toStrictEqual(quick);
      }),
      { numRuns: 5000 },
    );
    // Not vacuous: the fast path took a good share of the events.
    expect(fast / total).toBeGreaterThan(0.1);
  });

  it('is taken for the well-formed events of a normal sync, with the same result as the schemas', () => {
    const wellFormed = fc.record({
      event_id: fc.constantFrom('$e1', '$e2:x'),
      type: fc.constantFrom('m.room.member', 'm.room.name', 'm.room.topic', 'm.room.message', 'org.custom'),
      sender: fc.constantFrom('@alice:x', '@bob:y'),
      // A membership's state_key is the member; other types here are room state (`''`).
      state_key: fc.constant('@alice:x'),
      content: fc.record(
        { membership: fc.constantFrom(...MEMBERSHIPS), displayname: fc.string({ maxLength: 5 }), name: fc.string({ maxLength: 5 }), topic: fc.string({ maxLength: 5 }) },
        { noNullPrototype: true },
      ),
      origin_server_ts: fc.nat(),
    }, { noNullPrototype: true });
    fc.assert(
      fc.property(wellFormed, (raw) => {
        const event = raw.type === 'm.room.member' ? raw : { ...raw, state_key: '' };
        const quick = decodeWellFormed(event, true);
        expect(quick).toBeDefined();
        expect(decodeWithSchema(event, true)).toStrictEqual(quick);
      }),
      { numRuns: 1000 },
    );
  });
});
