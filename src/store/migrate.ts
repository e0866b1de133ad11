import type { RoomId } from '../state/ids.js';
import { encodeMember } from '../state/room-info.js';
import { writeBatch } from './commit.js';
import { decodeInfo } from './rooms.js';
import type { Db, Namespaces, Prefixes } from './level.js';
import { META_KEYS } from './meta-keys.js';

/**
 * Upgrades a data directory's key layout in place, in chunks that each commit with a cursor so
 * that a crash part way leaves a directory the next start finishes (a chunk is whole or absent,
 * and the cursor says what is done). The schema version moves only in the last batch: until
 * then, an older roomkeeper still refuses nothing and reads its own layout, and this one resumes.
 */

/** Entries rewritten per batch: small enough to hold in memory, large enough to be quick. */
export const MIGRATION_CHUNK = 10_000;

export interface MigrateOptions {
  chunk?: number;
  /** Called after each chunk is written (tests stop the migration here, as a crash would). */
  afterChunk?: () => void | Promise<void>;
}

/**
 * Schema 1 → 2. Schema 1 kept only joined members, the value a bare display name; schema 2
 * keeps every membership as an encoded MemberState. RoomInfo keeps its fields but is marked
 * `needsRefresh`: profiles of old members, power levels, version and lineage were never stored,
 * and the reconciler re-reads such rooms from the homeserver after the first sync.
 */
export async function migrate1to2(db: Db, ns: Namespaces, prefix: Prefixes, options: MigrateOptions = {}): Promise<void> {
  const chunk = options.chunk ?? MIGRATION_CHUNK;
  // Cursor: 'rooms' before the RoomInfo pass is done, then 'members:<last key done>'.
  let cursor = (await ns.meta.get(META_KEYS.migration)) ?? 'rooms';
  if (cursor === 'rooms') {
    const rooms = await ns.rooms.iterator().all();
    await writeBatch(db, (batch) => {
      for (const [roomId, raw] of rooms) {
        batch.put(prefix.rooms + roomId, JSON.stringify({ ...decodeInfo(roomId as RoomId, raw), needsRefresh: true }));
      }
      batch.put(prefix.meta + META_KEYS.migration, 'members:');
      return Promise.resolve(() => undefined);
    });
    cursor = 'members:';
    await options.afterChunk?.();
  }
  for (;;) {
    const after = cursor.slice('members:'.length);
    const entries = await ns.roomUsers.iterator({ ...(after === '' ? {} : { gt: after }), limit: chunk }).all();
    if (entries.length === 0) break;
    const last = entries.at(-1)![0];
    await writeBatch(db, (batch) => {
      for (const [key, displayName] of entries) {
        batch.put(prefix.roomUsers + key, encodeMember(displayName === '' ? { membership: 'join' } : { membership: 'join', displayName }));
      }
      batch.put(prefix.meta + META_KEYS.migration, `members:${last}`);
      return Promise.resolve(() => undefined);
    });
    cursor = `members:${last}`;
    await options.afterChunk?.();
    if (entries.length < chunk) break;
  }
  await writeBatch(db, (batch) => {
    batch.put(prefix.meta + META_KEYS.schemaVersion, '2');
    batch.del(prefix.meta + META_KEYS.migration);
    return Promise.resolve(() => undefined);
  });
}
