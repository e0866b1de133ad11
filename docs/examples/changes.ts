/**
 * The README's change-log recipe, verbatim between the markers (test/library/readme.test.ts
 * checks that), type-checked with the rest and run by that test.
 */
// README:begin
import { readFile, writeFile } from 'node:fs/promises';
import type { Roomkeeper } from 'roomkeeper';

/** Tells `say` of every join, leave, kick and ban once, across restarts: the cursor is kept in `cursorFile`. */
export async function followMembers(keeper: Roomkeeper, cursorFile: string, say: (text: string) => Promise<void>) {
  const after = await readFile(cursorFile, 'utf8').catch(() => undefined);
  // Stored changes after the cursor first, then each new one as it is committed; close() ends it.
  for await (const change of keeper.changes({ after })) {
    if (change.kind === 'joined' || change.kind === 'left' || change.kind === 'kicked' || change.kind === 'banned') {
      await say(`${change.userId} ${change.kind} ${change.roomId}${change.sender === change.userId ? '' : ` (by ${change.sender})`}`);
    }
    await writeFile(cursorFile, change.cursor);
  }
}

/** The last ten changes of one room, newest first, from its own range of the log. */
export async function lastChanges(keeper: Roomkeeper, roomId: string): Promise<string[]> {
  const changes = await keeper.history({ room: roomId, limit: 10 });
  return changes.map((c) => `${new Date(c.ts).toISOString()} ${c.kind}`);
}
// README:end
