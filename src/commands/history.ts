import { isMemberChange, type Change, type MemberChange } from '../state/changes.js';
import { parseUserId, type RoomId } from '../state/ids.js';
import type { HistoryQuery } from '../store/change-log.js';
import type { Command } from './command.js';
import { refOf } from './parse.js';
import { bullets, code, formatWhen, line, reply, strong, type Inline } from './render.js';
import { resolveRoom, type SharedRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';

/** Where the history commands read the change log. */
export interface ChangeHistory {
  /** Stored changes, newest first (store/change-log.ts). */
  history(q: HistoryQuery): Promise<Change[]>;
}

export type HistoryDeps = RoomsDeps & { changes: ChangeHistory };

/** Membership changes per `!history` page. */
export const HISTORY_PAGE_SIZE = 10;
/** The last page `!history` reads: older changes are for `roomkeeper inspect history`. */
export const MAX_HISTORY_PAGE = 20;
/** Changes read from the log per step while collecting member changes. */
const READ_STEP = 200;
/** Most changes one command reads from the log, whatever it finds in them. */
const MAX_READ = 2_000;

/**
 * The member changes of one query, newest first, skipping profile and room changes and
 * stopping at the bot's current stay in the room (`joinedAt`): up to `want` of them, reading at
 * most MAX_READ changes.
 */
async function memberChanges(deps: HistoryDeps, q: Omit<HistoryQuery, 'limit' | 'before'>, want: number, keep: (c: MemberChange) => boolean): Promise<MemberChange[]> {
  const out: MemberChange[] = [];
  let before: string | undefined;
  for (let read = 0; read < MAX_READ && out.length < want; ) {
    const page = await deps.changes.history({ ...q, limit: READ_STEP, ...(before === undefined ? {} : { before }) });
    if (page.length === 0) break;
    read += page.length;
    before = page.at(-1)!.cursor;
    for (const c of page) if (isMemberChange(c) && keep(c) && out.push(c) >= want) break;
  }
  return out;
}

/** Whether a change happened during the bot's current stay in the room, the only one a command tells about. */
function inCurrentStay(c: { ts: number }, room: SharedRoom | undefined): boolean {
  const joinedAt = room?.info?.joinedAt;
  return room !== undefined && (joinedAt === undefined || c.ts >= joinedAt);
}

const DID: Record<MemberChange['kind'], string> = {
  joined: 'joined',
  left: 'left',
  kicked: 'was kicked',
  banned: 'was banned',
  unbanned: 'was unbanned',
  invited: 'was invited',
  'invite-rejected': 'turned down an invite',
  'invite-withdrawn': 'had an invite withdrawn',
  knocked: 'knocked',
};

/** One member change as a line: who, what, by whom, why, when. */
export function describeMemberChange(c: MemberChange, now: number): Inline[] {
  const parts: Inline[] = [code(c.userId), ` ${DID[c.kind]}`];
  if (c.sender !== c.userId) parts.push(' by ', code(c.sender));
  if (c.reason !== undefined) parts.push(` (“${c.reason}”)`);
  parts.push(` — ${formatWhen(c.ts, now)}`);
  return parts;
}

/** The page asked for: a last argument that is a whole number, when a room reference comes before it. */
function pageOf(args: readonly string[]): { ref: readonly string[]; page: number | undefined } {
  const last = args.at(-1);
  if (args.length >= 2 && last !== undefined && /^\d{1,3}$/.test(last)) return { ref: args.slice(0, -1), page: Number(last) };
  return { ref: args, page: 1 };
}

/** `!history [REF] [PAGE]`: the last membership changes of a shared room, newest first, a page at a time. */
export const historyCommand: Command<HistoryDeps> = {
  name: 'history',
  usage: '[REF] [PAGE]',
  summary: 'show who joined, left, was kicked or banned in a room we share, and by whom',
  help: [
    `Lists the last membership changes of a room we share, newest first, ${HISTORY_PAGE_SIZE} per page: who joined, left, was invited, kicked or banned, by whom and when.`,
    'REF works as for !room. A number after REF is the page: !history Garden 2 shows the 10 changes before the first page.',
    `Only changes since I last joined the room are shown, up to page ${MAX_HISTORY_PAGE}.`,
  ],
  examples: ['history', 'history 2', 'history Team chat 2'],
  adminOnly: false,
  harmless: false,
  run: async (ctx, args) => {
    const { ref, page } = pageOf(args);
    if (page === undefined || page < 1 || page > MAX_HISTORY_PAGE) {
      return reply(line(`Pages go from 1 to ${MAX_HISTORY_PAGE}, as in `, code(`${ctx.prefix}history Garden 2`), '.'));
    }
    const rooms = await loadSharedRooms(ctx, ctx.sender);
    const res = resolveRoom(refOf(ref), rooms);
    if (res.kind !== 'found') return unresolvedReply(res, ctx, 'history');
    const { room } = res.room;
    const changes = await memberChanges(ctx, { room: room.roomId }, page * HISTORY_PAGE_SIZE + 1, (c) => inCurrentStay(c, room));
    const shown = changes.slice((page - 1) * HISTORY_PAGE_SIZE, page * HISTORY_PAGE_SIZE);
    if (shown.length === 0) {
      return reply(line(strong(room.displayName), page === 1 ? ': no membership changes since I joined.' : `: no page ${page}; the changes end before it.`));
    }
    const more = changes.length > page * HISTORY_PAGE_SIZE && page < MAX_HISTORY_PAGE;
    return reply(
      line(strong(room.displayName), `: membership changes, newest first (page ${page}):`),
      bullets(shown.map((c) => describeMemberChange(c, ctx.now))),
      ...(more ? [line('Older ones: ', code(`${ctx.prefix}history ${res.room.number} ${page + 1}`), '.')] : []),
    );
  },
};

const JOINS: ReadonlySet<MemberChange['kind']> = new Set(['joined']);
const LEAVES: ReadonlySet<MemberChange['kind']> = new Set(['left', 'kicked', 'banned']);

/** `!seen @user`: when that user last joined and left each room the sender shares with the bot. */
export const seenCommand: Command<HistoryDeps> = {
  name: 'seen',
  usage: '@user:server',
  summary: 'show when a user last joined or left each room we share',
  help: [
    'For each room we share, says when the given user last joined it and last left it (left, kicked or banned), as far as I saw since I joined that room.',
    'Give the full user id.',
  ],
  examples: ['seen @bob:example.org'],
  adminOnly: false,
  harmless: false,
  run: async (ctx, args) => {
    const [raw, ...extra] = args;
    const other = raw === undefined || extra.length > 0 ? undefined : parseUserId(raw);
    if (other === undefined) return reply(line('Give one full user id, as in ', code(`${ctx.prefix}seen @bob:example.org`), '.'));
    // Only the sender's rooms now: whatever the user did elsewhere never reaches the reply.
    const rooms = await loadSharedRooms(ctx, ctx.sender);
    const byId = new Map<RoomId, { room: SharedRoom; number: number; joined?: MemberChange; left?: MemberChange }>(
      rooms.map((room, i) => [room.roomId, { room, number: i + 1 }]),
    );
    const changes = await memberChanges(ctx, { user: other }, MAX_READ, (c) => inCurrentStay(c, byId.get(c.roomId)?.room));
    for (const c of changes) {
      const entry = byId.get(c.roomId)!;
      if (JOINS.has(c.kind)) entry.joined ??= c;
      else if (LEAVES.has(c.kind)) entry.left ??= c;
    }
    const seen = [...byId.values()].filter((e) => e.joined !== undefined || e.left !== undefined);
    if (seen.length === 0) return reply(line('I have not seen ', code(other), ' join or leave any room we share since I joined it.'));
    const when = (c: MemberChange | undefined, what: string): string[] => (c === undefined ? [] : [`${what} ${formatWhen(c.ts, ctx.now)}`]);
    return reply(
      line(code(other), ' in the rooms we share (numbers as in ', code(`${ctx.prefix}rooms`), '):'),
      bullets(
        seen.map((e) => {
          const parts = [...when(e.joined, 'joined'), ...when(e.left, e.left?.kind === 'left' ? 'left' : e.left?.kind === 'kicked' ? 'kicked' : 'banned')];
          return [code(String(e.number)), ' ', strong(e.room.displayName), ': ', parts.join('; ')];
        }),
      ),
    );
  },
};
