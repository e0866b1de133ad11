import { z } from 'zod';
import { roomIdSchema } from './ids.js';

/** What roomkeeper knows about a room besides its members. */
export const roomInfoSchema = z.strictObject({
  roomId: roomIdSchema,
  name: z.string().optional(),
  canonicalAlias: z.string().optional(),
  topic: z.string().optional(),
  encrypted: z.boolean(),
  /**
   * A membership event or a block of this room could not be read: who is in it is not known,
   * so the room is never taken for a private DM. Cleared when the room is rebuilt from its state.
   */
  membershipUncertain: z.literal(true).optional(),
  /** origin_server_ts of the bot's join event that created this record, when known. */
  joinedAt: z.number().optional(),
  /** Local time (ms) of the last change to this record or its members. */
  updatedAt: z.number(),
});

export type RoomInfo = z.infer<typeof roomInfoSchema>;

/** A member of a room as stored: the user and their display name in that room, if any. */
export interface Member {
  userId: import('./ids.js').UserId;
  displayName?: string;
}
