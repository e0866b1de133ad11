import { RoomkeeperError } from '../errors.js';
import { parseRoomId, parseUserId } from '../state/ids.js';
import { describeHistory } from './inspect-history.js';
import { describeRoom, describeUser, inspectAll, inspectRoom, inspectUser } from './inspect.js';
import { withStore, type Io } from './io.js';

/** The flags of `inspect`; `room`, `user` and `limit` are for `inspect history`. */
export interface InspectFlags {
  dataDir: string;
  json?: boolean;
  room?: string;
  user?: string;
  limit?: string;
}

/** `roomkeeper inspect [room ID | user ID | history]`: prints the record or its change log, as text or JSON. */
export async function inspectCommand(subject: string | undefined, id: string | undefined, flags: InspectFlags, io: Io): Promise<number> {
  const json = flags.json === true;
  const print = (value: unknown) => io.stdout.write(JSON.stringify(value) + '\n');
  if (subject === 'history') {
    if (id !== undefined) throw new RoomkeeperError('USAGE', `inspect history: give the room or user with --room or --user, not "${id}"`);
    const room = flags.room === undefined ? undefined : parseRoomId(flags.room);
    if (flags.room !== undefined && room === undefined) throw new RoomkeeperError('USAGE', `inspect history --room: "${flags.room}" is not a room id like '!abc:example.org'`);
    const user = flags.user === undefined ? undefined : parseUserId(flags.user);
    if (flags.user !== undefined && user === undefined) throw new RoomkeeperError('USAGE', `inspect history --user: "${flags.user}" is not a user id like @name:example.org`);
    const limit = flags.limit === undefined ? 50 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RoomkeeperError('USAGE', `inspect history --limit: "${flags.limit}" is not a number from 1 to 1000`);
    const changes = await withStore(flags.dataDir, 'read', (store) => store.changes.history({ room, user, limit }));
    if (json) print({ changes });
    else io.stdout.write(describeHistory(changes));
    return 0;
  }
  if (subject === 'room') {
    const roomId = parseRoomId(id ?? '');
    if (roomId === undefined) throw new RoomkeeperError('USAGE', `inspect room: "${id ?? ''}" is not a room id like '!abc:example.org'`);
    if (json) print(await withStore(flags.dataDir, 'read', (store) => inspectRoom(store, roomId)));
    else io.stdout.write(await withStore(flags.dataDir, 'read', (store) => describeRoom(store, roomId)));
    return 0;
  }
  if (subject === 'user') {
    const userId = parseUserId(id ?? '');
    if (userId === undefined) throw new RoomkeeperError('USAGE', `inspect user: "${id ?? ''}" is not a user id like @name:example.org`);
    if (json) print(await withStore(flags.dataDir, 'read', (store) => inspectUser(store, userId)));
    else io.stdout.write(await withStore(flags.dataDir, 'read', (store) => describeUser(store, userId)));
    return 0;
  }
  if (subject !== undefined) throw new RoomkeeperError('USAGE', `inspect: unknown subject "${subject}" (room, user or history)`);
  const doc = await withStore(flags.dataDir, 'read', inspectAll);
  if (json) {
    print(doc);
  } else {
    io.stdout.write(`${doc.rooms.length} rooms, ${doc.users.length} users\n`);
    for (const r of doc.rooms) io.stdout.write(`${r.roomId}  ${r.members.length} members  ${r.name ?? ''}\n`);
  }
  return 0;
}
