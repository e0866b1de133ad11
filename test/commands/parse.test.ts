import { describe, expect, it } from 'vitest';
import { MAX_ARG_CHARS, MAX_ARGS, MAX_BODY_CHARS, parseCommand, refOf } from '../../src/commands/parse.js';

describe('parse', () => {
  it('returns undefined when the body does not start with the prefix', () => {
    expect(parseCommand('hello !rooms', '!')).toBeUndefined();
  });

  it('returns undefined when the prefix is not followed by a letter', () => {
    expect(parseCommand('!!!', '!')).toBeUndefined();
    expect(parseCommand('! rooms', '!')).toBeUndefined();
    expect(parseCommand('!', '!')).toBeUndefined();
  });

  it('reads the name in lower case and no arguments when there are none', () => {
    expect(parseCommand('!Rooms', '!')).toEqual({ ok: true, command: { name: 'rooms', args: [] } });
  });

  it('splits arguments on whitespace when they are not quoted', () => {
    expect(parseCommand('!room  Team   chat ', '!')).toEqual({ ok: true, command: { name: 'room', args: ['Team', 'chat'] } });
  });

  it('keeps spaces inside one argument when it is in double quotes', () => {
    expect(parseCommand('!room "Team chat" 2', '!')).toEqual({ ok: true, command: { name: 'room', args: ['Team chat', '2'] } });
  });

  it('accepts typographic quotes when a phone replaced the straight ones', () => {
    expect(parseCommand('!room “Team chat”', '!')).toEqual({ ok: true, command: { name: 'room', args: ['Team chat'] } });
  });

  it('keeps an apostrophe inside a word when it does not start the word', () => {
    expect(parseCommand("!room Bob's", '!')).toEqual({ ok: true, command: { name: 'room', args: ["Bob's"] } });
  });

  it('ignores a trailing newline when the client adds one', () => {
    expect(parseCommand('!rooms\n', '!')).toEqual({ ok: true, command: { name: 'rooms', args: [] } });
  });

  it('works with a longer prefix when one is configured', () => {
    expect(parseCommand('rk:room 2', 'rk:')).toEqual({ ok: true, command: { name: 'room', args: ['2'] } });
  });

  it('rejects an unclosed quote with a reason', () => {
    expect(parseCommand('!room "Team chat', '!')).toMatchObject({ ok: false, error: { code: 'UNCLOSED_QUOTE' } });
  });

  it('rejects empty quotes', () => {
    expect(parseCommand('!room ""', '!')).toMatchObject({ ok: false, error: { code: 'EMPTY_QUOTES' } });
  });

  it('rejects a control character when one is inside the command', () => {
    const r = parseCommand('!room a\u0007b', '!');
    expect(r).toMatchObject({ ok: false, error: { code: 'CONTROL_CHAR' } });
  });

  it('rejects a second line when the body has one', () => {
    expect(parseCommand('!room a\n!prune 1s', '!')).toMatchObject({ ok: false, error: { code: 'CONTROL_CHAR' } });
  });

  it('rejects a text-direction override when one is in an argument', () => {
    expect(parseCommand('!room abc\u202edef', '!')).toMatchObject({ ok: false, error: { code: 'CONTROL_CHAR' } });
  });

  it('rejects an argument when it is longer than the limit', () => {
    const r = parseCommand(`!room ${'x'.repeat(MAX_ARG_CHARS + 1)}`, '!');
    expect(r).toMatchObject({ ok: false, error: { code: 'ARG_TOO_LONG', message: expect.stringContaining('Argument 1') } });
  });

  it('accepts an argument when it is exactly at the limit', () => {
    expect(parseCommand(`!room ${'x'.repeat(MAX_ARG_CHARS)}`, '!')).toMatchObject({ ok: true });
  });

  it('rejects the body when it is longer than the limit', () => {
    const r = parseCommand(`!room ${'x '.repeat(MAX_BODY_CHARS)}`, '!');
    expect(r).toMatchObject({ ok: false, error: { code: 'BODY_TOO_LONG' } });
  });

  it('rejects too many arguments', () => {
    const r = parseCommand(`!room ${'a '.repeat(MAX_ARGS + 1)}`, '!');
    expect(r).toMatchObject({ ok: false, error: { code: 'TOO_MANY_ARGS' } });
  });

  it('rejects a long command name', () => {
    expect(parseCommand(`!${'a'.repeat(40)}`, '!')).toMatchObject({ ok: false, error: { code: 'NAME_TOO_LONG' } });
  });

  it('throws a TypeError when the prefix is empty', () => {
    expect(() => parseCommand('!rooms', '')).toThrow(TypeError);
  });
});

describe('parse refOf', () => {
  it('joins the words with single spaces when there are several', () => {
    expect(refOf(['Team', 'chat'])).toBe('Team chat');
  });

  it('returns undefined when there are no arguments', () => {
    expect(refOf([])).toBeUndefined();
  });
});
