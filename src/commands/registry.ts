import type { Command, CommandCatalog } from './command.js';
import { commonCommand } from './common.js';
import { helpCommand, type HelpDeps } from './help.js';
import { historyCommand, seenCommand, type HistoryDeps } from './history.js';
import { membersCommand } from './members.js';
import { pruneCommand, type PruneDeps } from './prune.js';
import { code, line, reply, type Reply } from './render.js';
import { resyncCommand, type ResyncDeps } from './resync.js';
import { roomCommand } from './room.js';
import { roomsCommand } from './rooms.js';
import type { StatusDeps } from './status.js';
import { statusCommand } from './status.js';

/** Everything the built-in commands need together; each one sees only its own part. */
export type CommandDeps = HelpDeps & StatusDeps & ResyncDeps & PruneDeps & HistoryDeps;

/** The built-in commands in the order `!help` lists them. */
export const builtinCommands: readonly Command<CommandDeps>[] = [
  helpCommand,
  roomsCommand,
  roomCommand,
  membersCommand,
  commonCommand,
  historyCommand,
  seenCommand,
  statusCommand,
  resyncCommand,
  pruneCommand,
];

/** The outcome of looking a command up for a user: the command, or the reply that replaces it. */
export type Selection<D> = { ok: true; command: Command<D> } | { ok: false; reply: Reply };

/** Maps command names to commands. */
export interface Registry<D> extends CommandCatalog {
  list(): readonly Command<D>[];
  get(name: string): Command<D> | undefined;
  /** The command `name` if it exists and `isAdmin` may run it, else the reply to send instead. */
  select(name: string, who: { isAdmin: boolean; prefix: string }): Selection<D>;
}

/** Longest unknown command name echoed back. */
const MAX_ECHOED_NAME = 32;

/** Builds a registry; two commands with one name are a programmer mistake. */
export function createRegistry<D>(commands: readonly Command<D>[]): Registry<D> {
  const byName = new Map<string, Command<D>>();
  for (const c of commands) {
    if (byName.has(c.name)) throw new TypeError(`two commands are named "${c.name}"`);
    byName.set(c.name, c);
  }
  const list = [...commands];
  return {
    list: () => list,
    get: (name) => byName.get(name),
    select: (name, who) => {
      const command = byName.get(name);
      // Unknown, and admin-only for a non-admin, are told apart on purpose: the issue wants
      // "not allowed" for the latter, and the set of command names is public in the docs anyway.
      if (!command) {
        return {
          ok: false,
          reply: reply(
            line('I do not know ', code(`${who.prefix}${name.slice(0, MAX_ECHOED_NAME)}`), '. Say ', code(`${who.prefix}help`), ' for the commands I know.'),
          ),
        };
      }
      if (command.adminOnly && !who.isAdmin) return { ok: false, reply: reply(line('Not allowed.')) };
      return { ok: true, command };
    },
  };
}
