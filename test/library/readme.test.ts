import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot } from '../../docs/examples/attach.js';
import { followMembers, lastChanges } from '../../docs/examples/changes.js';
import { openRoomkeeper } from 'roomkeeper';
import { SyncBuilder } from '../support/sync-builder.js';
import { startFakeHomeserver, type JsonObject } from '../support/fake-homeserver.js';
import { TempDirs } from '../support/temp-dir.js';
import { LogLevel, LogService } from '../../src/matrix/sdk-exports.js';

// The SDK's own info lines ("Client stop requested", …) are noise here.
LogService.setLevel(LogLevel.WARN);

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

/** The code block of a README section. */
function codeBlockOf(markdown: string, heading: string): string {
  const section = markdown.slice(markdown.indexOf(`\n## ${heading}\n`));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (m === null) throw new Error(`no ts code block under "## ${heading}"`);
  return m[1]!;
}

/** A file's text between its `// README:begin` and `// README:end` lines. */
function betweenMarkers(file: string): string {
  const text = readFileSync(join(root, file), 'utf8');
  return text.slice(text.indexOf('// README:begin\n') + '// README:begin\n'.length, text.indexOf('// README:end'));
}

describe('README "Embedding the library"', () => {
  it('shows docs/examples/changes.ts verbatim as its change-log recipe', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(betweenMarkers('docs/examples/changes.ts'));
  });

  it('tells each membership change once across a restart with the change-log recipe', async () => {
    const dataDir = await dirs.make();
    const cursorFile = join(dataDir, 'cursor');
    const s = new SyncBuilder();
    const heard: string[] = [];
    const run = async (body: unknown) => {
      const keeper = await openRoomkeeper({ dataDir: join(dataDir, 'rk'), botUserId: '@bot:x', create: true });
      const following = followMembers(keeper, cursorFile, (text) => Promise.resolve(void heard.push(text)));
      await keeper.process(body);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const last = await lastChanges(keeper, '!r:x');
      await keeper.close();
      await following;
      return last;
    };
    await run(s.response({ '!r:x': { timeline: [s.member('@bot:x', 'join'), s.member('@alice:x', 'join')] } }));
    const last = await run(s.response({ '!r:x': { timeline: [s.member('@bob:x', 'join'), s.member('@bob:x', 'leave', { sender: '@alice:x' })] } }));
    expect(heard).toEqual(['@bot:x joined !r:x', '@bob:x joined !r:x', '@bob:x kicked !r:x (by @alice:x)']);
    expect(last.map((l) => l.split(' ')[1])).toEqual(['kicked', 'joined', 'rebuilt', 'joined']);
  });

  it('shows docs/examples/attach.ts verbatim, which the type-check compiles', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = readFileSync(join(root, 'docs/examples/attach.ts'), 'utf8');
    const between = example.slice(example.indexOf('// README:begin\n') + '// README:begin\n'.length, example.indexOf('// README:end'));
    expect(between.length).toBeGreaterThan(200);
    expect(codeBlockOf(readme, 'Embedding the library')).toBe(between);
  });

  it('answers !where with the rooms the sender shares with the bot, the join in the same sync included', async () => {
    const hs = await startFakeHomeserver();
    const bot = await startBot(hs.url, hs.botToken, await dirs.make());
    try {
      const alice = hs.userId('alice');
      const bob = hs.userId('bob');
      const rooms = [hs.createRoom(alice), hs.createRoom(alice)];
      for (const r of rooms) hs.invite(r, alice, hs.botUserId);
      await hs.waitFor(() => rooms.every((r) => hs.membership(r, hs.botUserId) === 'join'), 10_000, 'the bot joined');
      hs.invite(rooms[0]!, alice, bob);
      hs.join(rooms[0]!, bob);
      hs.sendMessage(rooms[0]!, bob, '!where');
      const reply = await hs.waitForSent((e) => e['room_id'] === rooms[0], 10_000);
      expect((reply['content'] as JsonObject)['body']).toContain('You share 1 room(s) with me.');
    } finally {
      await bot.stop();
      await hs.close();
    }
  });
});
