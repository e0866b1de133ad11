import type { Invocation } from '../../src/commands/command.js';
import type { RoomsDeps } from '../../src/commands/shared-rooms.js';
import { FakeRooms, uid } from './fake-rooms.js';

export const bot = uid('@rk:hs.test');
export const alice = uid('@alice:hs.test');
export const bob = uid('@bob:hs.test');
export const carol = uid('@carol:hs.test');

/** 2024-05-01T12:00:00Z */
export const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

/**
 * Alice's !rooms: 1 #nameless:hs.test, 2 Random, 3 Team chat.
 * Bob's !rooms: 1 !bare:hs.test, 2 Bob zone, 3 Bob's secret plans, 4 Bobs, 5 Team chat.
 */
export function makeWorld(): FakeRooms {
  return new FakeRooms([
    {
      id: '!team:hs.test',
      name: 'Team chat',
      alias: '#team:hs.test',
      topic: 'Planning & things',
      encrypted: true,
      joinedAt: NOW - 3 * 86_400_000,
      members: [['@rk:hs.test', 'roomkeeper'], ['@alice:hs.test', 'Alice'], ['@bob:hs.test', 'Bob'], '@carol:hs.test'],
    },
    { id: '!random:hs.test', name: 'Random', members: ['@rk:hs.test', '@alice:hs.test'] },
    { id: '!noname:hs.test', alias: '#nameless:hs.test', members: ['@rk:hs.test', '@alice:hs.test'] },
    { id: '!secret:hs.test', name: "Bob's secret plans", alias: '#secret:hs.test', topic: 'do not tell alice', members: ['@rk:hs.test', '@bob:hs.test', '@carol:hs.test'] },
    { id: '!bare:hs.test', members: ['@rk:hs.test', '@bob:hs.test'] },
    { id: '!bobzone:hs.test', name: 'Bob zone', members: ['@rk:hs.test', '@bob:hs.test'] },
    { id: '!bobs:hs.test', name: 'Bobs', members: ['@rk:hs.test', '@bob:hs.test'] },
  ]);
}

/** The context a room command gets when `sender` runs it. */
export function roomsCtx(rooms: FakeRooms, sender = alice, extra: Partial<Invocation> = {}): RoomsDeps & Invocation {
  return { rooms, botId: bot, sender, now: NOW, isAdmin: false, prefix: '!', ...extra };
}
