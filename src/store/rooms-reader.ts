import type { Membership } from '../state/events.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Member, RoomInfo } from '../state/room-info.js';

/**
 * The read side of the Rooms store: what commands and embedding bots ask.
 * Every call is one or two prefix range reads; none scans the whole database.
 */
export interface RoomsReader {
  /** Rooms the user is joined to (as far as the bot can see), sorted by room id. */
  roomsOf(userId: UserId): Promise<RoomId[]>;
  /**
   * Members of the room with membership and profile, sorted by user id: the joined ones, or
   * those of `membership`, or (`'all'`) everyone the room holds a membership for.
   */
  membersOf(roomId: RoomId, options?: { membership?: Membership | 'all' }): Promise<Member[]>;
  /** Number of joined members of the room. */
  memberCount(roomId: RoomId): Promise<number>;
  /** How many members of each membership the room has. */
  memberCounts(roomId: RoomId): Promise<Record<Membership, number>>;
  /**
   * The room's name as a client of `viewer` shows it: its name, alias, or heroes ("Alice and
   * Bob"), the viewer left out of them.
   */
  displayName(roomId: RoomId, viewer: UserId): Promise<string>;
  /** The room's metadata, or undefined when the bot does not track that room. */
  info(roomId: RoomId): Promise<RoomInfo | undefined>;
  /** Rooms both users are joined to, sorted by room id. */
  sharedRooms(a: UserId, b: UserId): Promise<RoomId[]>;
  /** Every tracked room, sorted by room id. */
  allRooms(): Promise<RoomId[]>;
}
