import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/commands/command.js';
import { builtinCommands, createRegistry } from '../../src/commands/registry.js';
import { replyLine } from '../../src/commands/render.js';

const registry = createRegistry(builtinCommands);
const who = (isAdmin: boolean) => ({ isAdmin, prefix: '!' });

describe('registry', () => {
  it('selects a command by name', () => {
    const s = registry.select('rooms', who(false));
    expect(s.ok && s.command.name).toBe('rooms');
  });

  it('points to help when the command is unknown', () => {
    const s = registry.select('frobnicate', who(false));
    expect(!s.ok && s.reply.body).toBe('I do not know !frobnicate. Say !help for the commands I know.');
  });

  it('answers not allowed and nothing else when a non-admin asks for an admin command', () => {
    for (const name of ['resync', 'prune']) {
      const s = registry.select(name, who(false));
      expect(!s.ok && s.reply.body).toBe('Not allowed.');
    }
  });

  it('selects an admin command when an admin asks', () => {
    expect(registry.select('prune', who(true)).ok).toBe(true);
  });

  it('has a summary, usage, help and examples for every built-in command', () => {
    for (const c of registry.list()) {
      expect(c.summary.length, c.name).toBeGreaterThan(0);
      expect(c.help.length, c.name).toBeGreaterThan(0);
      expect(c.examples.length, c.name).toBeGreaterThan(0);
    }
  });

  it('throws a TypeError when two commands share a name', () => {
    const c: Command<object> = {
      name: 'x', usage: '', summary: 's', help: ['h'], examples: ['x'], adminOnly: false, harmless: true,
      run: () => Promise.resolve(replyLine('x')),
    };
    expect(() => createRegistry([c, c])).toThrow(TypeError);
  });
});
