/**
 * What `roomkeeper inspect --json` must show for a bot that has followed the fake homeserver's
 * story to its current position, computed from the fake's room model alone.
 */
import type { InspectDocument } from '../../src/cli/inspect.js';
import type { Membership } from '../../src/state/events.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import type { NamedMember } from '../../src/state/member-names.js';
import { roomDisplayName } from '../../src/state/room-name.js';
import type { FakeMatrixModel, JsonObject } from './fake-homeserver.js';

function stateContent(model: FakeMatrixModel, roomId: string, type: string): JsonObject | undefined {
  const ev = model.room(roomId).state.get(`${type}\u0000`);
  const content = ev?.event['content'];
  return typeof content === 'object' && content !== null ? (content as JsonObject) : undefined;
}

function stringField(content: JsonObject | undefined, key: string): string | null {
  const v = content?.[key];
  return typeof v === 'string' ? v : null;
}

const byId = <T extends string>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/** The inspect document of the rooms `botUserId` is joined to now, as the model has them. */
export function expectedInspect(model: FakeMatrixModel, botUserId: string): InspectDocument {
  const rooms: InspectDocument['rooms'] = [];
  const usersRooms = new Map<string, string[]>();
  for (const roomId of model.joinedRooms(botUserId).sort(byId)) {
    const all: NamedMember[] = [];
    for (const ev of model.room(roomId).state.values()) {
      if (ev.type !== 'm.room.member' || ev.stateKey === undefined) continue;
      const content = ev.event['content'] as JsonObject | undefined;
      const membership = content?.['membership'] as Membership;
      const displayName = typeof content?.['displayname'] === 'string' && content['displayname'] !== '' ? content['displayname'] : undefined;
      all.push({ userId: ev.stateKey as UserId, membership, ...(displayName === undefined ? {} : { displayName }) });
    }
    all.sort((a, b) => byId(a.userId, b.userId));
    const of = (kind: Membership) => all.filter((m) => m.membership === kind).map((m) => m.userId);
    const members = of('join');
    const name = stringField(stateContent(model, roomId, 'm.room.name'), 'name');
    const canonicalAlias = stringField(stateContent(model, roomId, 'm.room.canonical_alias'), 'alias');
    const create = stateContent(model, roomId, 'm.room.create');
    const predecessor = (create?.['predecessor'] as JsonObject | undefined)?.['room_id'];
    const successor = stateContent(model, roomId, 'm.room.tombstone')?.['replacement_room'];
    for (const m of members) usersRooms.set(m, [...(usersRooms.get(m) ?? []), roomId]);
    rooms.push({
      roomId: roomId as RoomId,
      displayName: roomDisplayName({ name: name ?? undefined, canonicalAlias: canonicalAlias ?? undefined, members: all, botUserId: botUserId as UserId }).text,
      name,
      canonicalAlias,
      topic: stringField(stateContent(model, roomId, 'm.room.topic'), 'topic'),
      encrypted: stateContent(model, roomId, 'm.room.encryption') !== undefined,
      members,
      invited: of('invite'),
      banned: of('ban'),
      knocking: of('knock'),
      version: create === undefined ? null : (stringField(create, 'room_version') ?? '1'),
      predecessor: typeof predecessor === 'string' ? (predecessor as RoomId) : null,
      successor: typeof successor === 'string' ? (successor as RoomId) : null,
    });
  }
  const users = [...usersRooms]
    .sort(([a], [b]) => byId(a, b))
    .map(([userId, rs]) => ({ userId: userId as UserId, rooms: rs.sort(byId) as RoomId[] }));
  return { rooms, users };
}
