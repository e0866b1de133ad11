import { parseUserId } from '../state/ids.js';
import type { Command } from './command.js';
import { bullets, code, line, reply } from './render.js';
import { loadSharedRooms, roomItem, type RoomsDeps } from './shared-rooms.js';

/** `!common @user`: rooms the sender, that user and the bot are all in. */
export const commonCommand: Command<RoomsDeps> = {
  name: 'common',
  usage: '@user:server',
  summary: 'list the rooms you, another user and I are all in',
  help: [
    'Lists the rooms that you, the given user and I are all in, numbered as in !rooms.',
    'Give the full user id; a mention pill may only carry the display name.',
  ],
  examples: ['common @bob:example.org'],
  adminOnly: false,
  harmless: false,
  run: async (ctx, args) => {
    const [raw, ...extra] = args;
    const other = raw === undefined || extra.length > 0 ? undefined : parseUserId(raw);
    if (!other) {
      return reply(line('Give one full user id, as in ', code(`${ctx.prefix}common @bob:example.org`), '.'));
    }
    // Start from the sender's own shared rooms and only ever narrow them: whatever the other
    // user is in beyond that never reaches the reply, not even as a count.
    const mine = await loadSharedRooms(ctx, ctx.sender);
    const theirs = new Set(await ctx.rooms.sharedRooms(ctx.sender, other));
    const common = mine.map((room, i) => ({ room, number: i + 1 })).filter((n) => theirs.has(n.room.roomId));
    if (common.length === 0) {
      return reply(line('You, ', code(other), ' and I share no rooms.'));
    }
    return reply(
      line('You, ', code(other), ` and I share ${common.length === 1 ? '1 room' : `${common.length} rooms`} (numbers as in `, code(`${ctx.prefix}rooms`), '):'),
      bullets(common.map((n) => [code(String(n.number)), ' ', ...roomItem(n.room)])),
    );
  },
};
