import { afterEach, describe, expect, it } from 'vitest';
import { isRoomkeeperError, openRoomkeeper, type Change, type Roomkeeper } from '../../src/index.js';
import { Store } from '../../src/store/store.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const dirs = new TempDirs();
const open: Roomkeeper[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((k) => k.close()));
  await dirs.cleanup();
});

async function keeperIn(dataDir?: string) {
  const dir = dataDir ?? (await dirs.make());
  const keeper = await openRoomkeeper({ dataDir: dir, botUserId: BOT, create: true });
  open.push(keeper);
  return { keeper, dir };
}

const s = new SyncBuilder();
const joinOf = (room: string, user: string) => s.response({ [room]: { timeline: [s.member(user, 'join')] } });

describe('keeper.changes(), on(), history()', () => {
  it('yields the stored changes after the cursor, then live ones as they are committed', async () => {
    const { keeper } = await keeperIn();
    const first = await keeper.process(s.response({ '!a:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    const seen: Change[] = [];
    const reading = (async () => {
      for await (const c of keeper.changes({ after: first.changes[0]!.cursor })) {
        seen.push(c);
        if (seen.length === 2) break;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const live = await keeper.process(joinOf('!a:x', '@bob:x'));
    await reading;
    expect(seen.map((c) => c.cursor)).toEqual([...first.changes.slice(1), ...live.changes].map((c) => c.cursor));
    expect(seen.at(-1)).toMatchObject({ kind: 'joined', userId: '@bob:x' });
  });

  it('ends open iterations when the keeper closes', async () => {
    const { keeper } = await keeperIn();
    const iterator = keeper.changes()[Symbol.asyncIterator]();
    const pending = iterator.next();
    await keeper.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('calls change listeners once per change until they are removed', async () => {
    const { keeper } = await keeperIn();
    const heard: string[] = [];
    const listener = (c: Change) => heard.push(c.kind);
    keeper.on('change', listener);
    keeper.on('change', listener);
    await keeper.process(s.response({ '!b:x': { state: [s.member('@dan:x', 'join')], timeline: [s.member(BOT, 'join')] } }));
    keeper.off('change', listener);
    await keeper.process(joinOf('!b:x', '@carol:x'));
    expect(heard).toEqual(['joined', 'rebuilt']);
  });

  it('refuses a cursor it did not hand out with BAD_CURSOR', async () => {
    const { keeper } = await keeperIn();
    let err: unknown;
    try {
      keeper.changes({ after: 'yesterday' });
    } catch (e) {
      err = e;
    }
    expect(isRoomkeeperError(err, 'BAD_CURSOR')).toBe(true);
  });

  it('answers history by room and by user, newest first, within a time window and in pages', async () => {
    const { keeper } = await keeperIn();
    await keeper.process(s.response({ '!a:x': { timeline: [s.member(BOT, 'join')] }, '!b:x': { timeline: [s.member(BOT, 'join')] } }));
    const times: number[] = [];
    for (const [room, user] of [['!a:x', '@alice:x'], ['!b:x', '@alice:x'], ['!a:x', '@bob:x'], ['!b:x', '@bob:x']] as const) {
      times.push(Date.now());
      await keeper.process(joinOf(room, user));
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const brief = (cs: Change[]) => cs.map((c) => `${c.roomId} ${c.kind} ${'userId' in c ? c.userId : ''}`);
    // The bot alone in the room it joined: its join, and no rebuild that changed anyone else.
    expect(brief(await keeper.history({ room: '!a:x' }))).toEqual(['!a:x joined @bob:x', '!a:x joined @alice:x', `!a:x joined ${BOT}`]);
    expect(brief(await keeper.history({ user: '@alice:x' }))).toEqual(['!b:x joined @alice:x', '!a:x joined @alice:x']);
    expect(brief(await keeper.history({ user: '@alice:x', room: '!a:x' }))).toEqual(['!a:x joined @alice:x']);
    expect(brief(await keeper.history({ since: times[2]! }))).toEqual(['!b:x joined @bob:x', '!a:x joined @bob:x']);
    expect(brief(await keeper.history({ since: times[1]!, until: times[3]! }))).toEqual(['!a:x joined @bob:x', '!b:x joined @alice:x']);
    const [newest] = await keeper.history({ limit: 1 });
    expect(brief(await keeper.history({ limit: 2, before: newest!.cursor }))).toEqual(['!a:x joined @bob:x', '!b:x joined @alice:x']);
    await expect(keeper.history({ room: 'not a room' })).rejects.toMatchObject({ code: 'BAD_ID' });
  });

  it('prunes the oldest changes by commit time, with their room and user index entries', async () => {
    const { keeper, dir } = await keeperIn();
    await keeper.process(s.response({ '!a:x': { timeline: [s.member(BOT, 'join'), s.member('@alice:x', 'join')] } }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const cutoff = Date.now();
    await keeper.process(joinOf('!a:x', '@bob:x'));
    expect(await keeper.pruneChanges(cutoff)).toBe(2);
    expect((await keeper.history()).map((c) => c.kind)).toEqual(['joined']);
    expect(await keeper.history({ user: BOT })).toEqual([]);
    await keeper.close();
    open.length = 0;
    // Nothing of the pruned changes is left in the index ranges either.
    const store = await Store.open(dir);
    try {
      expect(await store.changes.history({ room: '!a:x' as never })).toHaveLength(1);
      expect(await store.changes.after(undefined)).toHaveLength(1);
      expect(await store.changes.prune(Date.now() + 1)).toBe(1);
      expect(await store.changes.after(undefined)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
