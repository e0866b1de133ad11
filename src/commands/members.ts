import type { UserId } from '../state/ids.js';
import { displayNames, nameBesideId } from '../state/member-names.js';
import { powerContextOf, powerOf, roleOf, type Role } from '../state/power-levels.js';
import type { Member } from '../state/room-info.js';
import { refOf } from './parse.js';
import type { Command } from './command.js';
import { bullets, code, line, reply, strong, type Inline } from './render.js';
import { resolveRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';

/** Most members listed; the rest are counted. */
export const MAX_LISTED_MEMBERS = 50;

/** `!members [REF]`: the joined members of a shared room, with display names and roles. */
export const membersCommand: Command<RoomsDeps> = {
  name: 'members',
  usage: '[REF]',
  summary: 'list the members of a room we share',
  help: [
    'Lists the joined members of a room we share, with their display names (with the user id where two look alike) and roles (creator, admin, moderator).',
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
    const everyone = await ctx.rooms.membersOf(room.roomId, { membership: 'all' });
    // Invited members count in a name clash (spec), so names come from every membership.
    const shown = displayNames(everyone);
    const info = room.info;
    const ctxPower = powerContextOf(info);
    const members = sortMembers(
      everyone.filter((m) => m.membership === 'join'),
      shown,
    );
    const list = members.slice(0, MAX_LISTED_MEMBERS);
    const rest = members.length - list.length;
    const item = (m: Member): Inline[] => memberItem(m.userId, shown.get(m.userId) ?? m.userId, roleOf(powerOf(ctxPower, m.userId)));
    return reply(
      line(strong(room.displayName), ` has ${members.length === 1 ? '1 member' : `${members.length} members`}:`),
      bullets(list.map(item)),
      ...(rest > 0 ? [line(`… and ${rest} more`)] : []),
    );
  },
};

// By display name when there is one, so the list reads like a room's member list.
function sortMembers(members: readonly Member[], shown: ReadonlyMap<UserId, string>): Member[] {
  const key = (m: Member) => {
    const name = shown.get(m.userId) ?? m.userId;
    return (name === m.userId ? m.userId.slice(1) : name).toLowerCase();
  };
  return [...members].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
  });
}

function memberItem(userId: UserId, name: string, role: Role): Inline[] {
  const label = role === 'user' ? [] : [` — ${role}`];
  const shown = nameBesideId(name, userId);
  return shown === undefined ? [code(userId), ...label] : [shown, ' (', code(userId), ')', ...label];
}
