import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, spawnBotProcess } from '../support/bot-process.js';
import { TempDirs } from '../support/temp-dir.js';
import { eventually, registerUser, registerUsers, type Json, type User } from './support/matrix.js';
import { homeserver } from './support/matrix.js';

/**
 * examples/dice-bot, built only on matrix-bot-sdk and roomkeeper's published API, against the
 * real Synapse: it joins when invited, rolls in a room, rolls from a DM into a shared room found
 * by name among the sender's rooms only, and greets a member who joins (from the change log).
 */
const dirs = new TempDirs();
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGTERM');
    await exited(c);
  }
  await dirs.cleanup();
});

/** The bot's messages, oldest first, without a reply's quoted fallback ("> <@a:x> !roll…\n\n"). */
function notices(events: Json[], bot: string): string[] {
  return events
    .filter((e) => e['sender'] === bot && e['type'] === 'm.room.message')
    .map((e) => {
      const body = String((e['content'] as Json)['body']);
      return body.startsWith('> ') && body.includes('\n\n') ? body.slice(body.indexOf('\n\n') + 2) : body;
    })
    .reverse();
}

describe('examples/dice-bot against a real Synapse', () => {
  it('rolls in a room, rolls from a DM into a shared room, and greets a member who joins', async () => {
    const dice: User = await registerUser('dice');
    const { alice, bob, mallory } = await registerUsers('alice', 'bob', 'mallory');
    const child = spawnBotProcess('examples/dice-bot/main.ts', { url: homeserver().url, botToken: dice.token }, await dirs.make(), { SYNC_TIMEOUT_MS: '1000' });
    children.push(child);

    const game = await alice.createRoom({ name: 'Game night', preset: 'public_chat', invite: [dice.userId] });
    await eventually(async () => (await dice.joinedRooms()).includes(game), 'the dice bot joined');
    await alice.send(game, '!roll 2d6');
    const rolled = await eventually(async () => notices(await alice.recent(game), dice.userId).find((b) => b.startsWith(`${alice.userId} rolled`)), 'a roll in the room');
    expect(rolled).toMatch(/rolled .*\d/);

    await bob.join(game);
    const welcome = await eventually(async () => notices(await alice.recent(game), dice.userId).find((b) => b.startsWith('Welcome to Game night')), 'bob greeted');
    expect(welcome).toContain('bob');

    // From a DM, into the shared room by part of its name; a stranger's "in Game" finds nothing of hers.
    const dm = await alice.createRoom({ isDirect: true, invite: [dice.userId] });
    await eventually(async () => (await dice.joinedRooms()).includes(dm), 'the dice bot joined the DM');
    await alice.send(dm, '!roll 1d20 in Game');
    await eventually(async () => notices(await alice.recent(dm), dice.userId).find((b) => b.startsWith('Rolled into Game night')), 'the DM told where it rolled');
    expect(notices(await alice.recent(game), dice.userId).filter((b) => b.startsWith(`${alice.userId} rolled`))).toHaveLength(2);

    const theirs = await mallory.createRoom({ isDirect: true, invite: [dice.userId] });
    await eventually(async () => (await dice.joinedRooms()).includes(theirs), 'the dice bot joined her DM');
    await mallory.send(theirs, '!roll 1d6 in Game');
    const refused = await eventually(async () => notices(await mallory.recent(theirs), dice.userId)[0], 'an answer to mallory');
    expect(refused).toBe('None of your rooms matches "Game".');
    expect(notices(await alice.recent(game), dice.userId).some((b) => b.startsWith(mallory.userId))).toBe(false);
  });
});
