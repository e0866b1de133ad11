import type { RoomId } from '../../src/state/ids.js';
import type { RoomInfo } from '../../src/state/room-info.js';
import type { CommitPlan } from '../../src/store/store.js';
import type { PipelineStore } from './pipeline-store.js';

/**
 * The same semantics as the LevelDB store in plain Maps and Sets: the "no disk at all" ceiling.
 * A purge sees members added earlier in the same commit, as Store's does.
 */
export class MemoryStore implements PipelineStore {
  readonly marks = new Set<string>();
  readonly roomUsers = new Map<string, Map<string, string>>();
  readonly userRooms = new Map<string, Set<string>>();
  readonly infosById = new Map<string, RoomInfo>();

  readonly guard = {
    has: (keys: readonly string[]): Promise<boolean[]> => Promise.resolve(keys.map((k) => this.marks.has(k))),
  };

  readonly rooms = {
    infos: (roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> => Promise.resolve(roomIds.map((r) => this.infosById.get(r))),
  };

  commit(plan: CommitPlan): Promise<void> {
    for (const key of plan.marks) this.marks.add(key);
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
