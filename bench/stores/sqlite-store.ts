import Database from 'better-sqlite3';
import type { RoomId } from '../../src/state/ids.js';
import type { RoomInfo } from '../../src/state/room-info.js';
import { META_KEYS } from '../../src/store/meta-keys.js';
import type { CommitPlan, RoomEvents } from '../../src/store/sync-store.js';
import type { PipelineStore } from './pipeline-store.js';

/**
 * The same semantics on better-sqlite3, set up as a user who knows SQLite would: WAL with
 * synchronous=NORMAL (no fsync per commit, like LevelDB's default), prepared statements, one
 * transaction per commit, INSERT OR IGNORE into indexed tables. Guard reads are one prepared
 * point query per key: synchronous and cheap in better-sqlite3, so batching them buys nothing.
 */
export class SqliteStore implements PipelineStore {
  readonly #db: Database.Database;
  readonly #hasGuard: Database.Statement<[string, string], unknown>;
  readonly #info: Database.Statement<[string], { info: string }>;
  readonly #commit: (plan: CommitPlan) => void;

  constructor(file: string) {
    const db = (this.#db = new Database(file));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS guard (room_id TEXT NOT NULL, event_id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (room_id, event_id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS guard_by_time ON guard (at);
      CREATE TABLE IF NOT EXISTS membership (room_id TEXT NOT NULL, user_id TEXT NOT NULL, display_name TEXT, PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS membership_by_user ON membership (user_id, room_id);
      CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY NOT NULL, info TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
    `);
    this.#hasGuard = db.prepare('SELECT 1 FROM guard WHERE room_id = ? AND event_id = ?');
    this.#info = db.prepare('SELECT info FROM rooms WHERE room_id = ?');
    const mark = db.prepare('INSERT OR IGNORE INTO guard (room_id, event_id, at) VALUES (?, ?, ?)');
    const putMember = db.prepare('INSERT OR REPLACE INTO membership (room_id, user_id, display_name) VALUES (?, ?, ?)');
    const delMember = db.prepare('DELETE FROM membership WHERE room_id = ? AND user_id = ?');
    const putInfo = db.prepare('INSERT OR REPLACE INTO rooms (room_id, info) VALUES (?, ?)');
    const purgeMembers = db.prepare('DELETE FROM membership WHERE room_id = ?');
    const delInfo = db.prepare('DELETE FROM rooms WHERE room_id = ?');
    const putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.#commit = db.transaction((plan: CommitPlan) => {
      for (const { roomId, eventIds } of plan.marks) for (const eventId of eventIds) mark.run(roomId, eventId, plan.now);
      for (const op of plan.ops) {
        switch (op.op) {
          case 'put-member':
            if (op.member.membership === 'join') putMember.run(op.roomId, op.userId, op.member.displayName ?? null);
            else delMember.run(op.roomId, op.userId);
            break;
          case 'put-info':
            putInfo.run(op.info.roomId, JSON.stringify(op.info));
            break;
          case 'purge-room':
            purgeMembers.run(op.roomId);
            delInfo.run(op.roomId);
            break;
        }
      }
      for (const write of plan.meta ?? []) putMeta.run(write.key, write.value());
      if (plan.syncToken !== undefined) putMeta.run(META_KEYS.syncToken, plan.syncToken);
    });
  }

  readonly guard = {
    has: (rooms: readonly RoomEvents[]): Promise<boolean[][]> =>
      Promise.resolve(rooms.map((r) => r.eventIds.map((e) => this.#hasGuard.get(r.roomId, e) !== undefined))),
  };

  readonly rooms = {
    infos: (roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> =>
      Promise.resolve(
        roomIds.map((r) => {
          const row = this.#info.get(r);
          return row === undefined ? undefined : (JSON.parse(row.info) as RoomInfo);
        }),
      ),
  };

  commit(plan: CommitPlan): Promise<void> {
    this.#commit(plan);
    return Promise.resolve();
  }

  /** Rooms of a user, for the cross-check against the LevelDB store. */
  roomsOf(userId: string): string[] {
    return (this.#db.prepare('SELECT room_id FROM membership WHERE user_id = ? ORDER BY room_id').all(userId) as { room_id: string }[]).map((r) => r.room_id);
  }

  membershipCount(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM membership').get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }
}
