import { afterEach, describe, expect, it } from 'vitest';
import { example } from '../../docs/examples/embed.js';
import { SyncBuilder } from '../support/sync-builder.js';
import { TempDirs } from '../support/temp-dir.js';

describe('README embedding example', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.cleanup());

  it('lists the rooms a user is in with their members when fed /sync bodies', async () => {
    const b = new SyncBuilder();
    const bot = '@mybot:example.org';
    const alice = '@alice:example.org';
    const bob = '@bob:example.org';
    const first = b.response({
      '!a:example.org': { state: [b.name(alice, 'Garden'), b.member(alice, 'join', { displayname: 'Alice' })], timeline: [b.member(bot, 'join')] },
    });
    const second = b.response({ '!a:example.org': { timeline: [b.member(bob, 'join', { displayname: 'Bob' })] } });
    const lines = await example(await dirs.make(), [first, second, second]);
    expect(lines).toEqual(['Garden: Alice, Bob, @mybot:example.org']);
  });
});
