import type { Member } from '../state/room-info.js';
import { refOf } from './parse.js';
import type { Command } from './command.js';
import { bullets, code, line, reply, roomLabel, strong, type Inline } from './render.js';
import { resolveRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';

/** Most members listed; the rest are counted. */
export const MAX_LISTED_MEMBERS = 50;

/** `!members [REF]`: the joined members of a shared room, with display names. */
export const membersCommand: Command<RoomsDeps> = {
  name: 'members',
  usage: '[REF]',
  summary: 'list the members of a room we share',
  help: [
    'Lists the joined members of a room we share, with their display names.',
    `Long lists show the first ${MAX_LISTED_MEMBERS} and count the rest.`,
    'REF works as for !room.',
  ],
  examples: ['members 1', 'members Team chat'],
  adminOnly: false,
  harmless: false,
  run: async (ctx, args) => {
    const rooms = await loadSharedRooms(ctx, ctx.sender);
    const res = resolveRoom(refOf(args), rooms);
    if (res.kind !== 'found') return unresolvedReply(res, ctx, 'members');
    const { room } = res.room;
    const members = sortMembers(await ctx.rooms.membersOf(room.roomId));
    const shown = members.slice(0, MAX_LISTED_MEMBERS);
    const rest = members.length - shown.length;
    return reply(
      line(strong(roomLabel(room.roomId, room.info)), ` has ${members.length === 1 ? '1 member' : `${members.length} members`}:`),
      bullets(shown.map(memberItem)),
      ...(rest > 0 ? [line(`… and ${rest} more`)] : []),
    );
  },
};

function displayName(m: Member): string | undefined {
  const name = m.displayName?.trim();
  return name ? name : undefined;
}

// By display name when there is one, so the list reads like a room's member list.
function sortMembers(members: readonly Member[]): Member[] {
  const key = (m: Member) => (displayName(m) ?? m.userId.slice(1)).toLowerCase();
  return [...members].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
  });
}

function memberItem(m: Member): Inline[] {
  const name = displayName(m);
  return name ? [name, ' (', code(m.userId), ')'] : [code(m.userId)];
}
