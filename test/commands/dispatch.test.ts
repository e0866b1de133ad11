import { describe, expect, it, vi } from 'vitest';
import type { Command } from '../../src/commands/command.js';
import { createRegistry, builtinCommands, type CommandDeps } from '../../src/commands/registry.js';
import { RateLimiter } from '../../src/commands/rate-limit.js';
import { RoomkeeperError } from '../../src/errors.js';
import { rid } from './fake-rooms.js';
import { dmOf, makeHarness } from './dispatch-harness.js';
import { alice, bob, bot, carol } from './world.js';

const boom: Command<CommandDeps> = {
  name: 'boom', usage: '', summary: 'fails', help: ['fails'], examples: ['boom'], adminOnly: false, harmless: false,
  run: () => Promise.reject(new Error('disk on fire')),
};

describe('dispatch', () => {
  it('answers a command in a private DM', async () => {
    const h = makeHarness();
    expect((await h.send(alice, '!rooms'))?.body).toMatch(/^We share 3 rooms:/);
  });

  it('stays silent when the message is not a command', async () => {
    expect(await makeHarness().send(alice, 'hello there')).toBeUndefined();
  });

  it('never treats the bot’s own messages as commands', async () => {
    const h = makeHarness();
    h.facts.set(dmOf.alice, { isDirect: true, joinedMembers: [bot, alice], privateOnlyNoticeSent: false });
    expect(await h.send(bot, '!rooms', dmOf.alice)).toBeUndefined();
  });

  it('ignores commands in a group room', async () => {
    const h = makeHarness();
    const group = rid('!team:hs.test');
    h.facts.set(group, { isDirect: false, joinedMembers: [bot, alice, bob, carol], privateOnlyNoticeSent: false });
    expect(await h.send(alice, '!help', group)).toBeUndefined();
  });

  it('answers only harmless commands in a group room when config allows them', async () => {
    const h = makeHarness({ groupRoomCommands: new Set(['help']) });
    const group = rid('!team:hs.test');
    h.facts.set(group, { isDirect: false, joinedMembers: [bot, alice, bob], privateOnlyNoticeSent: false });
    expect((await h.send(alice, '!help', group))?.body).toMatch(/^I keep track/);
    expect(await h.send(alice, '!rooms', group)).toBeUndefined();
    expect(await h.send(alice, '!nonsense', group)).toBeUndefined();
  });

  it('says once that it answers only in private when a DM gained a third member', async () => {
    const h = makeHarness();
    h.facts.set(dmOf.alice, { isDirect: true, joinedMembers: [bot, alice, bob], privateOnlyNoticeSent: false });
    expect((await h.send(alice, '!rooms'))?.body).toMatch(/^I only answer in a private chat/);
    expect(await h.send(alice, '!rooms')).toBeUndefined();
  });

  it('answers with the parse error when an argument has a control character', async () => {
    const r = await makeHarness().send(alice, '!room a\u0000b');
    expect(r?.body).toMatch(/^I could not read that command: A command must be one line/);
  });

  it('answers with the parse error when an argument is too long', async () => {
    const r = await makeHarness().send(alice, `!room ${'x'.repeat(300)}`);
    expect(r?.body).toContain('Argument 1 is longer than 255 characters.');
  });

  it('points to help when the command is unknown', async () => {
    expect((await makeHarness().send(alice, '!frobnicate'))?.body).toBe('I do not know !frobnicate. Say !help for the commands I know.');
  });

  it('stays silent when the prefix is followed by markup rather than a letter', async () => {
    expect(await makeHarness().send(alice, '!<b>x</b>')).toBeUndefined();
  });

  it('escapes an unknown command name in HTML', async () => {
    const r = await makeHarness().send(alice, '!x<b>');
    expect(r?.formatted_body).toContain('!x&lt;b&gt;');
    expect(r?.formatted_body).not.toContain('<b>');
  });

  it('answers not allowed and runs nothing when a non-admin asks for an admin command', async () => {
    const h = makeHarness();
    expect((await h.send(alice, '!prune 1d'))?.body).toBe('Not allowed.');
    expect((await h.send(alice, '!resync'))?.body).toBe('Not allowed.');
    expect(h.deps.prune).not.toHaveBeenCalled();
    expect(h.deps.reconcile).not.toHaveBeenCalled();
  });

  it('runs an admin command when an admin asks', async () => {
    const h = makeHarness({ admins: new Set([alice]) });
    expect((await h.send(alice, '!prune 1d'))?.body).toBe('Pruned 3 guard entries older than 1d.');
  });

  it('gives the sixth command within ten seconds one polite reply and the seventh silence', async () => {
    const h = makeHarness();
    for (let i = 0; i < 5; i++) expect(await h.send(alice, '!help')).toBeDefined();
    expect((await h.send(alice, '!help'))?.body).toMatch(/^You are sending commands faster than I answer them \(5 per 10 seconds\)/);
    expect(await h.send(alice, '!help')).toBeUndefined();
  });

  it('answers again when the rate-limit window has passed', async () => {
    const h = makeHarness();
    for (let i = 0; i < 7; i++) await h.send(alice, '!help');
    h.advance(10_000);
    expect((await h.send(alice, '!help'))?.body).toMatch(/^I keep track/);
  });

  it('counts unreadable commands against the rate limit', async () => {
    const h = makeHarness();
    for (let i = 0; i < 5; i++) await h.send(alice, '!room "x');
    expect((await h.send(alice, '!help'))?.body).toMatch(/^You are sending commands faster/);
  });

  it('does not rate-limit other users when one user is limited', async () => {
    const h = makeHarness();
    for (let i = 0; i < 7; i++) await h.send(alice, '!help');
    expect((await h.send(bob, '!help'))?.body).toMatch(/^I keep track/);
  });

  it('replies with an error id that matches the logged error when a command throws', async () => {
    const h = makeHarness({ registry: createRegistry([...builtinCommands, boom]) });
    const r = await h.send(alice, '!boom');
    const id = /error id ([0-9a-f]{6})/.exec(r?.body ?? '')?.[1];
    expect(id).toBeDefined();
    const line = h.logs().find((l) => l.errorId === id);
    expect(line).toMatchObject({ level: 50, msg: 'command failed', command: 'boom', err: { message: 'disk on fire' } });
  });

  it('does not show the error message to the user when a command throws', async () => {
    const h = makeHarness({ registry: createRegistry([...builtinCommands, boom]), newErrorId: () => 'abc123' });
    expect((await h.send(alice, '!boom'))?.body).toBe('Something went wrong (error id abc123).');
  });

  it('says the homeserver failed when reconcile fails with a homeserver error', async () => {
    const reconcile = vi.fn(() => Promise.reject(new RoomkeeperError('HOMESERVER_UNREACHABLE', 'connect ECONNREFUSED')));
    const h = makeHarness({ admins: new Set([alice]), reconcile, newErrorId: () => 'def456' });
    expect((await h.send(alice, '!resync'))?.body).toBe('The homeserver did not answer as expected; try again later (error id def456).');
    expect(h.logs().find((l) => l.errorId === 'def456')).toMatchObject({ level: 40, err: { code: 'HOMESERVER_UNREACHABLE' } });
  });

  it('stays silent and logs when the room facts cannot be read', async () => {
    const h = makeHarness();
    h.deps.directRooms.factsOf = () => Promise.reject(new Error('store closed'));
    expect(await h.send(alice, '!rooms')).toBeUndefined();
    expect(h.logs().some((l) => l.msg === 'command room check failed')).toBe(true);
  });

  it('returns each command with its outcome when commands run, fail, are refused or rate limited', async () => {
    const h = makeHarness({ registry: createRegistry([...builtinCommands, boom]), rateLimiter: new RateLimiter({ limit: 4, windowMs: 60_000 }) });
    expect(await h.handle(alice, 'hello')).toEqual({ outcome: 'not-a-command' });
    expect(await h.handle(alice, '!rooms')).toMatchObject({ outcome: 'ok', command: 'rooms', reply: { body: expect.stringMatching(/^We share/) } });
    expect(await h.handle(alice, '!boom')).toMatchObject({ outcome: 'error', command: 'boom' });
    expect(await h.handle(alice, '!nosuch')).toMatchObject({ outcome: 'rejected', command: 'nosuch' });
    expect(await h.handle(alice, '!prune')).toMatchObject({ outcome: 'rejected', command: 'prune' });
    expect(await h.handle(alice, '!rooms')).toMatchObject({ outcome: 'rate_limited', command: 'rooms', reply: expect.anything() });
    expect(await h.handle(alice, '!rooms')).toEqual({ outcome: 'rate_limited', command: 'rooms', reply: undefined });
  });

  it('lists no rooms and says once that it answers only in private when the homeserver shows a third member', async () => {
    const h = makeHarness();
    h.notPrivateOnServer.add(dmOf.alice);

    const first = await h.handle(alice, '!rooms');
    const second = await h.handle(alice, '!members 1');

    expect(first).toMatchObject({ outcome: 'rejected', reply: { body: expect.stringMatching(/only answer in a private chat/) } });
    expect(second).toEqual({ outcome: 'rejected', command: 'members', reply: undefined });
    expect(h.serverChecks).toEqual([dmOf.alice, dmOf.alice]);
  });

  it('answers harmless commands without asking the homeserver', async () => {
    const h = makeHarness();
    h.notPrivateOnServer.add(dmOf.alice);
    expect(await h.handle(alice, '!help')).toMatchObject({ outcome: 'ok' });
    expect(h.serverChecks).toEqual([]);
  });

  it('stays silent when the homeserver cannot confirm who is in the room', async () => {
    const h = makeHarness();
    h.deps.directRooms.isPrivateOnServer = () => Promise.reject(new Error('connect ECONNREFUSED'));
    expect(await h.handle(alice, '!rooms')).toEqual({ outcome: 'error', command: 'rooms', reply: undefined });
    expect(h.logs().some((l) => l.msg === 'command room members could not be confirmed; not answered')).toBe(true);
  });
});
