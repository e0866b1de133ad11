import { refOf } from './parse.js';
import type { Command } from './command.js';
import { bullets, code, countOf, formatWhen, line, reply, roomLabel, strong, type Inline } from './render.js';
import { resolveRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';

/** `!room [REF]`: what the bot knows about one shared room. */
export const roomCommand: Command<RoomsDeps> = {
  name: 'room',
  usage: '[REF]',
  summary: 'show one room we share: name, alias, topic, members, encryption',
  help: [
    'Shows the name, alias, topic, id, member count and encryption of a room we share, and when I joined it.',
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
    const field = (label: string, ...value: Inline[]): Inline[] => [strong(label), ': ', ...value];
    return reply(
      line(strong(roomLabel(room.roomId, info)), ` (number ${number} in your list)`),
      bullets([
        field('Name', info?.name ?? '(none)'),
        field('Alias', info?.canonicalAlias ? code(info.canonicalAlias) : '(none)'),
        field('Topic', info?.topic ?? '(none)'),
        field('Room id', code(room.roomId)),
        field('Members', countOf(room.memberCount, 'member')),
        field('Encrypted', info?.encrypted ? 'yes' : 'no'),
        field('I joined', info?.joinedAt === undefined ? 'unknown' : formatWhen(info.joinedAt, ctx.now)),
      ]),
    );
  },
};
