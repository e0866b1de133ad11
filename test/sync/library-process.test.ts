import { afterEach, describe, expect, it } from 'vitest';
import { isRoomkeeperError, openRoomkeeper } from '../../src/index.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

/** The library's process() and close() as an embedding bot uses them, on a real store. */

const BOT = '@bot:x';
const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (err: unknown) => err,
  );
}

describe('openRoomkeeper process() and close()', () => {
  it('applies two concurrent bodies one after the other: both members kept, a shared event fresh once', async () => {
    const keeper = await openRoomkeeper({ dataDir: await dirs.make(), botUserId: BOT, create: true });
    try {
      const s = new SyncBuilder();
      await keeper.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join')] } }));
      const command = s.message('@alice:x', '!rooms');
      const a = s.response({ '!r:x': { state: [s.name('@alice:x', 'A')], timeline: [s.member('@alice:x', 'join'), command] } });
      const b = s.response({ '!r:x': { state: [s.topic('@bob:x', 'B')], timeline: [s.member('@bob:x', 'join'), command] } });
      const [ra, rb] = await Promise.all([keeper.process(a), keeper.process(b)]);
      const freshCommands = [...ra.fresh, ...rb.fresh].filter((f) => f.event.eventId === command.event_id);
      expect(freshCommands).toHaveLength(1);
      expect(ra.applied + rb.applied).toBe(5);
      expect((await keeper.rooms.membersOf('!r:x')).map((m) => m.userId)).toEqual(['@alice:x', '@bob:x', BOT]);
      expect(await keeper.rooms.info('!r:x')).toMatchObject({ name: 'A', topic: 'B' });
    } finally {
      await keeper.close();
    }
  });

  it('commits the body in hand when closed meanwhile, and gives STORE_CLOSED for every later call', async () => {
    const dataDir = await dirs.make();
    const keeper = await openRoomkeeper({ dataDir, botUserId: BOT, create: true });
    const s = new SyncBuilder();
    const inHand = keeper.process(s.response({ '!r:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }, {}, 'tok1'));
    // Once it has started (it waits on LevelDB's reads), close.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = keeper.close();
    const after = errorOf(keeper.process(s.response({ '!r:x': { timeline: [s.member('@bob:x', 'join')] } }, {}, 'tok2')));
    expect((await inHand).applied).toBe(2);
    await closing;
    const later = [() => keeper.process({}), () => keeper.rooms.allRooms(), () => keeper.syncToken(), () => keeper.prune(Date.now())];
    for (const err of [await after, ...(await Promise.all(later.map((call) => errorOf(call()))))]) {
      expect(isRoomkeeperError(err, 'STORE_CLOSED'), String(err)).toBe(true);
    }
    const again = await openRoomkeeper({ dataDir, botUserId: BOT });
    try {
      expect(await again.syncToken()).toBe('tok1');
      expect(await again.rooms.allRooms()).toEqual(['!r:x']);
    } finally {
      await again.close();
    }
  });

  it('refuses with STORE_NOT_FOUND to open a directory without a database unless create is set', async () => {
    const err = await errorOf(openRoomkeeper({ dataDir: await dirs.make(), botUserId: BOT }));
    expect(isRoomkeeperError(err, 'STORE_NOT_FOUND')).toBe(true);
  });
});
