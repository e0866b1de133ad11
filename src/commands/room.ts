import type { Membership } from '../state/events.js';
import type { UserId } from '../state/ids.js';
import { displayNames, nameBesideId } from '../state/member-names.js';
import { powerContextOf, staffOf } from '../state/power-levels.js';
import { refOf } from './parse.js';
import type { Command } from './command.js';
import { bullets, code, countOf, formatWhen, line, reply, strong, type Inline } from './render.js';
import { resolveRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';

/** The memberships other than join that `!room` counts, in the order it names them. */
const OTHER_KINDS: readonly [Membership, string][] = [
  ['invite', 'invited'],
  ['knock', 'knocking'],
  ['ban', 'banned'],
];

/** Most names listed per role; the rest are counted. */
const MAX_STAFF = 10;

/** `!room [REF]`: what the bot knows about one shared room. */
export const roomCommand: Command<RoomsDeps> = {
  name: 'room',
  usage: '[REF]',
  summary: 'show one room we share: name, alias, topic, members, moderators, encryption',
  help: [
    'Shows the name, alias, topic, id, members (joined, invited, banned), admins and moderators, join rule, encryption, version and upgrades of a room we share, and when I joined it.',
    'REF is a number from !rooms, a room id, an alias, or part of the name (upper or lower case does not matter).',
    'Without REF it shows the one room we share, if there is only one.',
  ],
  examples: ['room 2', 'room "Team chat"', 'room #team:example.org', 'room !abc123:example.org'],
  adminOnly: false,
  harmless: false,
  run: async (ctx, args) => {
    const rooms = await loadSharedRooms(ctx, ctx.sender);
    const res = resolveRoom(refOf(args), rooms);
    if (res.kind !== 'found') return unresolvedReply(res, ctx, 'room');
    const { room, number } = res.room;
    const info = room.info;
    const [counts, members] = await Promise.all([ctx.rooms.memberCounts(room.roomId), ctx.rooms.membersOf(room.roomId, { membership: 'all' })]);
    const field = (label: string, ...value: Inline[]): Inline[] => [strong(label), ': ', ...value];
    const others = OTHER_KINDS.filter(([kind]) => counts[kind] > 0).map(([kind, word]) => `${counts[kind]} ${word}`);
    const shown = displayNames(members);
    const names = (users: readonly UserId[]): string => {
      const listed = users.slice(0, MAX_STAFF).map((u) => {
        const name = nameBesideId(shown.get(u), u);
        return name === undefined ? u : `${name} (${u})`;
      });
      return users.length > MAX_STAFF ? `${listed.join(', ')} and ${users.length - MAX_STAFF} more` : listed.join(', ');
    };
    const staff = staffOf(powerContextOf(info));
    const known = info?.powerLevels !== undefined || (info?.creators ?? []).length > 0;
    const items: Inline[][] = [
      field('Name', info?.name ?? '(none)'),
      field('Alias', info?.canonicalAlias ? code(info.canonicalAlias) : '(none)'),
      field('Topic', info?.topic ?? '(none)'),
      field('Room id', code(room.roomId)),
      field('Members', countOf(room.memberCount, 'member'), others.length > 0 ? `; ${others.join(', ')}` : ''),
    ];
    if (staff.creators.length > 0) items.push(field('Creators', names(staff.creators)));
    items.push(field('Admins', known ? names(staff.admins) || '(none)' : 'unknown'));
    items.push(field('Moderators', known ? names(staff.moderators) || '(none)' : 'unknown'));
    items.push(field('Join rule', info?.joinRule ?? 'unknown'));
    items.push(field('Encrypted', info?.encrypted ? 'yes' : 'no'));
    items.push(field('Room version', info?.version ?? 'unknown'));
    if (info?.roomType === 'm.space') items.push(field('Kind', 'a space'));
    if (info?.predecessor !== undefined) items.push(field('Replaces', code(info.predecessor.roomId)));
    if (info?.successor !== undefined) {
      items.push(field('Replaced by', code(info.successor.roomId), info.successor.body === undefined ? '' : ` (“${info.successor.body}”)`));
    }
    if (info?.spaceParents !== undefined) items.push(field(info.spaceParents.length === 1 ? 'In space' : 'In spaces', info.spaceParents.join(', ')));
    items.push(field('I joined', info?.joinedAt === undefined ? 'unknown' : formatWhen(info.joinedAt, ctx.now)));
    return reply(line(strong(room.displayName), ` (number ${number} in your list)`), bullets(items));
  },
};
