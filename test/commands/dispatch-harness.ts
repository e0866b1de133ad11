import { vi } from 'vitest';
import type { DispatchDeps } from '../../src/commands/dispatch.js';
import { handleCommand } from '../../src/commands/dispatch.js';
import type { RoomFacts } from '../../src/commands/dm-policy.js';
import { RateLimiter } from '../../src/commands/rate-limit.js';
import { builtinCommands, createRegistry } from '../../src/commands/registry.js';
import type { StatusSource } from '../../src/commands/status.js';
import { createLogger } from '../../src/log.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { rid } from './fake-rooms.js';
import { NOW, alice, bob, bot, makeWorld } from './world.js';

/** The DM of each test user with the bot. */
export const dmOf = { alice: rid('!dm-alice:hs.test'), bob: rid('!dm-bob:hs.test') };

/** A dispatcher over the test world with every service faked, and its log lines kept. */
export function makeHarness(over: Partial<DispatchDeps> = {}) {
  const logLines: string[] = [];
  const facts = new Map<RoomId, RoomFacts>([
    [dmOf.alice, { isDirect: true, joinedMembers: [bot, alice], privateOnlyNoticeSent: false }],
    [dmOf.bob, { isDirect: true, joinedMembers: [bot, bob], privateOnlyNoticeSent: false }],
  ]);
  /** Rooms the homeserver says are not private (members beyond the bot and the sender). */
  const notPrivateOnServer = new Set<RoomId>();
  const serverChecks: RoomId[] = [];
  const status: StatusSource = {
    version: '0.1.0',
    startedAt: NOW - 60_000,
    stats: () => Promise.resolve({ roomsTracked: 7, usersTracked: 5, eventsApplied: 10, duplicatesSkipped: 0, invalidEvents: 0, lastSyncAt: NOW }),
    adminStats: () => Promise.resolve({ dataDirBytes: 1024, guardEntries: 10 }),
  };
  const deps: DispatchDeps = {
    rooms: makeWorld(),
    changes: { history: () => Promise.resolve([]) },
    botId: bot,
    status,
    reconcile: vi.fn(() => Promise.resolve({ purged: 0, snapshotted: 0, unchanged: 7, failed: 0 })),
    prune: vi.fn(() => Promise.resolve(3)),
    defaultPruneAgeMs: 86_400_000,
    prefix: '!',
    admins: new Set<UserId>(),
    groupRoomCommands: new Set<string>(),
    registry: createRegistry(builtinCommands),
    directRooms: {
      factsOf: (roomId) => Promise.resolve(facts.get(roomId) ?? { isDirect: false, joinedMembers: [], privateOnlyNoticeSent: false }),
      markPrivateOnlyNoticeSent: (roomId) => {
        const f = facts.get(roomId);
        if (f) facts.set(roomId, { ...f, privateOnlyNoticeSent: true });
        return Promise.resolve();
      },
      isPrivateOnServer: (roomId) => {
        serverChecks.push(roomId);
        return Promise.resolve(!notPrivateOnServer.has(roomId));
      },
    },
    rateLimiter: new RateLimiter(),
    log: createLogger({ level: 'debug', destination: { write: (s: string) => void logLines.push(s) } }),
    ...over,
  };
  let clock = NOW;
  /** Sends `body` as `sender` in their DM (or `roomId`), one second after the previous message. */
  const handle = (sender: UserId, body: string, roomId?: RoomId) => {
    clock += 1000;
    const room = roomId ?? (sender === bob ? dmOf.bob : dmOf.alice);
    return handleCommand(deps, { sender, roomId: room, body, now: clock });
  };
  /** The reply to `body`, undefined when there is none. */
  const send = async (sender: UserId, body: string, roomId?: RoomId) => (await handle(sender, body, roomId)).reply;
  const logs = () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { deps, facts, notPrivateOnServer, serverChecks, handle, send, logs, advance: (ms: number) => void (clock += ms) };
}
