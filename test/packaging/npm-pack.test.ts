/**
 * SLOW (about 30 s on an idle machine): `npm pack` in a copy of the sources (its `prepare` runs
 * both builds), the tarball installed into a fresh directory without install scripts (so the
 * native crypto binding is missing, as on many hosts), then used from CommonJS and from an ES
 * module, and type-checked from a .cts and a .mts file.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../support/temp-dir.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// The same small bot twice: the first two lines differ, the rest is plain JavaScript.
const botBody = `
(async () => {
  const keeper = await openRoomkeeper({ dataDir: process.argv[2], botUserId: '@bot:example.org' });
  const room = '!r:example.org';
  const join = (id, user) => ({ event_id: id, type: 'm.room.member', sender: user, state_key: user, content: { membership: 'join' } });
  await keeper.process({ next_batch: 's1', rooms: { join: { [room]: { timeline: { events: [join('$1', '@bot:example.org'), join('$2', '@alice:example.org')] } } } } });
  const client = new MatrixClient('http://127.0.0.1:1', 'token', new MemoryStorageProvider());
  AutojoinRoomsMixin.setupOnClient(client);
  keeper.attach(client);
  await keeper.detach();
  const bad = await keeper.rooms.roomsOf('alice').then(String, (e) => (isRoomkeeperError(e, 'BAD_ID') ? 'BAD_ID' : String(e)));
  console.log(JSON.stringify({ rooms: await keeper.rooms.roomsOf('@alice:example.org'), bad, format: typeof require === 'function' ? 'cjs' : 'esm' }));
  await keeper.close();
})();
`;
const cjsBot = `const { openRoomkeeper, isRoomkeeperError } = require('roomkeeper');
const { AutojoinRoomsMixin, MatrixClient, MemoryStorageProvider } = require('roomkeeper/sdk');
${botBody}`;
const esmBot = `import { openRoomkeeper, isRoomkeeperError } from 'roomkeeper';
import { AutojoinRoomsMixin, MatrixClient, MemoryStorageProvider } from 'roomkeeper/sdk';
${botBody}`;

const ctsCheck = `import roomkeeper = require('roomkeeper');
import sdk = require('roomkeeper/sdk');

export async function run(dataDir: string): Promise<string[]> {
  const keeper: roomkeeper.Roomkeeper = await roomkeeper.openRoomkeeper({ dataDir, botUserId: '@bot:example.org' });
  const client: sdk.MatrixClient = new sdk.MatrixClient('https://example.org', 'token', new sdk.SimpleFsStorageProvider('bot.json'));
  keeper.attach(client, { onCommit: (r: roomkeeper.ProcessResult) => void r.fresh.length });
  return keeper.rooms.roomsOf('@alice:example.org');
}
`;
const mtsCheck = `import { openRoomkeeper, type ProcessResult, type Roomkeeper, type RoomId } from 'roomkeeper';
import { MatrixClient, SimpleFsStorageProvider } from 'roomkeeper/sdk';

export async function run(dataDir: string): Promise<RoomId[]> {
  const keeper: Roomkeeper = await openRoomkeeper({ dataDir, botUserId: '@bot:example.org' });
  const client: MatrixClient = new MatrixClient('https://example.org', 'token', new SimpleFsStorageProvider('bot.json'));
  keeper.attach(client, { onCommit: (r: ProcessResult) => void r.fresh.length });
  return keeper.rooms.roomsOf('@alice:example.org');
}
`;
// A mistake each type-check must catch: a room list is not a list of numbers.
const ctsWrong = ctsCheck.replace('Promise<string[]>', 'Promise<number[]>');
const mtsWrong = mtsCheck.replace('Promise<RoomId[]>', 'Promise<number[]>');

function tsconfig(files: string[]): string {
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] };
  return JSON.stringify({ compilerOptions, files });
}

async function tsc(cwd: string, project: string): Promise<{ code: number; out: string }> {
  try {
    // --explainFiles: which declaration file each import resolved to.
    const { stdout } = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project, '--explainFiles'], { cwd });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

describe('npm pack', () => {
  it('makes a package that a fresh CommonJS bot can require and an ES module bot can import, with types for both', async () => {
    // A copy of what the package is built from, so that the repository's dist/ is left alone.
    const src = await dirs.make('roomkeeper-pack-src-');
    for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.cjs.json', 'src', 'bin', 'config.example.yaml', 'README.md']) {
      await cp(join(root, entry), join(src, entry), { recursive: true });
    }
    await symlink(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
    const out = await dirs.make('roomkeeper-pack-out-');
    await run(npm, ['pack', '--silent', '--pack-destination', out], { cwd: src });
    const [tarball] = (await readdir(out)).filter((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const bot = await dirs.make('roomkeeper-fresh-bot-');
    await writeFile(join(bot, 'package.json'), JSON.stringify({ name: 'fresh-bot', version: '1.0.0', private: true }));
    const install = ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--silent', join(out, tarball!)];
    // From npm's cache when it holds every dependency (this repository's own install put them
    // there), else from the registry.
    await run(npm, [...install, '--offline'], { cwd: bot }).catch(() => run(npm, [...install, '--prefer-offline'], { cwd: bot }));

    await Promise.all([
      writeFile(join(bot, 'bot.cjs'), cjsBot),
      writeFile(join(bot, 'bot.mjs'), esmBot),
      writeFile(join(bot, 'check.cts'), ctsCheck),
      writeFile(join(bot, 'check.mts'), mtsCheck),
      writeFile(join(bot, 'wrong.cts'), ctsWrong),
      writeFile(join(bot, 'wrong.mts'), mtsWrong),
      writeFile(join(bot, 'tsconfig.json'), tsconfig(['check.cts', 'check.mts'])),
      writeFile(join(bot, 'tsconfig.wrong.json'), tsconfig(['wrong.cts', 'wrong.mts'])),
      mkdir(join(bot, 'data-cjs')),
      mkdir(join(bot, 'data-esm')),
    ]);
    // Independent of each other: run at once.
    const [cjs, esm, types, wrong] = await Promise.all([
      run(process.execPath, ['bot.cjs', 'data-cjs'], { cwd: bot }),
      run(process.execPath, ['bot.mjs', 'data-esm'], { cwd: bot }),
      tsc(bot, 'tsconfig.json'),
      tsc(bot, 'tsconfig.wrong.json'),
    ]);
    expect(JSON.parse(cjs.stdout)).toEqual({ rooms: ['!r:example.org'], bad: 'BAD_ID', format: 'cjs' });
    expect(JSON.parse(esm.stdout)).toEqual({ rooms: ['!r:example.org'], bad: 'BAD_ID', format: 'esm' });
    expect(types.code, types.out).toBe(0);
    // The .cts file gets the CommonJS declarations, the .mts file the ESM ones.
    for (const dts of ['dist/cjs/index.d.ts', 'dist/cjs/matrix/sdk-exports.d.ts', 'dist/index.d.ts', 'dist/matrix/sdk-exports.d.ts']) {
      expect(types.out).toContain(`node_modules/roomkeeper/${dts}`);
    }
    expect(wrong.out).toContain('wrong.cts');
    expect(wrong.out).toContain('wrong.mts');
  }, 120_000);
});
