import { parseDuration } from '../state/duration.js';
import type { Command } from './command.js';
import { code, formatDuration, line, reply, strong } from './render.js';

export interface PruneDeps {
  /** Deletes guard entries older than `olderThanMs` and says how many went. */
  prune(olderThanMs: number): Promise<number>;
  /** The age used when `!prune` is given none: the configured guard retention. */
  defaultPruneAgeMs: number;
  /** Deletes changes older than the change log's own retention and says how many went. */
  pruneChanges?(): Promise<number>;
  /** The change log's retention (config `changes.retention`), for the reply. */
  changeRetentionMs?: number;
}

/** Ten years; anything longer is a typo, and it keeps the sum far from float trouble. */
export const MAX_PRUNE_AGE_MS = 10 * 365 * 86_400_000;

/** Reads an age like `30d`, `12h`, `90m`, `45s` or `1d12h`; undefined when it is not one or is 0. */
export function parseAge(text: string): number | undefined {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0 && ms <= MAX_PRUNE_AGE_MS ? ms : undefined;
}

/** `!prune [AGE]`, admin only: prunes the guard now and reports how many entries went. */
export const pruneCommand: Command<PruneDeps> = {
  name: 'prune',
  usage: '[AGE]',
  summary: 'delete processed-event records older than AGE now (admin)',
  help: [
    'Deletes the guard entries (records of processed events) older than AGE and says how many went.',
    'AGE is a number with w, d, h, m or s, or several of them: 2w, 30d, 12h, 90m, 45s, 1d12h. Without AGE the configured retention is used.',
    'The change log (what !history and !seen read) is pruned at the same time, to its own retention (changes.retention).',
  ],
  examples: ['prune', 'prune 30d', 'prune 1d12h'],
  adminOnly: true,
  harmless: false,
  run: async (ctx, args) => {
    const [raw, ...extra] = args;
    const age = raw === undefined ? ctx.defaultPruneAgeMs : parseAge(raw);
    if (age === undefined || extra.length > 0) {
      return reply(line('Give one age such as ', code('30d'), ', ', code('12h'), ', ', code('90m'), ' or ', code('45s'), ', as in ', code(`${ctx.prefix}prune 30d`), '.'));
    }
    const count = await ctx.prune(age);
    const pruned = line(strong('Pruned'), ` ${count.toLocaleString('en-US')} guard ${count === 1 ? 'entry' : 'entries'} older than ${formatDuration(age)}.`);
    if (ctx.pruneChanges === undefined) return reply(pruned);
    const changes = await ctx.pruneChanges();
    const retention = ctx.changeRetentionMs === undefined ? '' : ` older than ${formatDuration(ctx.changeRetentionMs)}`;
    return reply(pruned, line(strong('Pruned'), ` ${changes.toLocaleString('en-US')} ${changes === 1 ? 'change' : 'changes'} of the change log${retention}.`));
  },
};
