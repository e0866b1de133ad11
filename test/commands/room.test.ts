import { describe, expect, it } from 'vitest';
import { roomCommand } from '../../src/commands/room.js';
import { FakeRooms } from './fake-rooms.js';
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
        '• Encrypted: yes',
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
});
