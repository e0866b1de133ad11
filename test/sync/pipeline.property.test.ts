import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectAll } from '../../src/cli/inspect.js';
import type { UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { Pipeline } from '../../src/sync/pipeline.js';
import { memoryLogger } from '../support/memory-log.js';
import { BOT, simulate, stepArb, type Expected } from '../support/sync-stream.js';
import { TempDirs } from '../support/temp-dir.js';
import { RoomModel, type ModelDocument } from './model.js';

/**
 * Random streams (see test/support/sync-stream.ts) go through the real Pipeline on a real Store
 * and through RoomModel; after every response `inspectAll` must equal the model, and every room
 * the bot is in must hold exactly the members and metadata the simulated server has.
 */

function expectMatchesServer(doc: ModelDocument, truth: Map<string, Expected>): void {
  for (const [roomId, t] of truth) {
    const got = doc.rooms.find((r) => r.roomId === roomId);
    if (t === 'stale') continue;
    if (t === 'absent') expect(got, `${roomId} should not be tracked`).toBeUndefined();
    else expect(got, `${roomId} as the server has it`).toEqual(t);
  }
}

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('Pipeline (property)', () => {
  it('ends like the model and like the server after every response when random streams are replayed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.constantFrom(2, 7, 50_000), async (steps, maxBatchKeys) => {
        const deliveries = simulate(steps);
        const store = await Store.open(await dirs.make(), { create: true });
        try {
          const pipeline = new Pipeline(store, { botUserId: BOT as UserId, log: memoryLogger('warn').log, maxBatchKeys });
          const model = new RoomModel(BOT);
          for (const [i, { body, truth }] of deliveries.entries()) {
            await pipeline.process(body);
            model.process(body);
            const doc = await inspectAll(store);
            expect(doc, `after response ${i}`).toEqual(model.inspect());
            expectMatchesServer(doc, truth);
          }
        } finally {
          await store.close();
          await dirs.cleanup();
        }
      }),
      { numRuns: 100 },
    );
  });
});
