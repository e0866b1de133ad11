import type { Command } from './command.js';
import { bullets, formatBytes, formatDuration, formatWhen, line, reply, strong, type Inline } from './render.js';

/** Figures everyone may see: nothing in them names or describes a room. */
export interface PublicStatus {
  roomsTracked: number;
  usersTracked: number;
  eventsApplied: number;
  duplicatesSkipped: number;
  invalidEvents: number;
  /** Local time (ms) of the last /sync response committed, undefined before the first. */
  lastSyncAt: number | undefined;
}

/** Figures only admins see; they may cost a walk of the data dir, so they are asked for apart. */
export interface AdminStatus {
  dataDirBytes: number;
  guardEntries: number;
}

/** Where `!status` reads the daemon's figures; the composition root implements it. */
export interface StatusSource {
  readonly version: string;
  /** Local time (ms) the daemon started. */
  readonly startedAt: number;
  stats(): Promise<PublicStatus>;
  adminStats(): Promise<AdminStatus>;
}

export interface StatusDeps {
  status: StatusSource;
}

const n = (v: number) => v.toLocaleString('en-US');

/** `!status`: version, uptime and counters; admins also get storage figures. */
export const statusCommand: Command<StatusDeps> = {
  name: 'status',
  usage: '',
  summary: 'show version, uptime and what I have processed',
  help: [
    'Shows my version, uptime, how many rooms and users I track, the events applied, duplicates skipped and invalid events since start, and when I last synced.',
    'Admins also see the size of the data directory and the number of guard entries.',
  ],
  examples: ['status'],
  adminOnly: false,
  harmless: false,
  run: async (ctx) => {
    const s = await ctx.status.stats();
    const field = (label: string, value: string): Inline[] => [strong(label), ': ', value];
    const items: Inline[][] = [
      field('Version', ctx.status.version),
      field('Uptime', formatDuration(ctx.now - ctx.status.startedAt)),
      field('Rooms tracked', n(s.roomsTracked)),
      field('Users tracked', n(s.usersTracked)),
      field('Events applied', n(s.eventsApplied)),
      field('Duplicates skipped', n(s.duplicatesSkipped)),
      field('Invalid events', n(s.invalidEvents)),
      field('Last sync', s.lastSyncAt === undefined ? 'not yet' : formatWhen(s.lastSyncAt, ctx.now)),
    ];
    if (ctx.isAdmin) {
      const a = await ctx.status.adminStats();
      items.push(field('Data directory', formatBytes(a.dataDirBytes)), field('Guard entries', n(a.guardEntries)));
    }
    return reply(line(strong('roomkeeper'), ' status'), bullets(items));
  },
};
