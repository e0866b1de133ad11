import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';
import { Harness } from './harness.js';

describe('!history and !seen through the fake homeserver', () => {
  const h = new Harness();
  const talk = new Conversation(h);

  beforeAll(async () => {
    await h.setup();
    await h.start({}, { yaml: 'commands:\n  rateLimit:\n    count: 1000\n' });
  });
  afterAll(async () => h.teardown());

  it('lists the membership changes of a shared room, newest first, with who did it and why', async () => {
    const { alice, bob, carol } = talk.users('alice', 'bob', 'carol');
    await talk.dm(alice);
    const room = await talk.room(alice, { name: 'Garden', members: [bob, carol] });
    talk.hs.kick(room, alice, bob, { reason: 'too loud' });
    talk.hs.ban(room, alice, carol);
    talk.hs.unban(room, alice, carol);
    await h.caughtUp();
    const r = await talk.ask(alice, '!history Garden');
    const lines = r.body.split('\n');
    expect(lines[0]).toBe('Garden: membership changes, newest first (page 1):');
    expect(lines.slice(1, 5).map((l) => l.replace(/ — .*$/, ''))).toEqual([
      `• ${carol} was unbanned by ${alice}`,
      `• ${carol} was banned by ${alice}`,
      `• ${bob} was kicked by ${alice} (“too loud”)`,
      `• ${carol} joined`,
    ]);
    expect(r.body).toContain(`${carol} was invited by ${alice}`);
  });

  it('pages through a long history', async () => {
    const { alice, bob } = talk.users('alice', 'bob');
    await talk.dm(alice);
    const room = await talk.room(alice, { name: 'Busy' });
    for (let i = 0; i < 7; i++) {
      talk.hs.invite(room, alice, bob);
      talk.hs.join(room, bob);
      talk.hs.leave(room, bob);
    }
    await h.caughtUp();
    const first = await talk.ask(alice, '!history Busy');
    expect(first.body.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(10);
    expect(first.body).toMatch(/Older ones: !history \d+ 2./);
    const second = await talk.ask(alice, '!history Busy 2');
    expect(second.body).toContain('(page 2)');
    // 21 changes of bob, then the ones of the room's start.
    expect(second.body.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(10);
    expect((await talk.ask(alice, '!history Busy 0')).body).toContain('Pages go from 1 to 20');
  });

  it('tells a stranger nothing about a room it does not share, and forgets a room the asker left', async () => {
    const { alice, mallory, bob } = talk.users('alice', 'mallory', 'bob');
    await talk.dm(alice);
    await talk.dm(mallory);
    const room = await talk.room(alice, { name: 'Secret garden', members: [bob] });
    talk.hs.leave(room, bob);
    await h.caughtUp();
    const stranger = await talk.ask(mallory, `!history ${room}`);
    const unknown = await talk.ask(mallory, '!history !nothere:fake.test');
    expect(stranger.body).toBe(unknown.body.split('!nothere:fake.test').join(room));
    expect((await talk.ask(mallory, `!seen ${bob}`)).body).toBe(`I have not seen ${bob} join or leave any room we share since I joined it.`);

    const seen = await talk.ask(alice, `!seen ${bob}`);
    expect(seen.body).toMatch(/Secret garden: joined .*; left /);
    // Once alice has left, the room is not hers to ask about.
    talk.hs.leave(room, alice);
    await h.caughtUp();
    expect((await talk.ask(alice, `!seen ${bob}`)).body).toBe(`I have not seen ${bob} join or leave any room we share since I joined it.`);
    expect((await talk.ask(alice, '!history Secret garden')).body).toContain('I know no room “Secret garden” among the rooms we share.');
  });

  it('lists !history and !seen in !help', async () => {
    const alice = talk.user('alice');
    await talk.dm(alice);
    const r = await talk.ask(alice, '!help');
    expect(r.body).toContain('!history [REF] [PAGE]');
    expect(r.body).toContain('!seen @user:server');
  });
});
