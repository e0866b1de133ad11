import { z } from 'zod';

/**
 * The shape of a client-server /sync response (v3), read leniently and in layers: rooms stay raw
 * in the outer shape and events stay raw in a room, each decoded on its own, so that one bad
 * room or event does not cost the rest of the response.
 */
const rawEvents = z.array(z.unknown()).optional();

export const syncBodySchema = z
  .object({
    next_batch: z.string().optional(),
    rooms: z
      .object({
        join: z.record(z.string(), z.unknown()).optional(),
        leave: z.record(z.string(), z.unknown()).optional(),
        invite: z.record(z.string(), z.unknown()).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** A room of `rooms.join` or `rooms.leave`. */
export const syncRoomSchema = z
  .object({
    state: z.object({ events: rawEvents }).loose().optional(),
    timeline: z.object({ events: rawEvents, limited: z.boolean().optional() }).loose().optional(),
  })
  .loose();

export type SyncBody = z.infer<typeof syncBodySchema>;
