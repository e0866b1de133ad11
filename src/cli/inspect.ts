import { RoomkeeperError } from '../errors.js';
import type { Membership } from '../state/events.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { RoomInfo } from '../state/room-info.js';
import { roomDisplayName } from '../state/room-name.js';
import { displayNames } from '../state/member-names.js';
import { powerContextOf, powerOf, roleOf, staffOf, type Role } from '../state/power-levels.js';
import type { Store } from '../store/store.js';

/** One room of `roomkeeper inspect --json`. */
export interface InspectRoom {
  roomId: RoomId;
  /** The room's name as the bot's client would show it (name, alias, or heroes). */
  displayName: string;
  name: string | null;
  canonicalAlias: string | null;
  topic: string | null;
  encrypted: boolean;
  /** Joined members; the other memberships are listed after, each sorted by id. */
  members: UserId[];
  invited: UserId[];
  banned: UserId[];
  knocking: UserId[];
  version: string | null;
  predecessor: RoomId | null;
  successor: RoomId | null;
}

/** The JSON document of `roomkeeper inspect --json`: rooms, users and lists sorted by id. */
export interface InspectDocument {
  rooms: InspectRoom[];
  users: { userId: UserId; rooms: RoomId[] }[];
}

/** The whole record of one room, as `inspect` shows it: its memberships and its `inspect --json` entry. */
async function roomRecord(store: Store, roomId: RoomId, info: RoomInfo | undefined, bot: UserId | undefined) {
  const everyone = await store.rooms.membersOf(roomId, { membership: 'all' });
  const of = (kind: Membership) => everyone.filter((m) => m.membership === kind);
  const ids = (kind: Membership) => of(kind).map((m) => m.userId);
  const summary: InspectRoom = {
    roomId,
    displayName: roomDisplayName({
      name: info?.name,
      canonicalAlias: info?.canonicalAlias,
      members: everyone,
      // Without the bot's id (a store no pipeline wrote since schema 2), nobody is left out.
      botUserId: bot ?? ('@' as UserId),
    }).text,
    name: info?.name ?? null,
    canonicalAlias: info?.canonicalAlias ?? null,
    topic: info?.topic ?? null,
    encrypted: info?.encrypted ?? false,
    members: ids('join'),
    invited: ids('invite'),
    banned: ids('ban'),
    knocking: ids('knock'),
    version: info?.version ?? null,
    predecessor: info?.predecessor?.roomId ?? null,
    successor: info?.successor?.roomId ?? null,
  };
  return { everyone, of, summary };
}

/** Reads the whole store into the inspect document. */
export async function inspectAll(store: Store): Promise<InspectDocument> {
  const roomIds = await store.rooms.allRooms();
  const [infos, bot] = await Promise.all([store.rooms.infos(roomIds), store.botUserId()]);
  const rooms = await Promise.all(roomIds.map(async (roomId, i) => (await roomRecord(store, roomId, infos[i], bot)).summary));
  return { rooms, users: await store.rooms.allUsers() };
}

/** The JSON document of `roomkeeper inspect room ROOM_ID --json`: the room's `inspect --json` entry and more. */
export interface RoomDocument extends Omit<InspectRoom, 'members'> {
  /** ISO 8601, or null when the join was not seen. */
  joinedAt: string | null;
  updatedAt: string;
  /** Joined members, with the name a client shows (disambiguated) and their role. */
  members: { userId: UserId; displayName: string | null; shownAs: string; role: Role }[];
  left: number;
  roomType: string | null;
  creators: UserId[];
  admins: UserId[];
  moderators: UserId[];
  joinRule: string | null;
  historyVisibility: string | null;
  guestAccess: string | null;
  spaceParents: RoomId[];
  spaceChildren: RoomId[];
  /** Migrated from an older layout and not yet re-read from the homeserver. */
  needsRefresh: boolean;
}

function notTracked(roomId: RoomId): RoomkeeperError {
  return new RoomkeeperError('INPUT_NOT_FOUND', `${roomId} is not tracked: the bot is not in this room, or has not seen it`);
}

/** One room as a JSON document; INPUT_NOT_FOUND when the room is not tracked. */
export async function inspectRoom(store: Store, roomId: RoomId): Promise<RoomDocument> {
  const info = await store.rooms.info(roomId);
  if (info === undefined) throw notTracked(roomId);
  const { everyone, of, summary } = await roomRecord(store, roomId, info, await store.botUserId());
  const shown = displayNames(everyone);
  const power = powerContextOf(info);
  const staff = staffOf(power);
  return {
    ...summary,
    joinedAt: info.joinedAt === undefined ? null : new Date(info.joinedAt).toISOString(),
    updatedAt: new Date(info.updatedAt).toISOString(),
    members: of('join').map((m) => ({
      userId: m.userId,
      displayName: m.displayName ?? null,
      shownAs: shown.get(m.userId) ?? m.userId,
      role: roleOf(powerOf(power, m.userId)),
    })),
    left: of('leave').length,
    roomType: info.roomType ?? null,
    creators: staff.creators,
    admins: staff.admins,
    moderators: staff.moderators,
    joinRule: info.joinRule ?? null,
    historyVisibility: info.historyVisibility ?? null,
    guestAccess: info.guestAccess ?? null,
    spaceParents: info.spaceParents ?? [],
    spaceChildren: info.spaceChildren ?? [],
    needsRefresh: info.needsRefresh === true,
  };
}

/** Readable text about one room; INPUT_NOT_FOUND when the room is not tracked. */
export async function describeRoom(store: Store, roomId: RoomId): Promise<string> {
  const d = await inspectRoom(store, roomId);
  const list = (ids: readonly string[]) => (ids.length === 0 ? '(none)' : ids.join(', '));
  const lines = [
    `room        ${roomId}`,
    `shown as    ${d.displayName}`,
    `name        ${d.name ?? '(none)'}`,
    `alias       ${d.canonicalAlias ?? '(none)'}`,
    `topic       ${d.topic ?? '(none)'}`,
    `encrypted   ${d.encrypted ? 'yes' : 'no'}`,
    `version     ${d.version ?? 'unknown'}${d.roomType === null ? '' : ` (${d.roomType})`}`,
    `join rule   ${d.joinRule ?? 'unknown'}`,
    `history     ${d.historyVisibility ?? 'unknown'}`,
    `guests      ${d.guestAccess ?? 'unknown'}`,
    ...(d.creators.length > 0 ? [`creators    ${list(d.creators)}`] : []),
    `admins      ${list(d.admins)}`,
    `moderators  ${list(d.moderators)}`,
    ...(d.predecessor === null ? [] : [`replaces    ${d.predecessor}`]),
    ...(d.successor === null ? [] : [`replaced by ${d.successor}`]),
    ...(d.spaceParents.length === 0 ? [] : [`in spaces   ${list(d.spaceParents)}`]),
    ...(d.spaceChildren.length === 0 ? [] : [`children    ${list(d.spaceChildren)}`]),
    `joined at   ${d.joinedAt ?? 'unknown'}`,
    `updated at  ${d.updatedAt}`,
    ...(d.needsRefresh ? ['refresh     pending (upgraded data dir; re-read from the homeserver after the next sync)'] : []),
    `members     ${d.members.length}`,
    ...d.members.map((m) => `  ${m.userId}${m.displayName === null ? '' : ` (${m.shownAs === m.userId ? m.displayName : m.shownAs})`}${m.role === 'user' ? '' : ` ${m.role}`}`),
    `invited     ${list(d.invited)}`,
    `banned      ${list(d.banned)}`,
    `knocking    ${list(d.knocking)}`,
    `left        ${d.left}`,
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
