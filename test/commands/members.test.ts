import { describe, expect, it } from 'vitest';
import { MAX_LISTED_MEMBERS, membersCommand } from '../../src/commands/members.js';
import { FakeRooms, uid } from './fake-rooms.js';
import { makeWorld, roomsCtx } from './world.js';

describe('members', () => {
  it('lists members with display names, sorted by name', async () => {
    const r = await membersCommand.run(roomsCtx(makeWorld()), ['Team']);
    expect(r.body).toBe(
      ['Team chat has 4 members:', '• Alice (@alice:hs.test)', '• Bob (@bob:hs.test)', '• @carol:hs.test', '• roomkeeper (@rk:hs.test)'].join('\n'),
    );
  });

  it('cuts a long list and counts the rest', async () => {
    const ids = Array.from({ length: MAX_LISTED_MEMBERS + 12 }, (_, i) => `@u${String(i).padStart(3, '0')}:hs.test`);
    const rooms = new FakeRooms([{ id: '!big:hs.test', name: 'Big', members: ['@rk:hs.test', '@alice:hs.test', ...ids] }]);
    const r = await membersCommand.run(roomsCtx(rooms), ['Big']);
    expect(r.body.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(MAX_LISTED_MEMBERS);
    expect(r.body).toMatch(/… and 14 more$/);
  });

  it('escapes HTML in a display name', async () => {
    const rooms = new FakeRooms([{ id: '!x:hs.test', name: 'X', members: ['@rk:hs.test', ['@alice:hs.test', '<a href="https://evil">click</a>']] }]);
    const r = await membersCommand.run(roomsCtx(rooms), []);
    expect(r.formatted_body).toContain('&lt;a href=&quot;https://evil&quot;&gt;click&lt;/a&gt;');
    expect(r.formatted_body).not.toContain('<a ');
  });

  it('answers not-found when the ref is unknown', async () => {
    const r = await membersCommand.run(roomsCtx(makeWorld()), ['nonsense']);
    expect(r.body).toMatch(/^I know no room “nonsense”/);
  });

  it('adds the user id to names two members share and to names that read like user ids, and shows roles', async () => {
    const rooms = new FakeRooms([
      {
        id: '!x:hs.test',
        name: 'X',
        members: ['@rk:hs.test', ['@alice:hs.test', 'Sam'], ['@sam:hs.test', 'Sam', 'invite'], ['@bob:hs.test', '@alice:hs.test'], ['@zed:hs.test', 'Zed']],
        more: {
          creators: [uid('@alice:hs.test')],
          powerLevels: { users: { '@alice:hs.test': 100, '@zed:hs.test': 50 }, usersDefault: 0, events: {}, eventsDefault: 0, stateDefault: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
        },
      },
    ]);
    const r = await membersCommand.run(roomsCtx(rooms), []);
    expect(r.body).toBe(
      [
        'X has 4 members:',
        '• @alice:hs.test (@bob:hs.test)',
        '• @rk:hs.test',
        '• Sam (@alice:hs.test) — admin',
        '• Zed (@zed:hs.test) — moderator',
      ].join('\n'),
    );
  });

  it('shows version 12 creators as creators', async () => {
    const rooms = new FakeRooms([{ id: '!x:hs.test', name: 'X', members: ['@rk:hs.test', ['@alice:hs.test', 'Alice']], more: { version: '12', creators: [uid('@alice:hs.test')] } }]);
    expect((await membersCommand.run(roomsCtx(rooms), [])).body).toContain('• Alice (@alice:hs.test) — creator');
  });
});
