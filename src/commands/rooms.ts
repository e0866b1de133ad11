import type { Command } from './command.js';
import { code, line, numbered, reply } from './render.js';
import type { SharedRoom } from './resolve-room.js';
import { loadSharedRooms, roomItem, type RoomsDeps } from './shared-rooms.js';

/** Most rooms listed; the rest are counted. Numbers past the cut still work with `!room N`. */
export const MAX_LISTED_ROOMS = 100;

/**
 * A room with no name or alias whose only joined members are the sender and the bot (a shared
 * room has both): what a client shows as a direct chat.
 */
function isDirectLike(room: SharedRoom): boolean {
  return room.memberCount === 2 && room.info?.name === undefined && room.info?.canonicalAlias === undefined;
}

/** `!rooms`: the rooms the sender shares with the bot, numbered, with member counts. */
export const roomsCommand: Command<RoomsDeps> = {
  name: 'rooms',
  usage: '',
  summary: 'list the rooms we share, numbered',
  help: [
    'Lists the rooms that you and I are both in, named as your client names them, with their member counts; direct chats and rooms replaced by an upgrade are marked.',
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
      numbered(shown.map((room) => [...roomItem(room), ...(isDirectLike(room) ? [' · DM'] : [])])),
      ...(rest > 0 ? [line(`… and ${rest} more`)] : []),
      line('Say ', code(`${ctx.prefix}room NUMBER`), ' for details.'),
    );
  },
};
