/**
 * Appservice mode against a real Synapse: a Synapse of this file's own (a registration is read at
 * start-up, so a running server, the suite's or an external one, cannot take it), the
 * registration written by `roomkeeper registration`, and `roomkeeper run` in appservice mode.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../support/cli.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { TempDirs } from '../support/temp-dir.js';
import { truthOf, type InspectJson, type Reply } from './support/bot.js';
import { eventually, registerUser, User } from './support/matrix.js';
import { freePort, startOwnSynapse, type OwnSynapse } from './support/synapse-setup.js';

const dirs = new TempDirs();
let synapse: OwnSynapse;
let server: { url: string; secret: string };
let bot: User;
let configFile: string;
let dataDir: string;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  const dir = await dirs.make('roomkeeper-e2e-as-');
  const asPort = await freePort();
  const registration = join(dir, 'registration.yaml');
  const r = await runCli(['registration', '--url', `http://127.0.0.1:${asPort}`, '--out', registration, '--server-name', 'localhost'], '', { env: {} });
  expect(r.code, r.stderr).toBe(0);
  synapse = await startOwnSynapse({ registrationFiles: [registration], label: 'appservice' });
  server = { url: synapse.url, secret: readFileSync(synapse.sharedSecretFile, 'utf8').trim() };
  configFile = join(dir, 'config.yaml');
  // The config lines the command printed, as an operator pastes them.
  writeFileSync(configFile, `homeserverUrl: ${synapse.url}\n${r.stdout.slice(r.stdout.indexOf('mode: appservice'))}`);
  const reg = parseYaml(readFileSync(registration, 'utf8')) as { as_token: string };
  bot = new User(synapse.url, '@roomkeeper:localhost', reg.as_token);
  dataDir = await dirs.make('roomkeeper-e2e-as-data-');
}, 120_000);

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await synapse?.stop();
  await dirs.cleanup();
});

async function start(): Promise<DaemonProcess> {
  const p = new DaemonProcess({ ROOMKEEPER_DATA_DIR: dataDir, ROOMKEEPER_LOG_LEVEL: 'info' }, ['--config', configFile]);
  daemon = p;
  await eventually(
    () => {
      if (p.result !== undefined) throw new Error(`roomkeeper exited ${p.result.code}: ${p.result.stderr}`);
      return Promise.resolve(p.logs().some((l) => l.msg === 'receiving appservice transactions'));
    },
    'roomkeeper to listen for transactions',
    30_000,
  );
  return p;
}

async function inspect(): Promise<InspectJson> {
  const r = await runCli(['inspect', '--data-dir', dataDir, '--json'], '', { env: {} });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as InspectJson;
}

/** `user` says `body` in `room`; resolves with the bot's first reply after it. */
async function ask(user: User, room: string, body: string): Promise<Reply> {
  const sent = await user.send(room, body);
  return eventually(async () => {
    const replies: Reply[] = [];
    for (const ev of await user.recent(room, 50)) {
      if (ev['event_id'] === sent) break;
      if (ev['sender'] === bot.userId && ev['type'] === 'm.room.message') {
        const content = ev['content'] as Record<string, unknown>;
        replies.push({ body: String(content['body']), html: String(content['formatted_body']) });
      }
    }
    return replies.at(-1);
  }, `a reply to ${body}`);
}

describe('appservice mode against a real Synapse', () => {
  it('joins on invite, tracks members, is kicked, and answers a DM command privately', async () => {
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => registerUser(n, { server })));
    await start();

    const room = await alice!.createRoom({ name: 'Garden', preset: 'public_chat' });
    await bob!.join(room);
    await alice!.invite(room, bot.userId);
    await eventually(async () => (await bot.joinedRooms()).includes(room), 'the bot to join the room');
    await carol!.join(room);
    await bob!.leave(room);

    const dm = await alice!.createRoom({ isDirect: true, invite: [bot.userId], preset: 'trusted_private_chat' });
    await eventually(async () => (await bot.joinedRooms()).includes(dm), 'the bot to join the DM');
    const rooms = await ask(alice!, dm, '!rooms');
    expect(rooms.body).toContain('Garden');
    // Answered in the DM only: nothing from the bot in the group room.
    expect((await alice!.recent(room, 50)).filter((e) => e['sender'] === bot.userId && e['type'] === 'm.room.message')).toEqual([]);

    const members = await ask(alice!, dm, '!members Garden');
    expect(members.body).toContain(carol!.userId);
    expect(members.body).not.toContain(bob!.userId);

    // A second room, from which the bot is kicked at once: it is forgotten, even when the state
    // read for its join comes after the kick (Synapse then answers with the state as of the leave).
    const kicked = await carol!.createRoom({ name: 'Brief', invite: [bot.userId] });
    await eventually(async () => (await bot.joinedRooms()).includes(kicked), 'the bot to join the second room');
    await carol!.kick(kicked, bot.userId);
    await eventually(async () => !(await bot.joinedRooms()).includes(kicked), 'the kick');
    // Transactions come in order: once this is answered, the kick before it is committed.
    expect((await ask(alice!, dm, '!rooms')).body).not.toContain('Brief');

    const r = await daemon!.stop('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    const doc = await inspect();
    expect(doc).toEqual(await truthOf(bot));
    expect(doc.rooms.map((x) => x.roomId)).not.toContain(kicked);
    expect(doc.rooms.find((x) => x.roomId === room)?.members).toEqual([alice!.userId, carol!.userId, bot.userId].sort());
  });
});
