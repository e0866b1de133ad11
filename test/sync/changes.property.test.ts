import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import type { Change } from '../../src/state/changes.js';
import type { UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { BOT, simulate, stepArb } from '../support/sync-stream.js';
import { TempDirs } from '../support/temp-dir.js';

/**
 * The change log tells the record's story: folding its changes in order (member changes set a
 * membership, a rebuild applies its diff, a purge empties the room) must give the memberships
 * the store holds, after every response of a random stream, and every member change must start
 * from the membership the fold holds at that point — no change missing, none twice. Each
 * response is then delivered again, which must log nothing.
 */

type Fold = Map<string, Map<string, string>>;

function fold(changes: readonly Change[]): Fold {
  const rooms: Fold = new Map();
  const of = (roomId: string) => {
    let m = rooms.get(roomId);
    if (m === undefined) rooms.set(roomId, (m = new Map()));
    return m;
  };
  for (const c of changes) {
    const members = of(c.roomId);
    if (c.kind === 'rebuilt') {
      for (const { userId, from, to } of c.members) {
        expect(members.get(userId) ?? 'none', `${c.cursor}: ${userId} before the rebuild`).toBe(from);
        if (to === 'none') members.delete(userId);
        else members.set(userId, to);
      }
      if (c.purged === true) members.clear();
      continue;
    }
    if (c.kind === 'room' || c.kind === 'profile') continue;
    // The bot's own join starts from what the server says it was (its invite is not in any room's log).
    const ownJoin = c.userId === BOT && c.kind === 'joined';
    if (!ownJoin) expect(members.get(c.userId) ?? 'none', `${c.cursor}: ${c.kind} of ${c.userId} starts where the log left it`).toBe(c.from);
    members.set(c.userId, c.to);
    if (c.purged === true) members.clear();
  }
  return rooms;
}

async function allChanges(store: Store): Promise<Change[]> {
  const out: Change[] = [];
  for (let page = await store.changes.after(undefined); page.length > 0; page = await store.changes.after(page.at(-1)!.cursor)) out.push(...page);
  return out;
}

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('change log (property)', () => {
  it('folds to the memberships the store holds, and logs nothing for a response delivered again', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.constantFrom(2, 50_000), async (steps, maxBatchKeys) => {
        const store = await Store.open(await dirs.make(), { create: true });
        try {
          const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger('warn').log, maxBatchKeys });
          for (const [i, { body }] of simulate(steps).entries()) {
            await pipeline.process(body);
            const changes = await allChanges(store);
            expect((await pipeline.process(body)).changes, `response ${i} delivered again`).toEqual([]);
            const folded = fold(changes);
            const doc = await inspectAll(store);
            for (const room of doc.rooms) {
              const members = folded.get(room.roomId) ?? new Map<string, string>();
              const having = (m: string) => [...members].filter(([, v]) => v === m).map(([u]) => u).sort();
              expect({ join: having('join'), invite: having('invite'), ban: having('ban'), knock: having('knock') }, `${room.roomId} after response ${i}`).toEqual({
                join: room.members,
                invite: room.invited,
                ban: room.banned,
                knock: room.knocking,
              });
            }
            // A room no longer tracked was purged in the log too.
            for (const [roomId, members] of folded) {
              if (!doc.rooms.some((r) => r.roomId === roomId)) expect([...members.values()].filter((m) => m !== 'leave'), `${roomId} forgotten`).toEqual([]);
            }
          }
        } finally {
          await store.close();
          await dirs.cleanup();
        }
      }),
      { numRuns: 150 },
    );
  });
});
