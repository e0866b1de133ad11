import { describe, expect, it } from 'vitest';
import { decodeEvent, isStateEvent, type DecodeResult, type TrackedEvent } from '../../src/state/events.js';
import { parseRoomId, parseUserId } from '../../src/state/ids.js';

function member(overrides: Record<string, unknown> = {}, content: Record<string, unknown> = { membership: 'join' }): Record<string, unknown> {
  return {
    event_id: '$m1',
    type: 'm.room.member',
    sender: '@alice:example.org',
    state_key: '@alice:example.org',
    content,
    origin_server_ts: 1_700_000_000_000,
    ...overrides,
  };
}

function decoded(r: DecodeResult): TrackedEvent {
  if (!r.ok) throw new Error(`expected a decoded event, got: ${r.reason}`);
  return r.event;
}

function rejected(r: DecodeResult): Extract<DecodeResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a rejection, got a ${r.event.kind} event`);
  return r;
}

describe('decodeEvent', () => {
  it('decodes a join with display name, prev membership and timestamp when the member event is valid', () => {
    const e = decoded(decodeEvent(member({ unsigned: { prev_content: { membership: 'invite' } } }, { membership: 'join', displayname: 'Alice' }), true));
    expect(e).toEqual({
      kind: 'member',
      eventId: '$m1',
      sender: '@alice:example.org',
      userId: '@alice:example.org',
      membership: 'join',
      displayName: 'Alice',
      prevMembership: 'invite',
      isDirect: false,
      ts: 1_700_000_000_000,
    });
  });

  it.each(['join', 'invite', 'leave', 'ban', 'knock'])('accepts membership %s when the member event is otherwise valid', (membership) => {
    const e = decoded(decodeEvent(member({}, { membership }), false));
    expect(e.kind === 'member' && e.membership).toBe(membership);
  });

  it('rejects the event when the membership is unknown', () => {
    const r = rejected(decodeEvent(member({}, { membership: 'lurk' }), false));
    expect(r.eventId).toBe('$m1');
    expect(r.reason).toContain('membership');
  });

  it('ignores a display name of the wrong type when the membership itself is valid', () => {
    const e = decoded(decodeEvent(member({}, { membership: 'join', displayname: 42 }), false));
    expect(e.kind === 'member' && e.displayName).toBeUndefined();
  });

  it('reads is_direct when the member content sets it', () => {
    const e = decoded(decodeEvent(member({}, { membership: 'invite', is_direct: true }), false));
    expect(e.kind === 'member' && e.isDirect).toBe(true);
  });

  it('rejects the event when event_id is missing', () => {
    const raw = member();
    delete raw.event_id;
    const r = rejected(decodeEvent(raw, false));
    expect(r.eventId).toBeUndefined();
    expect(r.type).toBe('m.room.member');
    expect(r.reason).toContain('event_id');
  });

  it('rejects the event when sender is missing', () => {
    const raw = member();
    delete raw.sender;
    const r = rejected(decodeEvent(raw, false));
    expect(r.eventId).toBe('$m1');
    expect(r.reason).toContain('sender');
  });

  it('rejects a member event when state_key is missing, even in a timeline', () => {
    const raw = member();
    delete raw.state_key;
    expect(rejected(decodeEvent(raw, false)).reason).toContain('state_key');
  });

  it('rejects an event of a state block when it has no state_key, whatever its type', () => {
    const raw = { event_id: '$s1', type: 'org.example.custom', sender: '@a:x', content: {} };
    expect(rejected(decodeEvent(raw, true)).reason).toContain('state_key');
  });

  it('accepts a timeline event without state_key as a message or other event when the type is not m.room.member', () => {
    const msg = decoded(decodeEvent({ event_id: '$t1', type: 'm.room.message', sender: '@a:x', content: { msgtype: 'm.text', body: '!help' } }, false));
    expect(msg).toMatchObject({ kind: 'message', body: '!help', msgtype: 'm.text' });
    expect(isStateEvent(msg)).toBe(false);
    const other = decoded(decodeEvent({ event_id: '$t2', type: 'm.reaction', sender: '@a:x', content: {} }, false));
    expect(other).toMatchObject({ kind: 'other', type: 'm.reaction' });
  });

  it('rejects the event when content is not an object', () => {
    for (const content of ['join', 7, null, ['membership']]) {
      expect(rejected(decodeEvent(member({ content }), false)).reason).toContain('content');
    }
  });

  it('rejects the event when a field has the wrong type', () => {
    expect(rejected(decodeEvent(member({ event_id: 12 }), false)).reason).toContain('event_id');
    expect(rejected(decodeEvent(member({ type: ['m.room.member'] }), false)).reason).toContain('type');
    expect(rejected(decodeEvent(member({ state_key: 5 }), false)).reason).toContain('state_key');
    expect(rejected(decodeEvent(member({ origin_server_ts: 'yesterday' }), false)).reason).toContain('origin_server_ts');
    expect(rejected(decodeEvent(member({ sender: 'alice' }), false)).reason).toContain('sender');
  });

  it('rejects the event when the value is not an object at all', () => {
    for (const raw of [null, undefined, 'event', 3, []]) expect(decodeEvent(raw, false).ok).toBe(false);
  });

  it('rejects the event when an id contains U+00FF, the store key separator', () => {
    expect(rejected(decodeEvent(member({ event_id: '$a\u00ffb' }), false)).reason).toContain('event_id');
    expect(rejected(decodeEvent(member({ sender: '@a\u00ff:x' }), false)).reason).toContain('sender');
    expect(rejected(decodeEvent(member({ state_key: '@b\u00ff:x' }), false)).reason).toContain('state_key');
  });

  it('rejects the event when an id contains a control character', () => {
    for (const c of ['\u0000', '\n', '\u001f', '\u007f']) {
      expect(decodeEvent(member({ event_id: `$a${c}b` }), false).ok).toBe(false);
      expect(decodeEvent(member({ state_key: `@b${c}:x` }), false).ok).toBe(false);
    }
  });

  it('rejects the event when an id holds a lone surrogate, which LevelDB would store as U+FFFD', () => {
    for (const c of ['\ud800', '\udfff', '\udc00\ud800']) {
      expect(rejected(decodeEvent(member({ event_id: `$a${c}b` }), false)).reason).toContain('well-formed');
      expect(rejected(decodeEvent(member({ sender: `@a${c}:x` }), false)).reason).toContain('well-formed');
      expect(rejected(decodeEvent(member({ state_key: `@b${c}:x` }), false)).reason).toContain('well-formed');
    }
    expect(parseRoomId('!a\ud800:x')).toBeUndefined();
    expect(parseUserId('@a\udc00:x')).toBeUndefined();
  });

  it('accepts ids with a well-formed surrogate pair', () => {
    expect(decoded(decodeEvent(member({ event_id: '$a\ud83d\ude00b' }), false)).eventId).toBe('$a\ud83d\ude00b');
    expect(parseRoomId('!\ud83d\ude00:x')).toBe('!\ud83d\ude00:x');
  });

  it('rejects a member event when its state_key is not a user id', () => {
    expect(rejected(decodeEvent(member({ state_key: 'alice' }), false)).reason).toContain('state_key');
  });

  it('decodes room name, alias, topic and encryption when their state_key is empty', () => {
    const base = { sender: '@a:x', state_key: '' };
    expect(decoded(decodeEvent({ ...base, event_id: '$1', type: 'm.room.name', content: { name: 'Lobby' } }, true))).toMatchObject({ kind: 'name', name: 'Lobby' });
    expect(decoded(decodeEvent({ ...base, event_id: '$2', type: 'm.room.canonical_alias', content: { alias: '#l:x' } }, true))).toMatchObject({
      kind: 'canonical-alias',
      alias: '#l:x',
    });
    expect(decoded(decodeEvent({ ...base, event_id: '$3', type: 'm.room.topic', content: { topic: 'chat' } }, true))).toMatchObject({ kind: 'topic', topic: 'chat' });
    expect(decoded(decodeEvent({ ...base, event_id: '$4', type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } }, true))).toMatchObject({
      kind: 'encryption',
    });
  });

  it('treats an empty or removed room name as no name', () => {
    const base = { sender: '@a:x', state_key: '', type: 'm.room.name' };
    expect(decoded(decodeEvent({ ...base, event_id: '$1', content: { name: '' } }, true))).toMatchObject({ kind: 'name', name: undefined });
    expect(decoded(decodeEvent({ ...base, event_id: '$2', content: {} }, true))).toMatchObject({ kind: 'name', name: undefined });
  });

  it('treats a room name event with a non-empty state_key as untracked state', () => {
    const e = decoded(decodeEvent({ event_id: '$1', type: 'm.room.name', sender: '@a:x', state_key: 'x', content: { name: 'Nope' } }, true));
    expect(e).toMatchObject({ kind: 'other-state', type: 'm.room.name' });
    expect(isStateEvent(e)).toBe(true);
  });
});
