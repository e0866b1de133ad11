import { describe, expect, it } from 'vitest';
import { roomCommand } from '../../src/commands/room.js';
import { FakeRooms, rid, uid } from './fake-rooms.js';
import { makeWorld, roomsCtx } from './world.js';

const run = (args: string[], rooms = makeWorld()) => roomCommand.run(roomsCtx(rooms), args);

describe('room', () => {
  it('shows name, alias, topic, id, members, encryption and join time', async () => {
    const r = await run(['3']);
    expect(r.body).toBe(
      [
        'Team chat (number 3 in your list)',
        '• Name: Team chat',
        '• Alias: #team:hs.test',
        '• Topic: Planning & things',
        '• Room id: !team:hs.test',
        '• Members: 4 members',
        '• Admins: unknown',
        '• Moderators: unknown',
        '• Join rule: unknown',
        '• Encrypted: yes',
        '• Room version: unknown',
        '• I joined: 2024-04-28 12:00 UTC (3d ago)',
      ].join('\n'),
    );
  });

  it('finds the room by id', async () => {
    expect((await run(['!random:hs.test'])).body).toMatch(/^Random /);
  });

  it('finds the room by alias', async () => {
    expect((await run(['#team:hs.test'])).body).toMatch(/^Team chat /);
  });

  it('finds the room by a name substring given as several words', async () => {
    expect((await run(['team', 'CHAT'])).body).toMatch(/^Team chat /);
  });

  it('lists the candidates when the ref is ambiguous', async () => {
    const r = await run(['a']);
    expect(r.body).toBe(
      ['“a” matches 3 of our rooms:', '• 1 #nameless:hs.test — 2 members', '• 2 Random — 2 members', '• 3 Team chat — 4 members', 'Say !room NUMBER with one of these numbers.'].join('\n'),
    );
  });

  it('says it knows no such room when the ref is unknown', async () => {
    expect((await run(['nonsense'])).body).toMatch(/^I know no room “nonsense” among the rooms we share\./);
  });

  it('asks which room when several are shared and no ref is given', async () => {
    expect((await run([])).body).toMatch(/^We share 3 rooms; say which one/);
  });

  it('shows the only shared room when no ref is given', async () => {
    const rooms = new FakeRooms([{ id: '!solo:hs.test', name: 'Solo', members: ['@rk:hs.test', '@alice:hs.test'] }]);
    expect((await run([], rooms)).body).toMatch(/^Solo \(number 1/);
  });

  it('says unknown for what it does not know about a room', async () => {
    const r = await run(['Random']);
    expect(r.body).toContain('Alias: (none)');
    expect(r.body).toContain('I joined: unknown');
    expect(r.body).toContain('Encrypted: no');
  });

  it('escapes HTML in the topic and in the echoed ref', async () => {
    expect((await run(['3'])).formatted_body).toContain('Planning &amp; things');
    const r = await run(['<script>']);
    expect(r.formatted_body).toContain('&lt;script&gt;');
    expect(r.formatted_body).not.toContain('<script>');
  });

  it('counts invited, knocking and banned members and names the admins and moderators', async () => {
    const rooms = new FakeRooms([
      {
        id: '!ops:hs.test',
        name: 'Ops',
        members: [
          '@rk:hs.test',
          ['@alice:hs.test', 'Alice'],
          ['@bob:hs.test', 'Bob'],
          ['@dan:hs.test', undefined, 'invite'],
          ['@eve:hs.test', 'Eve', 'invite'],
          ['@mal:hs.test', undefined, 'ban'],
          ['@kim:hs.test', undefined, 'knock'],
          ['@old:hs.test', undefined, 'leave'],
        ],
        more: {
          version: '10',
          joinRule: 'knock',
          creators: [uid('@alice:hs.test')],
          powerLevels: { users: { '@alice:hs.test': 100, '@bob:hs.test': 50 }, usersDefault: 0, events: {}, eventsDefault: 0, stateDefault: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
        },
      },
    ]);
    const body = (await run(['Ops'], rooms)).body;
    expect(body).toContain('• Members: 3 members; 2 invited, 1 knocking, 1 banned');
    expect(body).toContain('• Admins: Alice (@alice:hs.test)');
    expect(body).toContain('• Moderators: Bob (@bob:hs.test)');
    expect(body).toContain('• Join rule: knock');
    expect(body).toContain('• Room version: 10');
    expect(body).not.toContain('Creators');
  });

  it('names each admin once with their id, also when two share a display name', async () => {
    const rooms = new FakeRooms([
      {
        id: '!ops:hs.test',
        name: 'Ops',
        members: ['@rk:hs.test', ['@alice:hs.test', 'Sam'], ['@bob:hs.test', 'Sam'], ['@carl:hs.test', 'Carl']],
        more: {
          powerLevels: { users: { '@alice:hs.test': 100, '@bob:hs.test': 100, '@carl:hs.test': 50 }, usersDefault: 0, events: {}, eventsDefault: 0, stateDefault: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
        },
      },
    ]);
    const body = (await run(['Ops'], rooms)).body;
    expect(body).toContain('• Admins: Sam (@alice:hs.test), Sam (@bob:hs.test)');
    expect(body).toContain('• Moderators: Carl (@carl:hs.test)');
  });

  it('says which room replaced an upgraded room, which one it replaced, and its space', async () => {
    const rooms = new FakeRooms([
      {
        id: '!v2:hs.test',
        name: 'Lounge',
        members: ['@rk:hs.test', '@alice:hs.test'],
        more: {
          version: '12',
          creators: [uid('@alice:hs.test'), uid('@bob:hs.test')],
          predecessor: { roomId: rid('!v1:hs.test') },
          successor: { roomId: rid('!v3:hs.test'), body: 'moved again' },
          spaceParents: [rid('!space:hs.test')],
        },
      },
    ]);
    const body = (await run([], rooms)).body;
    expect(body).toContain('• Creators: @alice:hs.test, @bob:hs.test');
    expect(body).toContain('• Replaces: !v1:hs.test');
    expect(body).toContain('• Replaced by: !v3:hs.test (“moved again”)');
    expect(body).toContain('• In space: !space:hs.test');
  });

  it('names a room without name or alias after its other members', async () => {
    const rooms = new FakeRooms([{ id: '!dm:hs.test', members: ['@rk:hs.test', ['@alice:hs.test', 'Alice Liddell']] }]);
    expect((await run([], rooms)).body).toMatch(/^Alice Liddell \(number 1/);
  });
});
