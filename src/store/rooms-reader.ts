import type { RoomId, UserId } from '../state/ids.js';
import type { Member, RoomInfo } from '../state/room-info.js';

/**
 * The read side of the Rooms store: what commands and embedding bots ask.
 * Every call is one or two prefix range reads; none scans the whole database.
 */
export interface RoomsReader {
  /** Rooms the user is joined to (as far as the bot can see), sorted by room id. */
  roomsOf(userId: UserId): Promise<RoomId[]>;
  /** Joined members of the room with their display names, sorted by user id. */
  membersOf(roomId: RoomId): Promise<Member[]>;
  /** Number of joined members of the room. */
  memberCount(roomId: RoomId): Promise<number>;
  /** The room's metadata, or undefined when the bot does not track that room. */
  info(roomId: RoomId): Promise<RoomInfo | undefined>;
  /** Rooms both users are joined to, sorted by room id. */
  sharedRooms(a: UserId, b: UserId): Promise<RoomId[]>;
  /** Every tracked room, sorted by room id. */
  allRooms(): Promise<RoomId[]>;
}
