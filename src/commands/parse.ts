/** A command as typed: its name (lower case, without the prefix) and its arguments. */
export interface Command {
  name: string;
  args: string[];
}

export type ParseErrorCode =
  | 'BODY_TOO_LONG'
  | 'NAME_TOO_LONG'
  | 'ARG_TOO_LONG'
  | 'TOO_MANY_ARGS'
  | 'CONTROL_CHAR'
  | 'UNCLOSED_QUOTE'
  | 'EMPTY_QUOTES';

/** Why a message that starts with the prefix is not a usable command; `message` is for the user. */
export interface ParseError {
  code: ParseErrorCode;
  message: string;
}

export type ParseResult = { ok: true; command: Command } | { ok: false; error: ParseError };

/** Longest message body read as a command, in characters. */
export const MAX_BODY_CHARS = 1000;
/** Longest command name; no real one comes near it. */
export const MAX_NAME_CHARS = 32;
/** Longest argument; Matrix ids, aliases and room names are all at most 255. */
export const MAX_ARG_CHARS = 255;
export const MAX_ARGS = 16;

// C0 and C1 controls, plus the bidi overrides and isolates that make text display out of order.
// A command is one line; its arguments end up in replies and logs.
// eslint-disable-next-line no-control-regex
const forbiddenChars = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

// Phones turn " into “ ” or „; all of them open and close a quoted argument.
const quoteChars = new Set(['"', '“', '”', '„']);

const fail = (code: ParseErrorCode, message: string): ParseResult => ({ ok: false, error: { code, message } });

/**
 * Reads a message body as a command: `undefined` when it is not one (no prefix, or the prefix not
 * followed by a letter, as in "!!" or "! hi"), otherwise the command or why it cannot be read.
 * Arguments are split on whitespace; "double quotes" keep spaces inside one argument.
 */
export function parseCommand(body: string, prefix: string): ParseResult | undefined {
  if (prefix.length === 0) throw new TypeError('command prefix must not be empty');
  if (!body.startsWith(prefix)) return undefined;
  const text = body.slice(prefix.length).trimEnd();
  if (!/^\p{L}/u.test(text)) return undefined;

  if (text.length > MAX_BODY_CHARS) {
    return fail('BODY_TOO_LONG', `A command can be at most ${MAX_BODY_CHARS} characters long.`);
  }
  if (forbiddenChars.test(text)) {
    return fail('CONTROL_CHAR', 'A command must be one line without control or text-direction characters.');
  }

  const nameEnd = text.search(/\s/);
  const name = (nameEnd === -1 ? text : text.slice(0, nameEnd)).toLowerCase();
  if (name.length > MAX_NAME_CHARS) {
    return fail('NAME_TOO_LONG', `A command name can be at most ${MAX_NAME_CHARS} characters long.`);
  }

  const args = splitArgs(nameEnd === -1 ? '' : text.slice(nameEnd));
  if (!Array.isArray(args)) return { ok: false, error: args };
  if (args.length > MAX_ARGS) {
    return fail('TOO_MANY_ARGS', `A command can have at most ${MAX_ARGS} arguments.`);
  }
  const long = args.findIndex((a) => a.length > MAX_ARG_CHARS);
  if (long !== -1) {
    return fail('ARG_TOO_LONG', `Argument ${long + 1} is longer than ${MAX_ARG_CHARS} characters.`);
  }
  return { ok: true, command: { name, args } };
}

function splitArgs(rest: string): string[] | ParseError {
  const args: string[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (quoteChars.has(c)) {
      let end = i + 1;
      while (end < rest.length && !quoteChars.has(rest.charAt(end))) end += 1;
      if (end >= rest.length) {
        return { code: 'UNCLOSED_QUOTE', message: 'A quoted argument is missing its closing quote.' };
      }
      const quoted = rest.slice(i + 1, end).trim();
      if (quoted.length === 0) return { code: 'EMPTY_QUOTES', message: 'Quotes must contain something.' };
      args.push(quoted);
      i = end + 1;
    } else {
      // A quote inside a word ("Bob"s) is an ordinary character; only one that starts a word quotes.
      let end = i;
      while (end < rest.length && !/\s/.test(rest.charAt(end))) end += 1;
      args.push(rest.slice(i, end));
      i = end;
    }
  }
  return args;
}

/**
 * The arguments taken as one room reference: a quoted argument as it is, several words joined by
 * single spaces (so `!room Team chat` and `!room "Team chat"` mean the same), none as `undefined`.
 */
export function refOf(args: readonly string[]): string | undefined {
  return args.length === 0 ? undefined : args.join(' ');
}
