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
  /** The change log: `seq` → change (JSON). */
  changes: Sublevel;
  /** `roomId SEP seq` → empty: a room's changes, as one prefix range. */
  changesByRoom: Sublevel;
  /** `userId SEP seq` → empty: a user's member and profile changes, as one prefix range. */
  changesByUser: Sublevel;
}

/** The prefix each namespace adds to its keys on the root database (abstract-level's `!name!`). */
export type Prefixes = { readonly [K in keyof Namespaces]: string };

/**
 * The writes of one atomic batch, on the root database. Keys carry their namespace's prefix:
 * writing through the root with the prefix each sublevel would add (read from the sublevel
 * itself) lays the bytes on disk exactly as the sublevels do, without abstract-level's
 * per-operation sublevel resolution, which cost more than LevelDB's own write.
 */
export interface RootBatch {
  put(key: string, value: string): unknown;
  del(key: string): unknown;
}

/** Creates the namespaces of the key layout (docs/architecture.md) on the root database. */
export function namespaces(db: Db): Namespaces {
  return {
    guard: db.sublevel('guard'),
    guardByTime: db.sublevel('guard-by-time'),
    userRooms: db.sublevel('user-rooms'),
    roomUsers: db.sublevel('room-users'),
    rooms: db.sublevel('rooms'),
    meta: db.sublevel('meta'),
    changes: db.sublevel('changes'),
    changesByRoom: db.sublevel('changes-by-room'),
    changesByUser: db.sublevel('changes-by-user'),
  };
}

/** The prefixes of the namespaces, read from the sublevels so they match what those write. */
export function prefixesOf(ns: Namespaces): Prefixes {
  return {
    guard: ns.guard.prefix,
    guardByTime: ns.guardByTime.prefix,
    userRooms: ns.userRooms.prefix,
    roomUsers: ns.roomUsers.prefix,
    rooms: ns.rooms.prefix,
    meta: ns.meta.prefix,
    changes: ns.changes.prefix,
    changesByRoom: ns.changesByRoom.prefix,
    changesByUser: ns.changesByUser.prefix,
  };
}
