import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { latency, type Latency } from '../measure.js';
import { paths, type Plan } from '../plan.js';
import { queryTargets } from '../workload.js';

export interface QueriesResult {
  /** Store.open until the sync token is read: what the daemon waits for before its first /sync. */
  openToReadyMs: number;
  guardCount: number;
  queries: { name: string; latency: Latency }[];
  roomsOfHubs: number[];
}

/**
 * In a fresh process over the big workload's data dir: open-to-ready, then query latencies
 * through the real `Rooms`. Each query repeats on the same arguments, so the blocks it reads
 * are in LevelDB's cache after the warm-up: this is the latency of a warm store.
 */
export async function queries(plan: Plan, base: string): Promise<QueriesResult> {
  const t0 = performance.now();
  const store = await Store.open(paths(base).bigData, { create: true });
  await store.syncToken();
  const openToReadyMs = performance.now() - t0;
  const q = queryTargets(plan.big);
  const { rooms } = store;
  const user = (u: string) => u as UserId;
  const room = (i: number) => q.rooms[i]!.roomId as RoomId;
  const n = plan.queryRuns;
  const out: QueriesResult['queries'] = [];
  const measure = async (name: string, fn: () => Promise<unknown[]>, runs = n) => out.push({ name, latency: await latency(fn, runs) });

  await measure('roomsOf: user in 1 room', () => rooms.roomsOf(user(q.userIn1Room)));
  await measure(`roomsOf: user in ${q.roomsOfHundredth} rooms`, () => rooms.roomsOf(user(q.userInHundredthOfRooms)));
  await measure(`roomsOf: user in ${q.roomsOfTenth} rooms`, () => rooms.roomsOf(user(q.userInTenthOfRooms)));
  await measure(`membersOf: room of ${q.rooms[2]!.members} members`, () => rooms.membersOf(room(2)));
  await measure(`membersOf: room of ${q.rooms[1]!.members} members`, () => rooms.membersOf(room(1)));
  await measure(`membersOf: room of ${q.rooms[0]!.members} members`, () => rooms.membersOf(room(0)), Math.max(50, n / 5));
  await measure(`sharedRooms: ${q.roomsOfTenth} × ${q.roomsOfHundredth} rooms`, () =>
    rooms.sharedRooms(user(q.userInTenthOfRooms), user(q.userInHundredthOfRooms)),
  );
  const roomsOfHubs = [(await rooms.roomsOf(user(q.userInTenthOfRooms))).length, (await rooms.roomsOf(user(q.userInHundredthOfRooms))).length];
  const guardCount = store.guard.count();
  await store.close();
  return { openToReadyMs, guardCount, queries: out, roomsOfHubs };
}
