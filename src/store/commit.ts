import type { Change, ChangeDraft } from '../state/changes.js';
import type { RoomId, UserId } from '../state/ids.js';
import { encodeMember, isJoinedValue } from '../state/room-info.js';
import { guardKey, prefixRange, roomUserKey, suffixOf, timeKey, txnKey, userRoomKey } from './keys.js';
import type { Db, Namespaces, Prefixes, RootBatch } from './level.js';
import { META_KEYS } from './meta-keys.js';
import type { CommitPlan } from './sync-store.js';

/** What filling a commit's batch needs to know of the store. */
export interface CommitContext {
  prefix: Prefixes;
  ns: Namespaces;
  /** The guard count before this commit. */
  guardCount: number;
  /**
   * The sequence number of this commit's time-index entry, unique for the life of the store
   * (the next one is written in the same batch); called once, only when it has marks.
   */
  nextSeq: () => number;
  /** Puts the plan's changes into the batch (the change log's `append`). */
  appendChanges?: (batch: RootBatch, drafts: readonly ChangeDraft[], now: number) => { changes: Change[]; keys: number };
}

/**
 * Fills a chained batch on the root database and writes it when `fill` returns what to do
 * once it is written; closes it unwritten when `fill` returns undefined or throws.
 */
export async function writeBatch(db: Db, fill: (batch: RootBatch) => Promise<(() => void) | undefined>): Promise<void> {
  const batch = db.batch();
  let written = false;
  try {
    const after = await fill(batch);
    if (after === undefined) return;
    written = true;
    await batch.write();
    after();
  } finally {
    if (!written) await batch.close();
  }
}

/** Puts a commit plan's writes into `batch`; returns how many, and the changes it logged. */
export async function fillCommit(plan: CommitPlan, batch: RootBatch, ctx: CommitContext): Promise<{ keys: number; changes: Change[] }> {
  const p = ctx.prefix;
  let n = 0;
  const put = (key: string, value: string) => {
    batch.put(key, value);
    n++;
  };
  const del = (key: string) => {
    batch.del(key);
    n++;
  };
  const now = String(plan.now);
  const listed: string[] = [];
  for (const { roomId, eventIds } of plan.marks) {
    for (const eventId of eventIds) {
      const key = guardKey(roomId, eventId);
      put(p.guard + key, now);
      listed.push(key);
    }
  }
  if (plan.transaction !== undefined) {
    // Listed in the time index like a mark: pruned with the guard, by age.
    const key = txnKey(plan.transaction.registrationId, plan.transaction.txnId);
    put(p.guard + key, now);
    listed.push(key);
  }
  if (listed.length > 0) {
    const seq = ctx.nextSeq();
    put(p.guardByTime + timeKey(plan.now, seq), listed.join('\n'));
    put(p.meta + META_KEYS.commitSeq, String(seq + 1));
    put(p.meta + META_KEYS.guardCount, String(ctx.guardCount + listed.length));
  }
  // Members put earlier in this same batch, which a purge must also delete: its range read
  // sees only what is already on disk. True for a join, whose room is in the user's list.
  const added = new Map<RoomId, Map<UserId, boolean>>();
  for (const op of plan.ops) {
    switch (op.op) {
      case 'put-member': {
        // Every membership is kept per room; only a join lists the room among the user's rooms.
        const joined = op.member.membership === 'join';
        put(p.roomUsers + roomUserKey(op.roomId, op.userId), encodeMember(op.member));
        if (joined) put(p.userRooms + userRoomKey(op.userId, op.roomId), '');
        else del(p.userRooms + userRoomKey(op.userId, op.roomId));
        let members = added.get(op.roomId);
        if (members === undefined) added.set(op.roomId, (members = new Map<UserId, boolean>()));
        members.set(op.userId, joined);
        break;
      }
      case 'put-info':
        put(p.rooms + op.info.roomId, JSON.stringify(op.info));
        break;
      case 'purge-room': {
        // Every membership goes; only joined members have a `user-rooms` entry to delete.
        const members = new Map<string, boolean>(added.get(op.roomId));
        for (const [key, value] of await ctx.ns.roomUsers.iterator(prefixRange(op.roomId)).all()) {
          const userId = suffixOf(key);
          // A value that is not a membership record at all may have been a join: delete to be sure.
          members.set(userId, (members.get(userId) ?? false) || isJoinedValue(value) || !value.startsWith('["'));
        }
        for (const [userId, joined] of members) {
          del(p.roomUsers + roomUserKey(op.roomId, userId as UserId));
          if (joined) del(p.userRooms + userRoomKey(userId as UserId, op.roomId));
        }
        del(p.rooms + op.roomId);
        added.delete(op.roomId);
        break;
      }
    }
  }
  const logged = ctx.appendChanges?.(batch, plan.changes ?? [], plan.now) ?? { changes: [], keys: 0 };
  for (const write of plan.meta ?? []) put(p.meta + write.key, write.value());
  if (plan.syncToken !== undefined) put(p.meta + META_KEYS.syncToken, plan.syncToken);
  return { keys: n + logged.keys, changes: logged.changes };
}
