import type { Change, ChangeDraft } from '../state/changes.js';
import type { EventId, RoomId } from '../state/ids.js';
import type { StoreOp } from '../state/reduce.js';
import type { UserId } from '../state/ids.js';
import type { MemberState, RoomInfo } from '../state/room-info.js';
import type { MetaKey } from './meta-keys.js';

/** Events of one room, as the guard is asked about them and marks them. */
export interface RoomEvents {
  roomId: RoomId;
  eventIds: readonly EventId[];
}

/**
 * One meta entry of a commit. Its value is read when the batch is filled, under the write lock
 * that `meta.put` also takes: a list changed meanwhile by another write lands as it is then,
 * never an older copy after a newer one.
 */
export interface MetaWrite {
  key: MetaKey;
  value: () => string;
}

/** Everything one commit writes, atomically. */
export interface CommitPlan {
  /** Events this commit processes for the first time, by room. */
  marks: readonly RoomEvents[];
  ops: readonly StoreOp[];
  /** The /sync `next_batch` once the whole response is in this or an earlier commit. */
  syncToken?: string;
  /** Other meta entries that must land with this commit and not before it (pending invites). */
  meta?: readonly MetaWrite[];
  /** What the ops change, appended to the change log in the same batch (a store without one drops them). */
  changes?: readonly ChangeDraft[];
  /** The appservice transaction this commit completes, remembered like a guard mark (see txnKey). */
  transaction?: TransactionRef;
  now: number;
}

/** An appservice transaction: the registration it was sent to and its `txnId`. */
export interface TransactionRef {
  registrationId: string;
  txnId: string;
}

/** What a commit logged: its changes with their cursors. */
export interface CommitResult {
  changes: Change[];
}

/** What the guard answers: whether earlier commits marked events. */
export interface GuardReader {
  /** For each room, for each of its events in order, whether an earlier commit marked it. */
  has(rooms: readonly RoomEvents[]): Promise<boolean[][]>;
}

/** Where the RoomInfo the reducer starts from comes from. */
export interface RoomInfoReader {
  /** The stored RoomInfo of each room, in order (undefined for a room the store lacks). */
  infos(roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]>;
  /**
   * The stored membership of some users of a room (or all), for comparing seen member events
   * and redactions with what is current. A store without it has seen member events applied as
   * if it held nothing for them: right, at the cost of rewriting them.
   */
  memberStates?(roomId: RoomId, userIds: readonly UserId[] | 'all'): Promise<Map<UserId, MemberState>>;
  /** `memberStates` of many rooms at once, in order: the named users of all of them in one read. */
  memberStatesOf?(requests: readonly MemberRead[]): Promise<Map<UserId, MemberState>[]>;
}

/** Which stored members of a room to read: some users, or all. */
export interface MemberRead {
  roomId: RoomId;
  users: readonly UserId[] | 'all';
}

/**
 * What the pipeline needs of a store: the guard's answers, the stored RoomInfo, and an atomic
 * commit. The LevelDB `Store` is one; the benchmark's comparison back-ends are others, and
 * test/store/suite.ts holds each of them to the same behaviour.
 */
export interface SyncStore {
  guard: GuardReader;
  rooms: RoomInfoReader;
  /**
   * Writes the plan as one atomic batch, after every commit asked for before it: all of it or
   * nothing. A store with a change log says what it logged.
   */
  commit(plan: CommitPlan): Promise<CommitResult | void>;
}

/** Number of guard marks in a plan. */
export function markCount(marks: readonly RoomEvents[]): number {
  let n = 0;
  for (const room of marks) n += room.eventIds.length;
  return n;
}

/** Number of guard entries a plan writes: its marks and its transaction, if any. */
export function guardEntryCount(plan: Pick<CommitPlan, 'marks' | 'transaction'>): number {
  return markCount(plan.marks) + (plan.transaction === undefined ? 0 : 1);
}
