import { serial } from '../serial.js';
import type { RoomId } from '../state/ids.js';

/**
 * Re-checks a room from the server after a gappy sync, at most once per `minIntervalMs` per room
 * and one room at a time, so a burst of gaps cannot flood the homeserver.
 */
export function gappyRechecker(reconcileNow: (roomId: RoomId) => Promise<unknown>, minIntervalMs: number, now: () => number) {
  const last = new Map<RoomId, number>();
  const oneAtATime = serial();
  return (roomId: RoomId): Promise<void> => {
    const t = now();
    for (const [r, at] of last) if (t - at >= minIntervalMs) last.delete(r);
    if (last.has(roomId)) return Promise.resolve();
    last.set(roomId, t);
    return oneAtATime(async () => {
      await reconcileNow(roomId);
    });
  };
}
