/**
 * `!roll` commands and dice, with no Matrix in sight: `!roll`, `!roll 2d6`, `!roll 3d20 in Garden`.
 */

/** A parsed `!roll` command. */
export interface RollCommand {
  count: number;
  sides: number;
  /** The room reference after `in`, as typed; undefined to roll where asked. */
  ref?: string;
}

/** The outcome of parsing a message: not for us, a command, or a usage hint to reply with. */
export type ParsedRoll = { kind: 'ignore' } | { kind: 'roll'; roll: RollCommand } | { kind: 'usage'; message: string };

const USAGE = 'Usage: !roll [NdM] [in ROOM], e.g. !roll 2d6 or !roll 1d20 in Garden (1-20 dice, 2-1000 sides)';
const ROLL = /^!roll(?:\s+(\d{1,3})d(\d{1,4}))?(?:\s+in\s+(.+))?\s*$/i;

/** Parses a message body; anything not starting with `!roll` is ignored. */
export function parseRoll(body: string): ParsedRoll {
  const text = body.trim();
  if (!/^!roll\b/i.test(text)) return { kind: 'ignore' };
  const m = ROLL.exec(text);
  if (m === null) return { kind: 'usage', message: USAGE };
  const count = m[1] === undefined ? 1 : Number(m[1]);
  const sides = m[2] === undefined ? 6 : Number(m[2]);
  if (count < 1 || count > 20 || sides < 2 || sides > 1000) return { kind: 'usage', message: USAGE };
  const ref = m[3]?.trim();
  return { kind: 'roll', roll: ref === undefined || ref === '' ? { count, sides } : { count, sides, ref } };
}

/** Rolls the dice with `random` (uniform in [0, 1)) and describes the result, e.g. `2d6: 3 + 5 = 8`. */
export function rollDice(roll: RollCommand, random: () => number = Math.random): { dice: number[]; total: number; text: string } {
  const dice = Array.from({ length: roll.count }, () => 1 + Math.floor(random() * roll.sides));
  const total = dice.reduce((a, b) => a + b, 0);
  const shown = dice.length === 1 ? String(total) : `${dice.join(' + ')} = ${total}`;
  return { dice, total, text: `${roll.count}d${roll.sides}: ${shown}` };
}
