/**
 * The README's change-log recipe, verbatim between the markers (test/library/readme.test.ts
 * checks that), type-checked with the rest and run by that test.
 */
// README:begin
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Roomkeeper } from 'roomkeeper';

/** Tells `say` of every join, leave, kick and ban once, across restarts: the cursor is kept in `cursorFile`. */
export async function followMembers(keeper: Roomkeeper, cursorFile: string, say: (text: string) => Promise<void>) {
  // No file yet: from the start. Any other error is not "no cursor": it must not replay everything.
  const after = await readFile(cursorFile, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)),
  );
  // Stored changes after the cursor first, then each new one as it is committed; close() ends it.
  for await (const change of keeper.changes({ after })) {
    if (change.kind === 'joined' || change.kind === 'left' || change.kind === 'kicked' || change.kind === 'banned') {
      await say(`${change.userId} ${change.kind} ${change.roomId}${change.sender === change.userId ? '' : ` (by ${change.sender})`}`);
    }
    // Whole or not at all: a crash mid-write must not leave half a cursor.
    await writeFile(`${cursorFile}.tmp`, change.cursor);
    await rename(`${cursorFile}.tmp`, cursorFile);
  }
}

/** The last ten changes of one room, newest first, from its own range of the log. */
export async function lastChanges(keeper: Roomkeeper, roomId: string): Promise<string[]> {
  const changes = await keeper.history({ room: roomId, limit: 10 });
  return changes.map((c) => `${new Date(c.ts).toISOString()} ${c.kind}`);
}
// README:end
