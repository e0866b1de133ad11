import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { finished, runCli, startCli, type CliResult } from '../support/cli.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

const BOT = '@bot:x';
const dirs = new TempDirs();
let stream: string;
let file: string;
let botJoinB: number;

beforeAll(async () => {
  const s = new SyncBuilder();
  const alice = s.member('@alice:x', 'join', { displayname: 'Alice' });
  const botB = s.member(BOT, 'join');
  botJoinB = botB.origin_server_ts as number;
  const line1 = s.response({
    '!b:x': { state: [alice, s.name('@alice:x', 'Beta'), s.topic('@alice:x', 'chat')], timeline: [botB] },
    '!a:xy': { state: [s.member('@al:xy', 'join')], timeline: [s.member(BOT, 'join'), s.encryption('@al:xy')] },
  });
  const aliceA = s.member('@alice:x', 'join');
  const line2 = s.response({
    '!a:x': { state: [s.member('@al:x', 'join')], timeline: [s.member(BOT, 'join'), s.alias('@al:x', '#a:x'), aliceA, aliceA] },
    '!b:x': { timeline: [s.message('@alice:x', 'hello')] },
  });
  const line4 = s.response({
    '!a:xy': { timeline: [s.member('@al:x', 'join'), { ...s.member('@mallory:x', 'join'), content: 'join' }] },
    '!c:x': { timeline: [s.member(BOT, 'join'), s.member('@carol:x', 'join')] },
  });
  const line6 = s.response({}, { '!c:x': { timeline: [s.member(BOT, 'leave', { sender: '@carol:x', prev: 'join' })] } });
  stream = [JSON.stringify(line1), JSON.stringify(line2), '{"next_batch": "s3", "rooms":', JSON.stringify(line4), '', JSON.stringify(line6)].join('\n') + '\n';
  file = join(await dirs.make(), 'sync.jsonl');
  await writeFile(file, stream);
});

afterAll(() => dirs.cleanup());

const EXPECTED_SUMMARY =
  'responses: 4\nevents applied: 16\nduplicates skipped: 1\ninvalid events rejected: 1\nlines not a JSON object: 1\nlines too long: 0\n';

const EXPECTED_DOC = {
  rooms: [
    { roomId: '!a:x', displayName: '#a:x', name: null, canonicalAlias: '#a:x', topic: null, encrypted: false, members: ['@al:x', '@alice:x', BOT], invited: [], banned: [], knocking: [], version: null, predecessor: null, successor: null },
    { roomId: '!a:xy', displayName: '@al:x and @al:xy', name: null, canonicalAlias: null, topic: null, encrypted: true, members: ['@al:x', '@al:xy', BOT], invited: [], banned: [], knocking: [], version: null, predecessor: null, successor: null },
    { roomId: '!b:x', displayName: 'Beta', name: 'Beta', canonicalAlias: null, topic: 'chat', encrypted: false, members: ['@alice:x', BOT], invited: [], banned: [], knocking: [], version: null, predecessor: null, successor: null },
  ],
  users: [
    { userId: '@al:x', rooms: ['!a:x', '!a:xy'] },
    { userId: '@al:xy', rooms: ['!a:xy'] },
    { userId: '@alice:x', rooms: ['!a:x', '!b:x'] },
    { userId: BOT, rooms: ['!a:x', '!a:xy', '!b:x'] },
  ],
};

/** Replays the stream once into a new data directory and returns the directory and the run's output. */
async function replayOnce(): Promise<{ dataDir: string; run: CliResult }> {
  const dataDir = await dirs.make();
  const run = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, file]);
  expect(run.code, run.stderr).toBe(0);
  return { dataDir, run };
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function replayed(): Promise<string> {
  const dataDir = await dirs.make();
  const r = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, file]);
  expect(r.code, r.stderr).toBe(0);
  return dataDir;
}

async function inspectJson(dataDir: string): Promise<string> {
  const r = await runCli(['inspect', '--data-dir', dataDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** A usage error: one line saying what is wrong, then the command's usage, exit code 2. */
function expectUsageFailure(r: CliResult, command: string, ...fragments: string[]): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^roomkeeper: /);
  expect(lines[1]).toMatch(new RegExp(`^usage: roomkeeper${command === '' ? '' : ` ${command}`} `));
  expect(lines[2]).toBe(`(roomkeeper${command === '' ? '' : ` ${command}`} --help lists every option)`);
  for (const f of fragments) expect(lines[0]).toContain(f);
}

/** An expected failure: one readable line on stderr, no stack trace, exit code 2. */
function expectOneLineFailure(r: CliResult, ...fragments: string[]): void {
  expect(r.code).toBe(2);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^roomkeeper: /);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  for (const f of fragments) expect(r.stderr).toContain(f);
}

describe('roomkeeper CLI', () => {
  // One replay of the stream, shared by the tests that only read its output or its data directory
  // (spawning node is most of this file's run time).
  let first: { dataDir: string; run: CliResult };
  beforeAll(async () => {
    first = await replayOnce();
  });

  describe('replay', () => {
    it('prints the summary of responses, applied, duplicate and invalid events when a file is replayed', () => {
      expect(first.run.stdout).toBe(EXPECTED_SUMMARY);
    });

    it('prints the summary as JSON when --json is given', async () => {
      const r = await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, '--json', file]);
      expect(JSON.parse(r.stdout)).toEqual({ responses: 4, applied: 16, duplicates: 1, invalid: 1, badLines: 1, longLines: 0 });
    });

    it('changes nothing and applies no event when the same file is replayed again', async () => {
      const { dataDir } = await replayOnce();
      const before = await inspectJson(dataDir);
      const again = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '--json', file]);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ responses: 4, applied: 0, duplicates: 17, invalid: 1, badLines: 1, longLines: 0 });
      expect(await inspectJson(dataDir)).toBe(before);
    });

    it('reads the stream from stdin when the file is -', async () => {
      const dataDir = await dirs.make();
      const r = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '-'], stream);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(EXPECTED_SUMMARY);
      expect(JSON.parse(await inspectJson(dataDir))).toEqual(EXPECTED_DOC);
    });

    it('reports a line that is not JSON with its line number, and replays the lines after it', async () => {
      expect(logLines(first.run.stderr)).toContainEqual(expect.objectContaining({ level: 40, line: 3, msg: 'line is not JSON; skipped' }));
      // Line 4 came after the bad line and still reached the store.
      expect(JSON.parse(await inspectJson(first.dataDir)).users[0]).toEqual({ userId: '@al:x', rooms: ['!a:x', '!a:xy'] });
    });

    it('logs the invalid event of the stream with its room and event id', () => {
      const invalid = logLines(first.run.stderr).filter((l) => l.msg === 'invalid event skipped');
      expect(invalid).toEqual([expect.objectContaining({ level: 40, roomId: '!a:xy', eventId: expect.stringMatching(/^\$e\d+$/) })]);
    });
  });

  describe('inspect', () => {
    let dataDir: string;
    beforeAll(() => {
      dataDir = first.dataDir;
    });

    it('prints exactly one JSON object with rooms, users and lists sorted by id when --json is given', async () => {
      const out = await inspectJson(dataDir);
      expect(out.endsWith('\n')).toBe(true);
      expect(out.trimEnd().split('\n')).toHaveLength(1);
      expect(out).toBe(JSON.stringify(EXPECTED_DOC) + '\n');
    });

    it('refuses a data directory without a database and creates nothing in it', async () => {
      const empty = await dirs.make();
      const r = await runCli(['inspect', '--data-dir', empty, '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`roomkeeper: no roomkeeper data directory at ${empty}\n`);
      expect(await readdir(empty)).toEqual([]);
      const missing = join(empty, 'typo');
      expect((await runCli(['prune', '--data-dir', missing, '--older-than', '30d'])).stderr).toContain(`no roomkeeper data directory at ${missing}`);
      expect(await readdir(empty)).toEqual([]);
    });

    it('describes one room in readable text when asked for a room', async () => {
      const r = await runCli(['inspect', '--data-dir', dataDir, 'room', '!b:x']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.slice(0, 11)).toEqual([
        'room        !b:x',
        'shown as    Beta',
        'name        Beta',
        'alias       (none)',
        'topic       chat',
        'encrypted   no',
        'version     unknown',
        'join rule   unknown',
        'history     unknown',
        'guests      unknown',
        'admins      (none)',
      ]);
      expect(lines).toContain(`joined at   ${new Date(botJoinB).toISOString()}`);
      expect(lines.slice(lines.indexOf('members     2'))).toEqual([
        'members     2',
        '  @alice:x (Alice)',
        `  ${BOT}`,
        'invited     (none)',
        'banned      (none)',
        'knocking    (none)',
        'left        0',
      ]);
    });

    it('exits 2 with one line saying a room is not tracked when the bot was never in it or has left it', async () => {
      for (const roomId of ['!c:x', '!nope:x']) {
        for (const json of [[], ['--json']]) {
          const r = await runCli(['inspect', '--data-dir', dataDir, 'room', roomId, ...json]);
          expectOneLineFailure(r, `${roomId} is not tracked`);
          expect(r.stdout).toBe('');
        }
      }
    });

    it('prints one room as one JSON object with display names when --json is given', async () => {
      const r = await runCli(['inspect', '--data-dir', dataDir, 'room', '!b:x', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(JSON.parse(r.stdout)).toEqual({
        roomId: '!b:x',
        name: 'Beta',
        canonicalAlias: null,
        topic: 'chat',
        encrypted: false,
        joinedAt: new Date(botJoinB).toISOString(),
        updatedAt: expect.any(String),
        displayName: 'Beta',
        members: [
          { userId: '@alice:x', displayName: 'Alice', shownAs: 'Alice', role: 'user' },
          { userId: BOT, displayName: null, shownAs: BOT, role: 'user' },
        ],
        invited: [],
        banned: [],
        knocking: [],
        left: 0,
        version: null,
        roomType: null,
        creators: [],
        admins: [],
        moderators: [],
        joinRule: null,
        historyVisibility: null,
        guestAccess: null,
        predecessor: null,
        successor: null,
        spaceParents: [],
        spaceChildren: [],
        needsRefresh: false,
      });
    });

    it('prints the rooms of one user as one JSON object when --json is given', async () => {
      const r = await runCli(['inspect', '--data-dir', dataDir, 'user', '@alice:x', '--json']);
      expect(JSON.parse(r.stdout)).toEqual({ userId: '@alice:x', rooms: [{ roomId: '!a:x', name: null }, { roomId: '!b:x', name: 'Beta' }] });
    });

    it('prints the change log newest first, by room or user, as text or JSON', async () => {
      const all = await runCli(['inspect', '--data-dir', dataDir, 'history']);
      expect(all.code, all.stderr).toBe(0);
      const lines = all.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(/^\d+ changes, newest first$/);
      // The bot kicked out of !c:x is the last change of the stream.
      expect(lines[0]).toMatch(new RegExp(`!c:x  kicked ${BOT} join → leave by @carol:x, room forgotten \\(event\\)$`));
      const room = await runCli(['inspect', '--data-dir', dataDir, 'history', '--room', '!a:xy', '--json']);
      const { changes } = JSON.parse(room.stdout) as { changes: { roomId: string; kind: string; cursor: string }[] };
      expect(changes.map((c) => c.kind)).toEqual(['joined', 'rebuilt', 'joined']);
      expect(changes.every((c) => c.roomId === '!a:xy')).toBe(true);
      expect([...changes.map((c) => c.cursor)].sort().reverse()).toEqual(changes.map((c) => c.cursor));
      const user = await runCli(['inspect', '--data-dir', dataDir, 'history', '--user', '@al:x', '--json']);
      expect((JSON.parse(user.stdout) as { changes: { roomId: string }[] }).changes.map((c) => c.roomId)).toEqual(['!a:xy']);
      expectUsageFailure(await runCli(['inspect', '--data-dir', dataDir, 'history', '--room', 'nope']), 'inspect', '"nope" is not a room id');
    });

    it('lists the rooms of one user in readable text when asked for a user', async () => {
      const r = await runCli(['inspect', '--data-dir', dataDir, 'user', '@alice:x']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('user   @alice:x\nrooms  2\n  !a:x\n  !b:x (Beta)\n');
      const carol = await runCli(['inspect', '--data-dir', dataDir, 'user', '@carol:x']);
      expect(carol.stdout).toBe('@carol:x: in no tracked room\n');
    });
  });

  describe('prune', () => {
    it('removes guard entries older than the age and leaves the rooms alone', async () => {
      const dataDir = await replayed();
      const before = await inspectJson(dataDir);
      const young = await runCli(['prune', '--data-dir', dataDir, '--older-than', '30d']);
      expect(young.code, young.stderr).toBe(0);
      expect(young.stdout).toMatch(/^pruned 0 guard entries older than 30d/);
      await sleep(5);
      const all = await runCli(['prune', '--data-dir', dataDir, '--older-than', '1ms', '--force']);
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toMatch(/^pruned 16 guard entries older than 1ms and 0 changes older than 90d/);
      const changes = await runCli(['prune', '--data-dir', dataDir, '--older-than', '30d', '--changes-older-than', '1ms']);
      expect(changes.stdout).toMatch(/^pruned 0 guard entries older than 30d and 10 changes older than 1ms/);
      expect((await runCli(['inspect', '--data-dir', dataDir, 'history'])).stdout).toBe('0 changes, newest first\n');
      expect((await runCli(['prune', '--data-dir', dataDir, '--older-than', '1ms', '--force'])).stdout).toMatch(/^pruned 0 /);
      expect(await inspectJson(dataDir)).toBe(before);
    });

    it('refuses an age under 1h without --force and prunes nothing', async () => {
      const dataDir = await replayed();
      for (const age of ['0s', '59m']) {
        expectUsageFailure(await runCli(['prune', '--data-dir', dataDir, '--older-than', age]), 'prune', `"${age}" is shorter than 1h`, '--force');
      }
      await sleep(5);
      // Nothing went: the forced prune still finds every entry.
      expect((await runCli(['prune', '--data-dir', dataDir, '--older-than', '1ms', '--force'])).stdout).toMatch(/^pruned 16 /);
    });

    it('fails with the usage when the age is not a duration', async () => {
      expectUsageFailure(await runCli(['prune', '--data-dir', await dirs.make(), '--older-than', 'soon']), 'prune', '--older-than', 'soon');
    });
  });

  describe('errors', () => {
    it('fails with a line naming the flag and the usage when a flag is unknown', async () => {
      expectUsageFailure(await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, '--bogus', file]), 'replay', '--bogus');
      expectUsageFailure(await runCli(['inspect', '--data-dir', await dirs.make(), '--verbose']), 'inspect', '--verbose');
    });

    it('fails with one line naming the file when the file does not exist', async () => {
      const missing = join(await dirs.make(), 'missing.jsonl');
      expectOneLineFailure(await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, missing]), missing);
    });

    it('fails with one line naming the file when the file is a directory', async () => {
      const dir = await dirs.make();
      expectOneLineFailure(await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', BOT, dir]), dir, 'directory');
    });

    it('fails with a line and the usage when the user id is not a user id', async () => {
      expectUsageFailure(await runCli(['replay', '--data-dir', await dirs.make(), '--user-id', 'bot', file]), 'replay', '"bot"');
      expectUsageFailure(await runCli(['inspect', '--data-dir', await dirs.make(), 'user', 'alice']), 'inspect', '"alice"');
    });

    it('fails with a line and the usage when a required flag is missing or the command is unknown', async () => {
      expectUsageFailure(await runCli(['replay', '--user-id', BOT, file]), 'replay', '--data-dir');
      expectUsageFailure(await runCli(['frobnicate']), '', 'frobnicate');
    });

    it('exits 2 with one line saying the directory is in use when this process holds the data directory', async () => {
      const dataDir = await dirs.make();
      const holder = await Store.open(dataDir, { create: true });
      try {
        const r = await runCli(['inspect', '--data-dir', dataDir, '--json']);
        expectOneLineFailure(r);
        expect(r.stderr).toBe(`roomkeeper: data directory ${dataDir} is in use by another roomkeeper process\n`);
      } finally {
        await holder.close();
      }
    });

    it('exits 2 with one line saying the directory is in use when another roomkeeper process holds it', async () => {
      const dataDir = await dirs.make();
      // A replay reading stdin keeps the data directory open until its input ends.
      const replay = startCli(['replay', '--data-dir', dataDir, '--user-id', BOT, '-']);
      const replayDone = finished(replay);
      // CURRENT is written after LevelDB takes its lock on a new database.
      while (!existsSync(join(dataDir, 'leveldb', 'CURRENT'))) await sleep(10);
      const second = await runCli(['replay', '--data-dir', dataDir, '--user-id', BOT, file]);
      expect(second.code).toBe(2);
      expect(second.stderr).toBe(`roomkeeper: data directory ${dataDir} is in use by another roomkeeper process\n`);
      replay.stdin?.end(await readFile(file, 'utf8'));
      const first = await replayDone;
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe(EXPECTED_SUMMARY);
    });
  });
});
