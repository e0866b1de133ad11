import { RoomkeeperError } from '../errors.js';
import { parseRoomId, parseUserId } from '../state/ids.js';
import { describeRoom, describeUser, inspectAll, inspectRoom, inspectUser } from './inspect.js';
import { withStore, type Io } from './io.js';

/** `roomkeeper inspect [room ID | user ID]`: prints the record, as text or as one JSON object. */
export async function inspectCommand(subject: string | undefined, id: string | undefined, flags: { dataDir: string; json?: boolean }, io: Io): Promise<number> {
  const json = flags.json === true;
  const print = (value: unknown) => io.stdout.write(JSON.stringify(value) + '\n');
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
  if (subject !== undefined) throw new RoomkeeperError('USAGE', `inspect: unknown subject "${subject}" (room or user)`);
  const doc = await withStore(flags.dataDir, 'read', inspectAll);
  if (json) {
    print(doc);
  } else {
    io.stdout.write(`${doc.rooms.length} rooms, ${doc.users.length} users\n`);
    for (const r of doc.rooms) io.stdout.write(`${r.roomId}  ${r.members.length} members  ${r.name ?? ''}\n`);
  }
  return 0;
}
