/** The record an embedding bot keeps, next to what the fake homeserver says it should be. */
import { expectedInspect } from '../support/expected-state.js';
import type { FakeHomeserver } from '../support/fake-homeserver.js';

/** Rooms with their joined members and users with their rooms, as plain strings. */
export interface Shape {
  rooms: { roomId: string; members: string[] }[];
  users: { userId: string; rooms: string[] }[];
}

/** The queries recordOf needs: met by the `roomkeeper` of src/ and of dist/ alike. */
export interface RecordSource {
  rooms: {
    allRooms(): Promise<string[]>;
    membersOf(roomId: string): Promise<{ userId: string }[]>;
    roomsOf(userId: string): Promise<string[]>;
  };
}

/** What the record says: every tracked room with its joined members, every user with their rooms. */
export async function recordOf(keeper: RecordSource): Promise<Shape> {
  const rooms: Shape['rooms'] = [];
  const users = new Map<string, string[]>();
  for (const roomId of await keeper.rooms.allRooms()) {
    const members: string[] = (await keeper.rooms.membersOf(roomId)).map((m) => m.userId);
    rooms.push({ roomId, members });
    for (const m of members) users.set(m, await keeper.rooms.roomsOf(m));
  }
  return { rooms, users: [...users].sort(([a], [b]) => (a < b ? -1 : 1)).map(([userId, rs]) => ({ userId, rooms: rs })) };
}

/** The same, as the fake homeserver's room model has it. */
export function expectedShape(hs: FakeHomeserver): Shape {
  const doc = expectedInspect(hs, hs.botUserId);
  return {
    rooms: doc.rooms.map((r) => ({ roomId: r.roomId, members: r.members })),
    users: doc.users.map((u) => ({ userId: u.userId, rooms: u.rooms })),
  };
}

/** Invites `localpart` on `inviter`'s behalf and joins them. */
export function enter(hs: FakeHomeserver, roomId: string, inviter: string, localpart: string): void {
  hs.invite(roomId, inviter, hs.userId(localpart));
  hs.join(roomId, hs.userId(localpart));
}

export async function caughtUp(hs: FakeHomeserver): Promise<void> {
  await hs.waitForSyncPast(hs.position, 10_000);
}
