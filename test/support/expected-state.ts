/**
 * What `roomkeeper inspect --json` must show for a bot that has followed the fake homeserver's
 * story to its current position, computed from the fake's room model alone.
 */
import type { InspectDocument } from '../../src/cli/inspect.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
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
    const members: string[] = [];
    for (const ev of model.room(roomId).state.values()) {
      if (ev.type !== 'm.room.member' || ev.stateKey === undefined) continue;
      if ((ev.event['content'] as JsonObject | undefined)?.['membership'] === 'join') members.push(ev.stateKey);
    }
    members.sort(byId);
    for (const m of members) usersRooms.set(m, [...(usersRooms.get(m) ?? []), roomId]);
    rooms.push({
      roomId: roomId as RoomId,
      name: stringField(stateContent(model, roomId, 'm.room.name'), 'name'),
      canonicalAlias: stringField(stateContent(model, roomId, 'm.room.canonical_alias'), 'alias'),
      topic: stringField(stateContent(model, roomId, 'm.room.topic'), 'topic'),
      encrypted: stateContent(model, roomId, 'm.room.encryption') !== undefined,
      members: members as UserId[],
    });
  }
  const users = [...usersRooms]
    .sort(([a], [b]) => byId(a, b))
    .map(([userId, rs]) => ({ userId: userId as UserId, rooms: rs.sort(byId) as RoomId[] }));
  return { rooms, users };
}
