import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eBot, type Reply } from './support/bot.js';
import { registerUser, registerUsers, uniqueName, type User } from './support/matrix.js';

// One daemon for the file; every test takes its own users, so no two share a room, a DM or a
// rate-limit window.
let bot: E2eBot;
let admin: User;

beforeAll(async () => {
  admin = await registerUser('admin');
  bot = await E2eBot.create({ admins: [admin.userId] });
  await bot.start();
});

afterAll(async () => {
  await bot.stop();
  await bot.cleanup();
});

/** A new user with a DM with the bot. */
async function person(name: string): Promise<{ user: User; dm: string; ask: (body: string) => Promise<Reply> }> {
  const user = await registerUser(name);
  const dm = await bot.dm(user);
  return { user, dm, ask: (body) => bot.ask(user, body, dm) };
}

/** A group room `creator` makes with the bot and `members` in it. */
async function groupRoom(creator: User, opts: { name: string; topic?: string; alias?: string; members?: User[] }): Promise<string> {
  const room = await creator.createRoom({
    name: opts.name,
    ...(opts.topic === undefined ? {} : { topic: opts.topic }),
    ...(opts.alias === undefined ? {} : { aliasLocalpart: opts.alias }),
    invite: [bot.id, ...(opts.members ?? []).map((m) => m.userId)],
  });
  await bot.joined(room);
  for (const m of opts.members ?? []) await m.join(room);
  return room;
}

describe('DM commands against a real Synapse', () => {
  it('answers !rooms, !room, !members and !common from what the homeserver says', async () => {
    const alice = await person('alice');
    const { bob, carol } = await registerUsers('bob', 'carol');
    await bob.call('PUT', `/_matrix/client/v3/profile/${encodeURIComponent(bob.userId)}/displayname`, { displayname: 'Bobby' });
    const alias = uniqueName('team');
    const team = await groupRoom(alice.user, { name: 'Team chat', topic: 'Weekly sync', alias, members: [bob, carol] });
    await bot.settle();

    // The DM has no name: it is listed under Alice's name, as her client would show it.
    const listed = (await alice.ask('!rooms')).body;
    expect(listed).toMatch(/^We share 2 rooms:\n1\. .+ — 2 members · DM\n2\. Team chat — 4 members\nSay !room NUMBER for details\.$/);
    expect(listed).not.toContain(alice.dm);
    const room = (await alice.ask('!room 2')).body;
    expect(room).toContain('Team chat (number 2 in your list)');
    expect(room).toContain(`Alias: #${alias}:localhost`);
    expect(room).toContain('Topic: Weekly sync');
    expect(room).toContain(`Room id: ${team}`);
    expect(room).toContain('Members: 4 members');
    const members = (await alice.ask('!members Team')).body.split('\n');
    expect(members[0]).toBe('Team chat has 4 members:');
    expect(members).toContain(`• Bobby (${bob.userId})`);
    expect(members.join('\n')).toContain(carol.userId);
    expect((await alice.ask(`!common ${bob.userId}`)).body).toBe(
      [`You, ${bob.userId} and I share 1 room (numbers as in !rooms):`, '• 2 Team chat — 4 members'].join('\n'),
    );
  });

  it('answers about a room only someone else is in exactly as about one that does not exist, by id, alias, name and number', async () => {
    const bob = await person('bob');
    const alias = uniqueName('hideout');
    const hideout = await groupRoom(bob.user, { name: 'Hideout of Bob', topic: 'surprise party', alias });
    await groupRoom(bob.user, { name: 'Another of Bob' });
    expect((await bob.ask('!rooms')).body).toContain('Hideout of Bob — 2 members');

    const probes: [string, string][] = [
      [hideout, '!nonexistent:localhost'],
      [`#${alias}:localhost`, '#nonexistent:localhost'],
      ['3', '99'],
      ['Hideout', 'Nonsense'],
    ];
    // Two askers per probe keep each under the rate limit: the probes run side by side.
    await Promise.all(
      ['room', 'members'].flatMap((command) =>
        probes.map(async ([secret, nonsense]) => {
          const alice = await person('alice');
          const asked = await alice.ask(`!${command} ${secret}`);
          const control = await alice.ask(`!${command} ${nonsense}`);
          const strip = (r: Reply, ref: string) => ({ body: r.body.replaceAll(ref, 'REF'), html: r.html.replaceAll(ref, 'REF') });
          expect(strip(asked, secret), `${command} ${secret}`).toEqual(strip(control, nonsense));
          expect(asked.body).toContain('I know no room');
          for (const leak of ['Hideout of Bob', 'surprise', '2 members', 'Another']) expect(asked.body).not.toContain(leak);
        }),
      ),
    );
  });

  it('shows !status, refuses admin commands to a user, and names an unknown command', async () => {
    const alice = await person('alice');
    expect((await alice.ask('!status')).body).toContain('roomkeeper status');
    expect((await alice.ask('!resync')).body).toBe('Not allowed.');
    expect((await alice.ask('!prune 1s')).body).toBe('Not allowed.');
    expect((await alice.ask('!frobnicate now')).body).toBe('I do not know !frobnicate. Say !help for the commands I know.');

    const dm = await bot.dm(admin);
    const status = await bot.ask(admin, '!status', dm);
    expect(status.body).toContain('roomkeeper status');
    expect(status.body.length).toBeGreaterThan((await alice.ask('!status')).body.length);
    expect((await bot.ask(admin, '!resync', dm)).body).not.toBe('Not allowed.');
  });

  it('answers 5 commands in 10 s, says once that it is rate limited, then stays silent', async () => {
    const alice = await person('alice');
    const sent: string[] = [];
    for (let i = 0; i < 8; i++) sent.push(await alice.user.send(alice.dm, '!help'));
    // Everything before the watcher's question is committed and answered once it is answered.
    await bot.settle();
    const replies = await bot.repliesAfter(alice.user, alice.dm, sent[0]!);
    // The first message's own reply comes after it too, so it is in the list.
    expect(replies.map((r) => r.body.split('\n')[0])).toHaveLength(6);
    expect(replies.filter((r) => r.body.includes('!rooms'))).toHaveLength(5);
    expect(replies.at(-1)!.body).toBe(
      'You are sending commands faster than I answer them (5 per 10 seconds). I will answer again in a few seconds.',
    );
  });
});
