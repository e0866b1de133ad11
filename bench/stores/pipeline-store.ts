import type { SyncStore } from '../../src/store/sync-store.js';

/**
 * The store interface the Pipeline runs over. The comparison back-ends implement it so that the
 * real Pipeline (decode → guard → reduce → commit) runs unchanged over each of them: the only
 * thing that differs between the rows of the table is where the guard marks and memberships go.
 */
export type PipelineStore = SyncStore;
