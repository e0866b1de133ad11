import { describe, expect, it } from 'vitest';
import { helpCommand } from '../../src/commands/help.js';
import { builtinCommands, createRegistry } from '../../src/commands/registry.js';
import { NOW, alice } from './world.js';

const catalog = createRegistry(builtinCommands);
const ctx = (isAdmin = false, prefix = '!') => ({ catalog, sender: alice, now: NOW, isAdmin, prefix });

describe('help', () => {
  it('lists each command with one line when no command is named', async () => {
    const r = await helpCommand.run(ctx(), []);
    for (const name of ['help', 'rooms', 'room', 'members', 'common', 'status']) expect(r.body).toContain(`• !${name}`);
    expect(r.body).toContain('• !room [REF] — show one room we share');
  });

  it('leaves admin commands out when the sender is not an admin', async () => {
    const r = await helpCommand.run(ctx(false), []);
    expect(r.body).not.toMatch(/resync|prune/);
  });

  it('lists admin commands when the sender is an admin', async () => {
    const r = await helpCommand.run(ctx(true), []);
    expect(r.body).toContain('• !resync [REF]');
    expect(r.body).toContain('• !prune [AGE]');
  });

  it('explains one command with examples when it is named', async () => {
    const r = await helpCommand.run(ctx(), ['room']);
    expect(r.body).toMatch(/^!room \[REF\]\n/);
    expect(r.body).toContain('Examples:\n• !room 2\n• !room "Team chat"');
  });

  it('accepts the command name with its prefix', async () => {
    expect((await helpCommand.run(ctx(), ['!members'])).body).toMatch(/^!members \[REF\]/);
  });

  it('uses the configured prefix in help texts', async () => {
    const r = await helpCommand.run(ctx(false, 'rk:'), ['rooms']);
    expect(r.body).toContain('as in rk:room 2');
    expect(r.body).not.toContain('!room');
  });

  it('says there is no such command when an admin command is asked by a non-admin', async () => {
    const unknown = await helpCommand.run(ctx(false), ['nonsense']);
    const admin = await helpCommand.run(ctx(false), ['prune']);
    expect(admin.body.replace('prune', 'nonsense')).toBe(unknown.body);
  });
});
