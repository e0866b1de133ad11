import type { RoomId } from '../../src/state/ids.js';
import type { RoomInfo } from '../../src/state/room-info.js';
import type { CommitPlan, Store } from '../../src/store/store.js';

/**
 * The part of `Store` the Pipeline uses. The comparison back-ends implement it so that the real
 * Pipeline (decode → guard → reduce → commit) runs unchanged over each of them: the only thing
 * that differs between the rows of the table is where the guard marks and memberships go.
 */
export interface PipelineStore {
  guard: { has(keys: readonly string[]): Promise<boolean[]> };
  rooms: { infos(roomIds: readonly RoomId[]): Promise<(RoomInfo | undefined)[]> };
  commit(plan: CommitPlan): Promise<void>;
}

/** Lets the Pipeline, typed against the LevelDB `Store`, run over a comparison back-end. */
export function asStore(store: PipelineStore): Store {
  return store as unknown as Store;
}
