import { RoomkeeperError } from '../errors.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';

/** The JSON document of `roomkeeper inspect --json`: rooms, users and lists sorted by id. */
export interface InspectDocument {
  rooms: {
    roomId: RoomId;
    name: string | null;
    canonicalAlias: string | null;
    topic: string | null;
    encrypted: boolean;
    members: UserId[];
  }[];
  users: { userId: UserId; rooms: RoomId[] }[];
}

/** Reads the whole store into the inspect document. */
export async function inspectAll(store: Store): Promise<InspectDocument> {
  const roomIds = await store.rooms.allRooms();
  const infos = await store.rooms.infos(roomIds);
  const rooms = await Promise.all(
    roomIds.map(async (roomId, i) => {
      const info = infos[i];
      const members = await store.rooms.membersOf(roomId);
      return {
        roomId,
        name: info?.name ?? null,
        canonicalAlias: info?.canonicalAlias ?? null,
        topic: info?.topic ?? null,
        encrypted: info?.encrypted ?? false,
        members: members.map((m) => m.userId),
      };
    }),
  );
  return { rooms, users: await store.rooms.allUsers() };
}

/** The JSON document of `roomkeeper inspect room ROOM_ID --json`. */
export interface RoomDocument {
  roomId: RoomId;
  name: string | null;
  canonicalAlias: string | null;
  topic: string | null;
  encrypted: boolean;
  /** ISO 8601, or null when the join was not seen. */
  joinedAt: string | null;
  updatedAt: string;
  members: { userId: UserId; displayName: string | null }[];
}

function notTracked(roomId: RoomId): RoomkeeperError {
  return new RoomkeeperError('INPUT_NOT_FOUND', `${roomId} is not tracked: the bot is not in this room, or has not seen it`);
}

/** One room as a JSON document; INPUT_NOT_FOUND when the room is not tracked. */
export async function inspectRoom(store: Store, roomId: RoomId): Promise<RoomDocument> {
  const info = await store.rooms.info(roomId);
  if (info === undefined) throw notTracked(roomId);
  const members = await store.rooms.membersOf(roomId);
  return {
    roomId,
    name: info.name ?? null,
    canonicalAlias: info.canonicalAlias ?? null,
    topic: info.topic ?? null,
    encrypted: info.encrypted,
    joinedAt: info.joinedAt === undefined ? null : new Date(info.joinedAt).toISOString(),
    updatedAt: new Date(info.updatedAt).toISOString(),
    members: members.map((m) => ({ userId: m.userId, displayName: m.displayName ?? null })),
  };
}

/** Readable text about one room; INPUT_NOT_FOUND when the room is not tracked. */
export async function describeRoom(store: Store, roomId: RoomId): Promise<string> {
  const info = await store.rooms.info(roomId);
  if (info === undefined) throw notTracked(roomId);
  const members = await store.rooms.membersOf(roomId);
  const lines = [
    `room        ${roomId}`,
    `name        ${info.name ?? '(none)'}`,
    `alias       ${info.canonicalAlias ?? '(none)'}`,
    `topic       ${info.topic ?? '(none)'}`,
    `encrypted   ${info.encrypted ? 'yes' : 'no'}`,
    `joined at   ${info.joinedAt === undefined ? 'unknown' : new Date(info.joinedAt).toISOString()}`,
    `updated at  ${new Date(info.updatedAt).toISOString()}`,
    `members     ${members.length}`,
    ...members.map((m) => `  ${m.userId}${m.displayName === undefined ? '' : ` (${m.displayName})`}`),
  ];
  return lines.join('\n') + '\n';
}

/** The JSON document of `roomkeeper inspect user USER_ID --json`: the user's tracked rooms, sorted by id. */
export async function inspectUser(store: Store, userId: UserId): Promise<{ userId: UserId; rooms: { roomId: RoomId; name: string | null }[] }> {
  const rooms = await store.rooms.roomsOf(userId);
  const infos = await store.rooms.infos(rooms);
  return { userId, rooms: rooms.map((roomId, i) => ({ roomId, name: infos[i]?.name ?? null })) };
}

/** Readable text about one user. */
export async function describeUser(store: Store, userId: UserId): Promise<string> {
  const rooms = await store.rooms.roomsOf(userId);
  if (rooms.length === 0) return `${userId}: in no tracked room\n`;
  const infos = await store.rooms.infos(rooms);
  const lines = [`user   ${userId}`, `rooms  ${rooms.length}`];
  rooms.forEach((roomId, i) => {
    const name = infos[i]?.name;
    lines.push(`  ${roomId}${name === undefined ? '' : ` (${name})`}`);
  });
  return lines.join('\n') + '\n';
}
