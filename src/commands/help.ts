import type { Command, CommandCatalog, CommandInfo } from './command.js';
import { bullets, code, line, reply, strong, type Inline } from './render.js';

export interface HelpDeps {
  catalog: CommandCatalog;
}

function usageOf(prefix: string, c: CommandInfo): string {
  return c.usage ? `${prefix}${c.name} ${c.usage}` : `${prefix}${c.name}`;
}

// Help texts name other commands with the default prefix; show the configured one instead.
function withPrefix(text: string, prefix: string): string {
  return prefix === '!' ? text : text.replace(/(^|[\s(])!(?=[a-z])/g, (_m, lead: string) => lead + prefix);
}

/** `!help [CMD]`: every command with one line, or one command in detail. Admin commands only for admins. */
export const helpCommand: Command<HelpDeps> = {
  name: 'help',
  usage: '[COMMAND]',
  summary: 'list the commands, or explain one',
  help: ['Without an argument, lists every command with one line.', 'With a command name, explains it with examples.'],
  examples: ['help', 'help room'],
  adminOnly: false,
  harmless: true,
  run: (ctx, args) => {
    const visible = (c: CommandInfo) => ctx.isAdmin || !c.adminOnly;
    const [raw] = args;
    if (raw === undefined) {
      const items = ctx.catalog
        .list()
        .filter(visible)
        .map((c): Inline[] => [code(usageOf(ctx.prefix, c)), ' — ', c.summary]);
      return Promise.resolve(
        reply(
          line('I keep track of the rooms I am in. Ask me about the rooms we share:'),
          bullets(items),
          line('Say ', code(`${ctx.prefix}help COMMAND`), ' for details.'),
        ),
      );
    }
    const name = (raw.startsWith(ctx.prefix) ? raw.slice(ctx.prefix.length) : raw).toLowerCase();
    const found = ctx.catalog.get(name);
    // A non-admin learns no more about admin commands than about ones that do not exist.
    if (!found || !visible(found)) {
      return Promise.resolve(
        reply(line('There is no command “', raw, '”. Say ', code(`${ctx.prefix}help`), ' for the list.')),
      );
    }
    return Promise.resolve(
      reply(
        line(strong(usageOf(ctx.prefix, found)), found.adminOnly ? ' (admins only)' : ''),
        ...found.help.map((h) => line(withPrefix(h, ctx.prefix))),
        line('Examples:'),
        bullets(found.examples.map((e) => [code(`${ctx.prefix}${e}`)])),
      ),
    );
  },
};
