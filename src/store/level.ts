import type { AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';

/**
 * The classic-level types, kept inside src/store/: nothing else may know the store is LevelDB.
 */
export type Db = ClassicLevel<string, string>;
export type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, string>;

export interface Namespaces {
  guard: Sublevel;
  guardByTime: Sublevel;
  userRooms: Sublevel;
  roomUsers: Sublevel;
  rooms: Sublevel;
  meta: Sublevel;
}

/** One batch operation on the root database, aimed at a namespace. */
export type LevelOp =
  | { type: 'put'; sublevel: Sublevel; key: string; value: string }
  | { type: 'del'; sublevel: Sublevel; key: string };

/** Creates the namespaces of the key layout (docs/architecture.md) on the root database. */
export function namespaces(db: Db): Namespaces {
  return {
    guard: db.sublevel('guard'),
    guardByTime: db.sublevel('guard-by-time'),
    userRooms: db.sublevel('user-rooms'),
    roomUsers: db.sublevel('room-users'),
    rooms: db.sublevel('rooms'),
    meta: db.sublevel('meta'),
  };
}
