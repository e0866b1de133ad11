import type { UserId } from '../state/ids.js';

/** What is known about the room a command came from, at the moment of the command. */
export interface RoomFacts {
  /** The room is in the bot's m.direct account data, or its invite carried is_direct. */
  isDirect: boolean;
  /** Users whose membership is `join` now, the bot included. */
  joinedMembers: readonly UserId[];
  /** A member event of the room could not be read: the joined members may be incomplete. */
  membershipUncertain?: boolean;
  /** The "I only answer in private" notice has already been sent in this room. */
  privateOnlyNoticeSent: boolean;
}

export interface DmPolicyInput extends RoomFacts {
  botId: UserId;
  sender: UserId;
  /** Config: answer harmless commands (like help) in rooms that are not private DMs. */
  allowHarmlessInGroups: boolean;
}

/**
 * - answer: a private DM, any command.
 * - tell-private-only: a DM that gained a third member; say once that the bot only answers in private.
 * - answer-harmless-only: not a private DM, but config allows harmless commands; answer only those.
 * - ignore: say nothing.
 */
export type DmDecision = 'answer' | 'ignore' | 'tell-private-only' | 'answer-harmless-only';

/**
 * Decides whether a command may be answered where it was sent. A room counts as private only when
 * it is marked direct and its joined members are exactly the bot and the sender, so nobody else
 * can read the reply; a member count of two alone does not make a DM, nor does a member list
 * that may be incomplete.
 */
export function decideDmPolicy(input: DmPolicyInput): DmDecision {
  // The bot's own messages are never commands, even in its own DMs.
  if (input.sender === input.botId) return 'ignore';
  const joined = new Set(input.joinedMembers);
  // A sender who has left by now gets nothing, wherever they wrote.
  if (!joined.has(input.sender)) return 'ignore';
  // Fails closed: a room whose member list may miss someone is never private.
  const isPrivate = joined.size === 2 && joined.has(input.botId) && input.membershipUncertain !== true;
  if (input.isDirect && isPrivate) return 'answer';
  if (input.isDirect && !input.privateOnlyNoticeSent) return 'tell-private-only';
  return input.allowHarmlessInGroups ? 'answer-harmless-only' : 'ignore';
}
