import type { Command } from './command.js';
import { code, line, numbered, reply } from './render.js';
import { loadSharedRooms, roomItem, type RoomsDeps } from './shared-rooms.js';

/** Most rooms listed; the rest are counted. Numbers past the cut still work with `!room N`. */
export const MAX_LISTED_ROOMS = 100;

/** `!rooms`: the rooms the sender shares with the bot, numbered, with member counts. */
export const roomsCommand: Command<RoomsDeps> = {
  name: 'rooms',
  usage: '',
  summary: 'list the rooms we share, numbered',
  help: [
    'Lists the rooms that you and I are both in, with their member counts.',
    'The numbers can be used wherever a command takes a room, as in !room 2.',
  ],
  examples: ['rooms'],
  adminOnly: false,
  harmless: false,
  run: async (ctx) => {
    const rooms = await loadSharedRooms(ctx, ctx.sender);
    if (rooms.length === 0) {
      return reply(line('We share no rooms yet: invite me to one and I will keep track of it.'));
    }
    const shown = rooms.slice(0, MAX_LISTED_ROOMS);
    const rest = rooms.length - shown.length;
    return reply(
      line(`We share ${rooms.length === 1 ? '1 room' : `${rooms.length} rooms`}:`),
      numbered(shown.map(roomItem)),
      ...(rest > 0 ? [line(`… and ${rest} more`)] : []),
      line('Say ', code(`${ctx.prefix}room NUMBER`), ' for details.'),
    );
  },
};
