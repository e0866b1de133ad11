import type { RoomId } from '../../src/state/ids.js';
import type { RoomInfo } from '../../src/state/room-info.js';
import { guardKey } from '../../src/store/keys.js';
import { META_KEYS } from '../../src/store/meta-keys.js';
import type { CommitPlan, RoomEvents } from '../../src/store/sync-store.js';
import type { PipelineStore } from './pipeline-store.js';

/**
 * The same semantics as the LevelDB store in plain Maps and Sets: the "no disk at all" ceiling.
 * A purge sees members added earlier in the same commit, as Store's does; test/store/suite.ts
 * holds both to the same behaviour.
 */
export class MemoryStore implements PipelineStore {
  readonly marks = new Set<string>();
  readonly roomUsers = new Map<string, Map<string, string>>();
  readonly userRooms = new Map<string, Set<string>>();
  readonly infosById = new Map<string, RoomInfo>();
  /** The meta entries commits wrote, the sync token among them. */
  readonly meta = new Map<string, string>();

  readonly guard = {
    has: (rooms: readonly RoomEvents[]): Promise<boolean[][]> =>
      Promise.resolve(rooms.map((r) => r.eventIds.map((e) => this.marks.has(guardKey(r.roomId, e))))),
  };

  readonly rooms = {
    infos: (roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> => Promise.resolve(roomIds.map((r) => this.infosById.get(r))),
  };

  commit(plan: CommitPlan): Promise<void> {
    // Read first: a value that throws must leave the commit unwritten, as a batch would.
    let meta: [string, string][];
    try {
      meta = (plan.meta ?? []).map((w) => [w.key, w.value()]);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    for (const { roomId, eventIds } of plan.marks) for (const eventId of eventIds) this.marks.add(guardKey(roomId, eventId));
    for (const op of plan.ops) {
      switch (op.op) {
        case 'put-member': {
          if (op.member.membership !== 'join') {
            this.#delMember(op.roomId, op.userId);
            break;
          }
          let users = this.roomUsers.get(op.roomId);
          if (users === undefined) this.roomUsers.set(op.roomId, (users = new Map()));
          users.set(op.userId, op.member.displayName ?? '');
          let rooms = this.userRooms.get(op.userId);
          if (rooms === undefined) this.userRooms.set(op.userId, (rooms = new Set()));
          rooms.add(op.roomId);
          break;
        }
        case 'put-info':
          this.infosById.set(op.info.roomId, op.info);
          break;
        case 'purge-room':
          for (const userId of [...(this.roomUsers.get(op.roomId)?.keys() ?? [])]) this.#delMember(op.roomId, userId);
          this.roomUsers.delete(op.roomId);
          this.infosById.delete(op.roomId);
          break;
      }
    }
    for (const [key, value] of meta) this.meta.set(key, value);
    if (plan.syncToken !== undefined) this.meta.set(META_KEYS.syncToken, plan.syncToken);
    return Promise.resolve();
  }

  /** Rooms of a user, sorted like the LevelDB store returns them. */
  roomsOf(userId: string): string[] {
    return [...(this.userRooms.get(userId) ?? [])].sort(byUtf8);
  }

  /** Number of (room, user) memberships. */
  membershipCount(): number {
    let n = 0;
    for (const users of this.roomUsers.values()) n += users.size;
    return n;
  }

  #delMember(roomId: string, userId: string): void {
    const users = this.roomUsers.get(roomId);
    users?.delete(userId);
    if (users?.size === 0) this.roomUsers.delete(roomId);
    const rooms = this.userRooms.get(userId);
    rooms?.delete(roomId);
    if (rooms?.size === 0) this.userRooms.delete(userId);
  }
}

/** LevelDB's key order (bytes of UTF-8); ids are ASCII in the workloads, so code units will do. */
function byUtf8(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
