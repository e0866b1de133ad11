import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { E2eBot } from './support/bot.js';
import { registerUser, registerUsers, type User } from './support/matrix.js';

const bots: E2eBot[] = [];

afterEach(async () => {
  for (const b of bots.splice(0)) await b.cleanup();
});

async function newBot(): Promise<E2eBot> {
  const bot = await E2eBot.create();
  bots.push(bot);
  return bot;
}

/** The timeline limit of the sync filter the daemon uploaded (Synapse numbers a user's filters from 0). */
async function timelineLimitOf(bot: E2eBot): Promise<number> {
  const filter = await bot.user.call('GET', `/_matrix/client/v3/user/${encodeURIComponent(bot.id)}/filter/0`);
  const limit = ((filter['room'] as Record<string, Record<string, unknown>> | undefined)?.['timeline'])?.['limit'];
  expect(limit, 'the filter sets a timeline limit').toEqual(expect.any(Number));
  return limit as number;
}

describe('restarts against a real Synapse', () => {
  it('catches up after being stopped while a room got a gap, it was kicked, invited and a room upgraded', async () => {
    const bot = await newBot();
    const { alice, bob, carol, dave } = await registerUsers('alice', 'bob', 'carol', 'dave');
    await bot.start();
    const busy = await alice.createRoom({ name: 'Busy', preset: 'public_chat', invite: [bot.id] });
    const kicking = await alice.createRoom({ name: 'Kicks', preset: 'public_chat', invite: [bot.id] });
    const old = await alice.createRoom({ name: 'Old version', preset: 'public_chat', invite: [bot.id] });
    for (const r of [busy, kicking, old]) await bot.joined(r);
    for (const u of [bob, carol]) await u.join(busy);
    await bob.join(old);
    await bot.settle();
    await bot.stop();
    const timelineLimit = await timelineLimitOf(bot);

    // While it is down: membership and name changes buried under more events than the timeline holds.
    await bob.leave(busy);
    await dave.join(busy);
    await alice.setState(busy, 'm.room.name', { name: 'Busy, renamed' });
    await alice.setState(busy, 'm.room.topic', { topic: 'set while away' });
    for (let i = 0; i < timelineLimit + 10; i++) await carol.send(busy, `message ${i}`);
    await alice.kick(kicking, bot.id);
    const fresh = await alice.createRoom({ name: 'New while away', invite: [bot.id, carol.userId] });
    await carol.join(fresh);
    const upgraded = await alice.upgrade(old, '9');

    await bot.start();
    await bot.joined(fresh);
    const truth = await bot.stopAndCompare();
    const ids = truth.rooms.map((r) => r.roomId);
    expect(ids).toContain(fresh);
    expect(ids).not.toContain(kicking);
    expect(ids).not.toContain(upgraded);
    expect(truth.rooms.find((r) => r.roomId === busy)).toMatchObject({
      name: 'Busy, renamed',
      topic: 'set while away',
      members: [alice.userId, bot.id, carol.userId, dave.userId].sort(),
    });
  });

  it('answers a command once, across a clean stop and a SIGKILL, and answers what was said while it was down once', async () => {
    const bot = await newBot();
    const alice = await registerUser('alice');
    await bot.start();
    const dm = await bot.dm(alice);
    const first = await alice.send(dm, '!rooms');
    await bot.settle();
    await bot.stop();
    const whileDown = await alice.send(dm, '!help');
    await bot.start();
    await bot.settle();
    await bot.kill();
    await bot.start();
    await bot.settle();
    const replies = await bot.repliesAfter(alice, dm, first);
    expect(replies).toHaveLength(2);
    expect(replies[0]!.body).toMatch(/^We share 1 room:/);
    expect(replies[1]!.body).toContain('!members');
    expect(await bot.repliesAfter(alice, dm, whileDown)).toHaveLength(1);
    await bot.stopAndCompare();
  });

  it('loses nothing and applies nothing twice when SIGKILLed several times during membership churn', async () => {
    const bot = await newBot();
    const alice = await registerUser('alice');
    const crowd = await Promise.all(Array.from({ length: 6 }, () => registerUser('crowd')));
    await bot.start();
    const rooms = await Promise.all(
      ['Churn A', 'Churn B'].map((name) => alice.createRoom({ name, preset: 'public_chat', invite: [bot.id] })),
    );
    for (const r of rooms) await bot.joined(r);

    let churning = true;
    const churn = async (u: User, i: number): Promise<void> => {
      for (let step = 0; churning; step++) {
        const room = rooms[(i + step) % rooms.length]!;
        await u.join(room);
        if (step % 3 !== 2) await u.leave(room);
        if (step % 5 === 4) await alice.setState(room, 'm.room.topic', { topic: `step ${i}.${step}` });
      }
    };
    const churners = crowd.map((u, i) => churn(u, i));
    for (let kill = 0; kill < 4; kill++) {
      await sleep(400 + kill * 250);
      await bot.kill();
      await bot.start();
    }
    churning = false;
    await Promise.all(churners);
    const truth = await bot.stopAndCompare();
    expect(truth.rooms.filter((r) => rooms.includes(r.roomId)).every((r) => r.members.includes(alice.userId))).toBe(true);
  });
});
