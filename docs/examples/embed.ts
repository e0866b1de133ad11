/**
 * Embedding roomkeeper in another bot: open the store, feed it whole /sync bodies, ask it who is
 * where. Run by the test suite (test/docs/embed-example.test.ts) against recorded bodies.
 */
import { openRoomkeeper, parseUserId } from 'roomkeeper';

export async function example(dataDir: string, syncBodies: readonly unknown[]): Promise<string[]> {
  const keeper = await openRoomkeeper({ dataDir, botUserId: '@mybot:example.org', create: true });
  try {
    // In a live bot, each whole /sync response body goes here, in order, before the next sync.
    for (const body of syncBodies) await keeper.process(body);

    const alice = parseUserId('@alice:example.org');
    if (alice === undefined) throw new TypeError('not a user id');
    const lines: string[] = [];
    for (const roomId of await keeper.rooms.roomsOf(alice)) {
      const info = await keeper.rooms.info(roomId);
      const members = await keeper.rooms.membersOf(roomId);
      lines.push(`${info?.name ?? roomId}: ${members.map((m) => m.displayName ?? m.userId).join(', ')}`);
    }
    return lines;
  } finally {
    await keeper.close();
  }
}
