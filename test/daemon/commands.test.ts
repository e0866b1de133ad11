import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { syncToken } from '../support/fake-homeserver.js';
import { Conversation, type BotReply } from './conversation.js';
import { Harness } from './harness.js';

/** A reply with one reference replaced, to compare the replies to two different references. */
function withoutRef(r: BotReply, ref: string): { body: string; html: string } {
  return { body: r.body.split(ref).join('REF'), html: r.html.split(ref).join('REF') };
}

describe('commands through the fake homeserver (one daemon)', () => {
  const h = new Harness();
  const talk = new Conversation(h);
  let admin: string;
  let pruner: string;

  beforeAll(async () => {
    await h.setup();
    admin = talk.user('admin');
    pruner = talk.user('admin');
    // The rate limit has its own daemon below; here it would only get in the way of long conversations.
    await h.start({ ROOMKEEPER_ADMINS: `${admin},${pruner}` }, { yaml: 'commands:\n  rateLimit:\n    count: 1000\n' });
  });
  afterAll(async () => h.teardown());

  describe('help and unknown commands', () => {
    it('lists the commands without the admin ones for a user', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      const r = await talk.ask(alice, '!help');
      expect(r.msgtype).toBe('m.notice');
      for (const c of ['!help', '!rooms', '!room', '!members', '!common', '!status']) expect(r.body).toContain(c);
      expect(r.body).not.toContain('!resync');
      expect(r.body).not.toContain('!prune');
      expect(r.html).toContain('<ul><li><code>!help [COMMAND]</code>');
    });

    it('explains one command with examples', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      const r = await talk.ask(alice, '!help room');
      expect(r.body).toContain('!room [REF]');
      expect(r.body).toContain('Examples:');
      expect(r.body).toContain('!room #team:example.org');
      // An admin command looks like an unknown one to a user.
      expect((await talk.ask(alice, '!help prune')).body).toBe('There is no command “prune”. Say !help for the list.');
      expect((await talk.ask(alice, '!help nope')).body).toBe('There is no command “nope”. Say !help for the list.');
    });

    it('points an unknown command to !help', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      expect((await talk.ask(alice, '!frobnicate now')).body).toBe('I do not know !frobnicate. Say !help for the commands I know.');
    });

    it('ignores messages that are not commands', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      expect(await talk.say(alice, ['hello', '! rooms', '!!', 'rooms'])).toEqual([]);
    });

    it('rejects over-long arguments and control characters with a clear reply', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      expect((await talk.ask(alice, `!room ${'x'.repeat(300)}`)).body).toBe(
        'I could not read that command: Argument 1 is longer than 255 characters. Say !help for the commands.',
      );
      expect((await talk.ask(alice, '!rooms\u0007')).body).toContain('one line without control or text-direction characters');
      expect((await talk.ask(alice, '!room "Team')).body).toContain('missing its closing quote');
    });
  });

  describe('!rooms, !room, !members, !common', () => {
    it('lists the shared rooms, numbered, with member counts', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      const dm = await talk.dm(alice);
      await talk.room(alice, { name: 'Zeta', members: [bob] });
      await talk.room(bob, { name: 'Alpha team', members: [alice] });
      await talk.room(bob, { name: 'Bob only' });
      const r = await talk.ask(alice, '!rooms');
      // The DM has no name: it is called after its other member, as a client calls it.
      void dm;
      expect(r.body).toBe(['We share 3 rooms:', `1. ${alice} — 2 members · DM`, '2. Alpha team — 3 members', '3. Zeta — 3 members', 'Say !room NUMBER for details.'].join('\n'));
      expect(r.html).toContain('<li>Alpha team — 3 members</li>');
    });

    it('shows one room by id, alias, number and name substring', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      await talk.dm(alice);
      const alias = `#${alice.slice(1, alice.indexOf(':'))}-team:fake.test`;
      const team = await talk.room(bob, { name: 'Team chat', alias, topic: 'Weekly sync', members: [alice] });
      const expected = (await talk.ask(alice, `!room ${team}`)).body;
      expect(expected).toContain('Team chat (number 2 in your list)');
      expect(expected).toContain(`Alias: ${alias}`);
      expect(expected).toContain('Topic: Weekly sync');
      expect(expected).toContain(`Room id: ${team}`);
      expect(expected).toContain('Members: 3 members');
      expect(expected).toContain('Encrypted: no');
      expect(expected).toMatch(/I joined: \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      for (const ref of [alias, alias.toUpperCase(), '2', 'team CHAT', '"Team chat"', 'eam']) {
        expect((await talk.ask(alice, `!room ${ref}`)).body, ref).toBe(expected);
      }
    });

    it('shows the only shared room without REF and asks for one when there are several', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      const dm = await talk.dm(alice);
      expect((await talk.ask(alice, '!room')).body).toContain(`Room id: ${dm}`);
      await talk.room(bob, { name: 'Team', members: [alice] });
      expect((await talk.ask(alice, '!room')).body).toBe(
        'We share 2 rooms; say which one: !room NUMBER.\nSay !rooms for the numbers, or give a name, an alias or a room id.',
      );
    });

    it('lists the candidates of an ambiguous name, only among shared rooms', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      await talk.dm(alice);
      await talk.room(alice, { name: 'Team red' });
      await talk.room(alice, { name: 'Team blue' });
      await talk.room(bob, { name: 'Team secret' });
      const r = await talk.ask(alice, '!room team');
      expect(r.body).toBe(['“team” matches 2 of our rooms:', '• 2 Team blue — 2 members', '• 3 Team red — 2 members', 'Say !room NUMBER with one of these numbers.'].join('\n'));
    });

    it('lists the members of a shared room with display names', async () => {
      const alice = talk.user('alice', 'Alice A.');
      const bob = talk.user('bob', 'Bobby');
      const carol = talk.user('carol');
      await talk.dm(alice);
      await talk.room(alice, { name: 'Crew', members: [bob, carol] });
      const r = await talk.ask(alice, '!members Crew');
      expect(r.body).toBe(['Crew has 4 members:', `• Alice A. (${alice}) — admin`, `• Bobby (${bob})`, `• ${carol}`, `• ${talk.bot}`].join('\n'));
      expect(r.html).toContain(`<li>Bobby (<code>${bob}</code>)</li>`);
    });

    it('follows display name changes, leaves and invites in the member list', async () => {
      const alice = talk.user('alice', 'Alice');
      const { bob, carol, dave } = talk.users('bob', 'carol', 'dave');
      await talk.dm(alice);
      const crew = await talk.room(alice, { name: 'Crew', members: [bob, carol] });
      talk.hs.setDisplayName(crew, bob, 'Robert');
      talk.hs.leave(crew, carol);
      talk.hs.invite(crew, alice, dave);
      await h.caughtUp();
      const r = await talk.ask(alice, '!members crew');
      expect(r.body).toBe(['Crew has 3 members:', `• Alice (${alice}) — admin`, `• Robert (${bob})`, `• ${talk.bot}`].join('\n'));
    });

    it('cuts a long member list and counts the rest', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      const crowd = Array.from({ length: 58 }, () => talk.user('crowd'));
      await talk.room(alice, { name: 'Crowd', members: crowd });
      const r = await talk.ask(alice, '!members Crowd');
      const lines = r.body.split('\n');
      expect(lines[0]).toBe('Crowd has 60 members:');
      expect(lines.filter((l) => l.startsWith('• '))).toHaveLength(50);
      expect(lines.at(-1)).toBe('… and 10 more');
    });

    it('lists the rooms shared with another user and never the rooms the sender is not in', async () => {
      const { alice, bob, carol } = talk.users('alice', 'bob', 'carol');
      await talk.dm(alice);
      await talk.room(alice, { name: 'Both of us', members: [bob] });
      await talk.room(bob, { name: 'Also both', members: [alice, carol] });
      await talk.room(bob, { name: 'Bob and Carol secret', members: [carol] });
      await talk.room(alice, { name: 'Alice alone' });
      const r = await talk.ask(alice, `!common ${bob}`);
      expect(r.body).toBe([`You, ${bob} and I share 2 rooms (numbers as in !rooms):`, '• 3 Also both — 4 members', '• 4 Both of us — 3 members'].join('\n'));
      const withCarol = await talk.ask(alice, `!common ${carol}`);
      expect(withCarol.body).toBe([`You, ${carol} and I share 1 room (numbers as in !rooms):`, '• 3 Also both — 4 members'].join('\n'));
      const dave = talk.user('dave');
      expect((await talk.ask(alice, `!common ${dave}`)).body).toBe(`You, ${dave} and I share no rooms.`);
      expect((await talk.ask(alice, '!common bob')).body).toBe('Give one full user id, as in !common @bob:example.org.');
    });

    it('says when nothing matches a reference', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      expect((await talk.ask(alice, '!members Nowhere')).body).toBe(
        'I know no room “Nowhere” among the rooms we share.\nSay !rooms to list them, then use a number, name, alias or room id.',
      );
    });
  });

  describe('privacy', () => {
    it('answers about a room only someone else is in exactly as about a room that does not exist', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      await talk.dm(alice);
      await talk.dm(bob);
      const alias = `#${bob.slice(1, bob.indexOf(':'))}-hideout:fake.test`;
      const hideout = await talk.room(bob, { name: 'Hideout of Bob', alias, topic: 'surprise party' });
      await talk.room(bob, { name: 'Another of Bob' });
      // bob's own list has three rooms; alice's has one.
      expect((await talk.ask(bob, '!rooms')).body).toContain('3. Hideout of Bob — 2 members');

      const refs: [string, string][] = [
        [hideout, '!nonexistent:fake.test'],
        [alias, '#nonexistent:fake.test'],
        ['3', '99'],
        ['Hideout', 'Nonsense'],
        ['of bob', 'of nobody'],
      ];
      for (const command of ['room', 'members']) {
        for (const [secret, nonsense] of refs) {
          const asked = await talk.ask(alice, `!${command} ${secret}`);
          const control = await talk.ask(alice, `!${command} ${nonsense}`);
          expect(withoutRef(asked, secret), `${command} ${secret}`).toEqual(withoutRef(control, nonsense));
          expect(asked.body).toContain('I know no room');
          for (const leak of ['Hideout of Bob', 'surprise', '2 members', 'Another']) {
            expect(asked.body).not.toContain(leak);
          }
        }
      }
    }, 30_000);

    it('forgets a room the sender left and never shows one they are only invited to', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      await talk.dm(alice);
      const left = await talk.room(bob, { name: 'Left behind', members: [alice] });
      expect((await talk.ask(alice, '!rooms')).body).toContain('Left behind — 3 members');
      talk.hs.leave(left, alice);
      const invitedTo = await talk.room(bob, { name: 'Invited only' });
      talk.hs.invite(invitedTo, bob, alice);
      await h.caughtUp();
      expect((await talk.ask(alice, '!rooms')).body).toBe(`We share 1 room:\n1. ${alice} — 2 members · DM\nSay !room NUMBER for details.`);
      for (const ref of [left, invitedTo, 'Left', 'Invited']) {
        const r = await talk.ask(alice, `!members ${ref}`);
        expect(r.body).toContain('I know no room');
        expect(r.body).not.toMatch(/behind|only —|members:/);
      }
      expect((await talk.ask(alice, `!common ${bob}`)).body).toBe(`You, ${bob} and I share no rooms.`);
    });

    it('answers an admin command from a user with "not allowed" only', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      for (const c of ['!prune', '!prune 1s', '!resync', '!resync 1']) {
        const r = await talk.ask(alice, c);
        expect(r.body).toBe('Not allowed.');
        expect(r.html).toBe('Not allowed.');
      }
    });

    it('escapes HTML in room names, display names and arguments', async () => {
      const alice = talk.user('alice', '<img src=x onerror=alert(1)>');
      await talk.dm(alice);
      const evil = '<b>x</b><script>alert(1)</script>';
      await talk.room(alice, { name: evil, topic: '<a href="javascript:alert(1)">t</a>' });
      const rooms = await talk.ask(alice, '!rooms');
      expect(rooms.body).toContain(`${evil} — 2 members`);
      expect(rooms.html).toContain('&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; — 2 members');
      const room = await talk.ask(alice, '!room script');
      expect(room.html).toContain('&lt;a href=&quot;javascript:alert(1)&quot;&gt;t&lt;/a&gt;');
      const members = await talk.ask(alice, '!members script');
      expect(members.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      const arg = await talk.ask(alice, '!room <i>nope</i>');
      expect(arg.html).toContain('&lt;i&gt;nope&lt;/i&gt;');
      for (const r of [rooms, room, members, arg]) {
        expect(r.html).not.toMatch(/<(b|script|a|img|i)[\s>]/);
      }
    });
  });

  describe('where commands are answered', () => {
    it('ignores commands in a group room of three', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      const group = await talk.room(alice, { name: 'Group', members: [bob] });
      expect(await talk.say(alice, ['!rooms', '!help', '!frobnicate'], group)).toEqual([]);
    });

    it('ignores commands in a room of two that is not marked direct', async () => {
      const alice = talk.user('alice');
      const pair = await talk.room(alice, { name: 'Just us' });
      expect(await talk.say(alice, ['!rooms', '!help'], pair)).toEqual([]);
    });

    it('answers in a room that only the bot’s m.direct account data makes direct', async () => {
      const alice = talk.user('alice');
      const room = await talk.room(alice);
      expect(await talk.say(alice, '!help', room)).toEqual([]);
      const current = talk.hs.accountDataOf(talk.bot).get('m.direct')?.content ?? {};
      talk.hs.setDirect(talk.bot, { ...(current as Record<string, string[]>), [alice]: [room] });
      await h.caughtUp();
      expect((await talk.ask(alice, '!help', room)).body).toContain('!rooms');
    });

    it('says once that it only answers in private when a DM gains a third member', async () => {
      const { alice, carol } = talk.users('alice', 'carol');
      const dm = await talk.dm(alice);
      talk.hs.invite(dm, alice, carol);
      talk.hs.join(dm, carol);
      const first = await talk.ask(alice, '!rooms');
      expect(first.body).toBe('I only answer in a private chat with just you and me. Start a direct chat with me and ask there.');
      expect(await talk.say(alice, '!rooms')).toEqual([]);
      expect(await talk.say(carol, '!help', dm)).toEqual([]);
      // Private again once the third member has left.
      talk.hs.leave(dm, carol);
      expect((await talk.ask(alice, '!help')).body).toContain('!rooms');
    });

    it('goes on answering after a reply could not be sent', async () => {
      const alice = talk.user('alice');
      const dm = await talk.dm(alice);
      talk.hs.failNext({ method: 'PUT', path: new RegExp(`/rooms/${dm.replace(/[.]/g, '\\.')}/send/`) }, { status: 403, errcode: 'M_FORBIDDEN' });
      expect(await talk.say(alice, '!help')).toEqual([]);
      expect(h.logs!().filter((l) => l.msg === 'reply could not be sent' && l.roomId === dm)).toHaveLength(1);
      expect((await talk.ask(alice, '!help')).body).toContain('!rooms');
    });

    it('never answers its own messages', async () => {
      const alice = talk.user('alice');
      const dm = await talk.dm(alice);
      expect(await talk.say(talk.bot, ['!help', '!rooms'], dm)).toEqual([]);
    });

    it('never answers messages sent before it joined', async () => {
      const alice = talk.user('alice');
      const dm = talk.hs.createRoom(alice, { isDirect: true });
      talk.hs.sendMessage(dm, alice, '!help');
      // A slow join: alice writes between the invite and the join, so that the response bringing
      // the join brings her messages too, before it in the timeline and with the same timestamp.
      const join = { method: 'POST', path: new RegExp(`/join/${dm.replace(/[.]/g, '\\.')}$`) };
      talk.hs.failNext(join, { delayMs: 300 });
      talk.hs.invite(dm, alice, talk.bot, { isDirect: true });
      await talk.hs.waitForRequest(join);
      talk.hs.sendMessage(dm, alice, '!rooms');
      talk.hs.sendMessage(dm, alice, '!status');
      await talk.joined(dm);
      await talk.hs.waitFor(() => talk.directRoomsOfBot().includes(dm), 10_000, 'm.direct');
      await h.caughtUp();
      const timelines = talk.timelinesOf(dm).map((events) => events.map((e) => (e['content'] as { body?: string }).body ?? e['type']));
      // The join's timeline holds them before the join (and, as on Synapse, the first one twice).
      expect(timelines.some((t) => t.at(-1) === 'm.room.member' && t.indexOf('!status') > t.indexOf('!rooms') && t.includes('!rooms'))).toBe(true);
      expect(talk.replies(dm)).toEqual([]);
      expect((await talk.ask(alice, '!help', dm)).body).toContain('!rooms');
    });
  });

  describe('m.direct', () => {
    const direct = () => (talk.hs.accountDataOf(talk.bot).get('m.direct')?.content ?? {}) as Record<string, string[]>;
    const directWrite = { method: 'PUT', path: /\/account_data\/m\.direct$/ };

    it('records DMs joined from is_direct invites in the bot’s m.direct, also two at once', async () => {
      const { alice, bob } = talk.users('alice', 'bob');
      // The first write is slow, so the second is sent while it is in flight.
      talk.hs.failNext(directWrite, { delayMs: 300 });
      const a = talk.hs.createRoom(alice, { isDirect: true, invite: [talk.bot] });
      const b = talk.hs.createRoom(bob, { isDirect: true, invite: [talk.bot] });
      await talk.joined(a);
      await talk.joined(b);
      const writes = () => talk.hs.requests.filter((r) => r.method === 'PUT' && directWrite.path.test(r.path));
      await talk.hs.waitFor(() => writes().length >= 2 && writes().every((r) => r.status !== undefined), 10_000, 'm.direct written');
      await h.caughtUp();
      expect(direct()[alice]).toEqual([a]);
      expect(direct()[bob]).toEqual([b]);
      expect((await talk.ask(alice, '!help', a)).body).toContain('!rooms');
      expect((await talk.ask(bob, '!help', b)).body).toContain('!rooms');
    });

    it('answers in a DM whose join shows up in a sync before the join request returns', async () => {
      const alice = talk.user('alice');
      const dm = talk.hs.createRoom(alice, { isDirect: true });
      const join = { method: 'POST', path: new RegExp(`/join/${dm.replace(/[.]/g, '\\.')}$`) };
      talk.hs.failNext(join, { delayMs: 2_000 });
      talk.hs.invite(dm, alice, talk.bot, { isDirect: true });
      const joining = await talk.hs.waitForRequest(join);
      // The server has the join (as when its response is still on the way) and alice asks at once.
      talk.hs.join(dm, talk.bot);
      await h.caughtUp();
      const r = await talk.ask(alice, '!help', dm);
      expect(r.body).toContain('!rooms');
      expect(joining.status, 'the join request was still waiting').toBeUndefined();
      await talk.hs.waitFor(() => direct()[alice]?.includes(dm), 10_000, 'm.direct');
    });
  });

  describe('!status and admin commands', () => {
    it('shows a user the public status only', async () => {
      const alice = talk.user('alice');
      await talk.dm(alice);
      const r = await talk.ask(alice, '!status');
      expect(r.body).toContain('roomkeeper status');
      expect(r.body).toContain('Version: test');
      expect(r.body).toMatch(/Uptime: \d+[dhms]/);
      expect(r.body).toMatch(/Rooms tracked: [1-9]/);
      expect(r.body).toMatch(/Users tracked: [1-9]/);
      expect(r.body).toMatch(/Events applied: [1-9]/);
      expect(r.body).toContain('Duplicates skipped: ');
      expect(r.body).toContain('Invalid events: 0');
      expect(r.body).toMatch(/Last sync: \d{4}-\d\d-\d\d/);
      expect(r.body).not.toContain('Data directory');
      expect(r.body).not.toContain('Guard entries');
    });

    it('shows an admin the data dir size and guard entries too, and the admin commands in help', async () => {
      await talk.dm(admin);
      const r = await talk.ask(admin, '!status');
      expect(r.body).toMatch(/Data directory: \d+(\.\d)? (B|KiB|MiB)/);
      expect(r.body).toMatch(/Guard entries: [1-9]/);
      const help = await talk.ask(admin, '!help');
      expect(help.body).toContain('!resync [REF]');
      expect(help.body).toContain('!prune [AGE]');
    });

    it('lets an admin resync all rooms or one shared room', async () => {
      const all = await talk.ask(admin, '!resync');
      expect(all.body).toMatch(/^Reconciled all rooms: 0 purged, 0 snapshotted again, \d+ unchanged\.$/);
      const one = await talk.ask(admin, `!resync ${talk.dmOf(admin)}`);
      expect(one.body).toBe(`Reconciled ${talk.dmOf(admin)} (${talk.dmOf(admin)}): 0 purged, 1 snapshotted again, 0 unchanged.`);
      const bob = talk.user('bob');
      const bobs = await talk.room(bob, { name: 'Bob private' });
      const hidden = await talk.ask(admin, `!resync ${bobs}`);
      expect(hidden.body).toContain('I know no room');
    });

    it('tells an admin when the homeserver fails a resync, with an error id that is in the log', async () => {
      talk.hs.failNext('joined_rooms', { status: 403, errcode: 'M_FORBIDDEN' });
      const r = await talk.ask(admin, '!resync');
      const id = /error id ([0-9a-f]{6})\)/.exec(r.body)?.[1];
      expect(r.body).toMatch(/^The homeserver did not answer as expected; try again later \(error id [0-9a-f]{6}\)\.$/);
      expect(h.logs!().filter((l) => l.msg === 'command failed on the homeserver').map((l) => l.errorId)).toContain(id);
    });

    it('lets an admin prune the guard', async () => {
      await talk.dm(pruner);
      const r = await talk.ask(pruner, '!prune 1s');
      expect(r.body).toMatch(/^Pruned [1-9][\d,]* guard entries older than 1s\.\nPruned 0 changes of the change log older than 90d\.$/);
      expect((await talk.ask(pruner, '!prune 30d')).body).toBe('Pruned 0 guard entries older than 30d.\nPruned 0 changes of the change log older than 90d.');
      expect((await talk.ask(pruner, '!prune soon')).body).toBe('Give one age such as 30d, 12h, 90m or 45s, as in !prune 30d.');
    });
  });
});

describe('the default rate limit, and help allowed in group rooms', () => {
  const h = new Harness();
  const talk = new Conversation(h);
  beforeAll(async () => {
    await h.setup();
    await h.start({}, { yaml: 'commands:\n  allowInGroupRooms: [help]\n' });
  });
  afterAll(async () => h.teardown());

  it('answers only the allowed harmless command in a group room, and nothing else there', async () => {
    const { alice, bob } = talk.users('alice', 'bob');
    const group = await talk.room(alice, { name: 'Group', members: [bob] });
    expect((await talk.ask(bob, '!help', group)).body).toContain('!rooms');
    expect(await talk.say(bob, ['!rooms', '!room Group', '!nope', '!help "x', '!prune'], group)).toEqual([]);
  });

  it('answers 5 commands in 10 s, then once politely, then not at all', async () => {
    const { alice, bob } = talk.users('alice', 'bob');
    await talk.dm(alice);
    await talk.dm(bob);
    const got = await talk.say(alice, ['!help', '!rooms', '!status', '!help rooms', '!nope', '!rooms']);
    expect(got).toHaveLength(6);
    for (const r of got.slice(0, 5)) expect(r.body).not.toContain('faster');
    expect(got[5]?.body).toBe('You are sending commands faster than I answer them (5 per 10 seconds). I will answer again in a few seconds.');
    expect(await talk.say(alice, '!rooms')).toEqual([]);
    // The limit is per user.
    expect((await talk.ask(bob, '!rooms')).body).toContain('We share 1 room');
  });
});

describe('a command re-delivered after a restart', () => {
  let h: Harness;
  beforeEach(async () => {
    h = new Harness();
    await h.setup();
  });
  afterEach(async () => h.teardown());

  it('is not answered twice', async () => {
    const talk = new Conversation(h);
    const alice = talk.user('alice');
    await h.start();
    const dm = await talk.dm(alice);
    const before = h.hs.position;
    const asked = talk.hs.sendMessage(dm, alice, '!help').event['event_id'];
    await talk.hs.waitFor(() => talk.replies(dm).length === 1, 10_000, 'the reply');
    await h.caughtUp();
    await h.stop();

    // Resume from before the command, as after a crash between two token writes: the fake
    // sends the command again.
    await h.withStore((store) => store.meta.put('sync-token', syncToken(before)));
    const syncsBefore = h.hs.syncs.length;
    await h.start();
    // caughtUp would be satisfied by the first run's syncs; wait for this run's.
    const thisRun = () => h.hs.syncs.slice(syncsBefore);
    await h.hs.waitFor(() => thisRun().some((s) => s.since !== undefined && s.since >= h.hs.position), 10_000, 'the second run caught up');
    const resent = thisRun().find((s) => s.since === before && JSON.stringify(s.response ?? {}).includes(String(asked)));
    expect(resent, 'the fake re-delivered the command').toBeDefined();
    expect(talk.replies(dm)).toHaveLength(1);
    // And the daemon still answers new commands.
    expect((await talk.ask(alice, '!help')).body).toContain('!rooms');
  });
});
