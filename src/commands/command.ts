import type { UserId } from '../state/ids.js';
import type { Reply } from './render.js';

/** Facts about one use of a command, filled in by the dispatcher. */
export interface Invocation {
  sender: UserId;
  /** Local time (ms) the command is handled at; every date in a reply is relative to it. */
  now: number;
  isAdmin: boolean;
  /** The configured command prefix, for replies that mention other commands. */
  prefix: string;
}

/** What `!help` shows about a command. */
export interface CommandInfo {
  readonly name: string;
  /** Arguments as shown in help, without prefix and name: `[REF]`. Empty when there are none. */
  readonly usage: string;
  /** One line for the `!help` list. */
  readonly summary: string;
  /** Details for `!help NAME`, one string per line. */
  readonly help: readonly string[];
  /** Example invocations without the prefix: `room "Team chat"`. */
  readonly examples: readonly string[];
  readonly adminOnly: boolean;
  /** Safe to answer in a group room when the config allows it: reveals nothing about anyone. */
  readonly harmless: boolean;
}

/**
 * A command: what help says about it and how to run it. `D` is the narrow set of services it
 * needs; a test passes fakes of just those.
 */
export interface Command<D> extends CommandInfo {
  readonly run: (ctx: D & Invocation, args: readonly string[]) => Promise<Reply>;
}

/** The commands `!help` can describe. */
export interface CommandCatalog {
  list(): readonly CommandInfo[];
  get(name: string): CommandInfo | undefined;
}
