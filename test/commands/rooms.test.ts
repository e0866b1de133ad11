import { describe, expect, it } from 'vitest';
import { MAX_LISTED_ROOMS, roomsCommand } from '../../src/commands/rooms.js';
import { FakeRooms, rid } from './fake-rooms.js';
import { bob, makeWorld, roomsCtx } from './world.js';

describe('rooms', () => {
  it('lists the shared rooms numbered, by label, with member counts', async () => {
    const r = await roomsCommand.run(roomsCtx(makeWorld()), []);
    expect(r.body).toBe(
      ['We share 3 rooms:', '1. #nameless:hs.test — 2 members', '2. Random — 2 members', '3. Team chat — 4 members', 'Say !room NUMBER for details.'].join('\n'),
    );
  });

  it('numbers another user’s rooms from their own list', async () => {
    const r = await roomsCommand.run(roomsCtx(makeWorld(), bob), []);
    expect(r.body).toContain("3. Bob's secret plans — 3 members");
  });

  it('says so when no room is shared', async () => {
    const r = await roomsCommand.run(roomsCtx(new FakeRooms()), []);
    expect(r.body).toMatch(/share no rooms/);
  });

  it('cuts a long list and counts the rest', async () => {
    const rooms = new FakeRooms();
    for (let i = 0; i < MAX_LISTED_ROOMS + 7; i++) {
      rooms.add({ id: `!r${String(i).padStart(3, '0')}:hs.test`, members: ['@rk:hs.test', '@alice:hs.test'] });
    }
    const r = await roomsCommand.run(roomsCtx(rooms), []);
    expect(r.body).toContain(`${MAX_LISTED_ROOMS}. `);
    expect(r.body).not.toContain(`${MAX_LISTED_ROOMS + 1}. `);
    expect(r.body).toContain('… and 7 more');
  });

  it('escapes HTML in a room name', async () => {
    const rooms = new FakeRooms([{ id: '!x:hs.test', name: '<img src=x onerror=alert(1)>', members: ['@rk:hs.test', '@alice:hs.test'] }]);
    const r = await roomsCommand.run(roomsCtx(rooms), []);
    expect(r.formatted_body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.formatted_body).not.toContain('<img');
  });

  it('names rooms as clients do, marks direct chats and rooms replaced by an upgrade', async () => {
    const rooms = new FakeRooms([
      { id: '!dm:hs.test', members: ['@rk:hs.test', ['@alice:hs.test', 'Alice Liddell']] },
      { id: '!trio:hs.test', members: ['@rk:hs.test', ['@alice:hs.test', 'Alice'], ['@bob:hs.test', 'Bob']] },
      { id: '!old:hs.test', name: 'Lounge', members: ['@rk:hs.test', '@alice:hs.test', '@bob:hs.test'], more: { successor: { roomId: rid('!new:hs.test') } } },
      { id: '!new:hs.test', name: 'Lounge', members: ['@rk:hs.test', '@alice:hs.test', '@bob:hs.test'], more: { predecessor: { roomId: rid('!old:hs.test') } } },
    ]);
    const r = await roomsCommand.run(roomsCtx(rooms), []);
    expect(r.body).toBe(
      [
        'We share 4 rooms:',
        '1. Alice and Bob — 3 members',
        '2. Alice Liddell — 2 members · DM',
        '3. Lounge — 3 members',
        '4. Lounge — 3 members (replaced by a newer room)',
        'Say !room NUMBER for details.',
      ].join('\n'),
    );
  });
});
