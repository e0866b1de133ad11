import { describe, expect, it } from 'vitest';
import { decideDmPolicy, type DmPolicyInput } from '../../src/commands/dm-policy.js';
import { alice, bob, bot } from './world.js';

function input(over: Partial<DmPolicyInput> = {}): DmPolicyInput {
  return { isDirect: true, joinedMembers: [bot, alice], privateOnlyNoticeSent: false, botId: bot, sender: alice, allowHarmlessInGroups: false, ...over };
}

describe('dm-policy', () => {
  it('answers when the room is direct and only the bot and the sender are joined', () => {
    expect(decideDmPolicy(input())).toBe('answer');
  });

  it('does not take a direct room of the bot and the sender for private when its membership is uncertain', () => {
    expect(decideDmPolicy(input({ membershipUncertain: true }))).toBe('tell-private-only');
    expect(decideDmPolicy(input({ membershipUncertain: true, privateOnlyNoticeSent: true }))).toBe('ignore');
  });

  it('ignores the bot’s own messages', () => {
    expect(decideDmPolicy(input({ sender: bot }))).toBe('ignore');
  });

  it('ignores a room with two members when it is not marked direct', () => {
    expect(decideDmPolicy(input({ isDirect: false }))).toBe('ignore');
  });

  it('tells the sender once that it only answers in private when a DM gained a third member', () => {
    expect(decideDmPolicy(input({ joinedMembers: [bot, alice, bob] }))).toBe('tell-private-only');
  });

  it('ignores a DM with a third member when the notice was already sent', () => {
    expect(decideDmPolicy(input({ joinedMembers: [bot, alice, bob], privateOnlyNoticeSent: true }))).toBe('ignore');
  });

  it('ignores a group room by default', () => {
    expect(decideDmPolicy(input({ isDirect: false, joinedMembers: [bot, alice, bob] }))).toBe('ignore');
  });

  it('answers harmless commands only in a group room when config allows it', () => {
    expect(decideDmPolicy(input({ isDirect: false, joinedMembers: [bot, alice, bob], allowHarmlessInGroups: true }))).toBe('answer-harmless-only');
  });

  it('ignores a sender who is no longer joined', () => {
    expect(decideDmPolicy(input({ joinedMembers: [bot, bob] }))).toBe('ignore');
  });

  it('does not answer when the bot itself is not joined', () => {
    expect(decideDmPolicy(input({ joinedMembers: [alice, bob] }))).not.toBe('answer');
  });
});
