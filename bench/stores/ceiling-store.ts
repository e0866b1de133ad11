import type { ClassicLevel } from 'classic-level';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { encodeMember, type RoomInfo } from '../../src/state/room-info.js';
import { guardKey, roomUserKey, timeKey, userRoomKey } from '../../src/store/keys.js';
import { META_KEYS } from '../../src/store/meta-keys.js';
import type { CommitPlan, RoomEvents } from '../../src/store/sync-store.js';
import type { PipelineStore } from './pipeline-store.js';

/** A put or del on the root database, its key already carrying the sublevel prefix. */
export interface RawOp {
  type: 'put' | 'del';
  key: string;
  value?: string;
}

/** abstract-level's sublevel prefix: `!name!`. The store's namespaces are written this way on disk. */
const prefix = (name: string) => `!${name}!`;
const GUARD = prefix('guard');
const GUARD_BY_TIME = prefix('guard-by-time');
const USER_ROOMS = prefix('user-rooms');
const ROOM_USERS = prefix('room-users');
const ROOMS = prefix('rooms');
const META = prefix('meta');

/**
 * The write ceiling: the Pipeline's commit plans turned into exactly the keys and values the
 * LevelDB store writes for them, and written with nothing but a batch on the root database.
 * Only the batch calls are timed: what is left is the cost of LevelDB taking those keys.
 *
 * For a cold initial stream (every event new, every room seen once) "nothing seen, no room
 * tracked" is the exact answer to every read, so this store keeps no state: a Map/Set copy of
 * 1M events would make V8's major GCs part of the "ceiling".
 */
export class CeilingStore implements PipelineStore {
  readonly #db: ClassicLevel<string, string>;
  /**
   * 'chained' is how the store writes (db.batch() then put/del/write) and the faster form;
   * 'array' is db.batch([...ops]), the form of the probe figures.
   */
  readonly #form: 'chained' | 'array';
  #seq = 0;
  #guardCount = 0;
  keysWritten = 0;
  batchMs = 0;
  batches = 0;

  constructor(db: ClassicLevel<string, string>, form: 'chained' | 'array' = 'chained') {
    this.#db = db;
    this.#form = form;
  }

  readonly guard = { has: (rooms: readonly RoomEvents[]): Promise<boolean[][]> => Promise.resolve(rooms.map((r) => r.eventIds.map(() => false))) };

  readonly rooms = { infos: (roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> => Promise.resolve(roomIds.map(() => undefined)) };

  async commit(plan: CommitPlan): Promise<void> {
    const ops = this.#translate(plan);
    if (ops.length === 0) return;
    const t0 = performance.now();
    if (this.#form === 'array') {
      await this.#db.batch(ops.map((op) => (op.type === 'put' ? { type: 'put', key: op.key, value: op.value! } : { type: 'del', key: op.key })));
    } else {
      const batch = this.#db.batch();
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value!);
        else batch.del(op.key);
      }
      await batch.write();
    }
    this.batchMs += performance.now() - t0;
    this.keysWritten += ops.length;
    this.batches++;
  }

  /** fillCommit (src/store/commit.ts), key for key. */
  #translate(plan: CommitPlan): RawOp[] {
    const ops: RawOp[] = [];
    const now = String(plan.now);
    const listed: string[] = [];
    for (const { roomId, eventIds } of plan.marks) {
      for (const eventId of eventIds) {
        const key = guardKey(roomId, eventId);
        ops.push({ type: 'put', key: GUARD + key, value: now });
        listed.push(key);
      }
    }
    if (listed.length > 0) {
      this.#guardCount += listed.length;
      ops.push({ type: 'put', key: GUARD_BY_TIME + timeKey(plan.now, this.#seq++), value: listed.join('\n') });
      ops.push({ type: 'put', key: META + META_KEYS.guardCount, value: String(this.#guardCount) });
    }
    const added = new Map<string, Set<string>>();
    for (const op of plan.ops) {
      switch (op.op) {
        case 'put-member': {
          ops.push({ type: 'put', key: ROOM_USERS + roomUserKey(op.roomId, op.userId), value: encodeMember(op.member) });
          if (op.member.membership === 'join') ops.push({ type: 'put', key: USER_ROOMS + userRoomKey(op.userId, op.roomId), value: '' });
          else ops.push({ type: 'del', key: USER_ROOMS + userRoomKey(op.userId, op.roomId) });
          let set = added.get(op.roomId);
          if (set === undefined) added.set(op.roomId, (set = new Set()));
          set.add(op.userId);
          break;
        }
        case 'put-info':
          ops.push({ type: 'put', key: ROOMS + op.info.roomId, value: JSON.stringify(op.info) });
          break;
        case 'purge-room': {
          // Nothing is on disk for a room of a cold stream: only members added in this batch.
          const users = new Set<string>(added.get(op.roomId));
          for (const userId of users) {
            ops.push({ type: 'del', key: ROOM_USERS + roomUserKey(op.roomId, userId as UserId) });
            ops.push({ type: 'del', key: USER_ROOMS + userRoomKey(userId as UserId, op.roomId) });
          }
          ops.push({ type: 'del', key: ROOMS + op.roomId });
          added.delete(op.roomId);
          break;
        }
      }
    }
    for (const write of plan.meta ?? []) ops.push({ type: 'put', key: META + write.key, value: write.value() });
    if (plan.syncToken !== undefined) ops.push({ type: 'put', key: META + META_KEYS.syncToken, value: plan.syncToken });
    return ops;
  }
}
