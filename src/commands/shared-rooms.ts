import type { UserId } from '../state/ids.js';
import type { RoomsReader } from '../store/rooms-reader.js';
import type { Invocation } from './command.js';
import { bullets, code, countOf, line, reply, type Inline, type Reply } from './render.js';
import type { NumberedRoom, RoomResolution, SharedRoom } from './resolve-room.js';

/** What the room commands read: the store and who the bot is. */
export interface RoomsDeps {
  rooms: RoomsReader;
  botId: UserId;
}

/** Most candidates listed for an ambiguous reference. */
const MAX_CANDIDATES = 10;

/**
 * The rooms `user` shares with the bot, in `!rooms` order: by label, case-insensitively, then by
 * id. Every command that lists or resolves rooms goes through this, so numbers agree everywhere.
 * It reads the same things whatever reference the user typed.
 */
export async function loadSharedRooms(deps: RoomsDeps, user: UserId): Promise<SharedRoom[]> {
  const ids = await deps.rooms.sharedRooms(user, deps.botId);
  const rooms = await Promise.all(
    ids.map(async (roomId) => {
      const [info, memberCount, displayName] = await Promise.all([
        deps.rooms.info(roomId),
        deps.rooms.memberCount(roomId),
        deps.rooms.displayName(roomId, deps.botId),
      ]);
      return { roomId, info, memberCount, displayName };
    }),
  );
  const keyed = rooms.map((room) => ({ room, key: room.displayName.toLowerCase() }));
  keyed.sort((a, b) => compare(a.key, b.key) || compare(a.room.roomId, b.room.roomId));
  return keyed.map((k) => k.room);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A room as one list item: `Team chat — 5 members`, marked when it was replaced. */
export function roomItem(room: SharedRoom): Inline[] {
  const replaced = room.info?.successor === undefined ? '' : ' (replaced by a newer room)';
  return [room.displayName, ` — ${countOf(room.memberCount, 'member')}${replaced}`];
}

/** The reply for a reference that did not resolve to one room. */
export function unresolvedReply(res: Exclude<RoomResolution, { kind: 'found' }>, inv: Invocation, command: string): Reply {
  const p = inv.prefix;
  switch (res.kind) {
    case 'not-found':
      // The same words whether the room does not exist or is one the sender is not in.
      return reply(
        line('I know no room “', res.ref, '” among the rooms we share.'),
        line('Say ', code(`${p}rooms`), ' to list them, then use a number, name, alias or room id.'),
      );
    case 'ambiguous': {
      const shown = res.candidates.slice(0, MAX_CANDIDATES);
      const items = shown.map((c: NumberedRoom) => [code(String(c.number)), ' ', ...roomItem(c.room)]);
      const rest = res.candidates.length - shown.length;
      return reply(
        line('“', res.ref, `” matches ${res.candidates.length} of our rooms:`),
        bullets(items),
        ...(rest > 0 ? [line(`… and ${rest} more`)] : []),
        line('Say ', code(`${p}${command} NUMBER`), ' with one of these numbers.'),
      );
    }
    case 'need-ref':
      if (res.sharedCount === 0) {
        return reply(line('We share no rooms yet: invite me to one and I will keep track of it.'));
      }
      return reply(
        line(`We share ${res.sharedCount} rooms; say which one: `, code(`${p}${command} NUMBER`), '.'),
        line('Say ', code(`${p}rooms`), ' for the numbers, or give a name, an alias or a room id.'),
      );
  }
}
