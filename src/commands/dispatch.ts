import { randomBytes } from 'node:crypto';
import { isRoomkeeperError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Invocation } from './command.js';
import { decideDmPolicy, type RoomFacts } from './dm-policy.js';
import { parseCommand } from './parse.js';
import type { RateLimiter } from './rate-limit.js';
import type { CommandDeps, Registry } from './registry.js';
import { code, line, reply, type Reply } from './render.js';

/** Where the dispatcher learns whether a room is a private DM; the Matrix layer implements it. */
export interface DirectRoomSource {
  /** The room's DM facts as of now: m.direct or is_direct, joined members, notice already sent. */
  factsOf(roomId: RoomId): Promise<RoomFacts>;
  /** Records that the "only in private" notice went out in this room, so it goes out once. */
  markPrivateOnlyNoticeSent(roomId: RoomId): Promise<void>;
}

/** Everything `handleCommand` needs. The commands get the services; `catalog` is the registry. */
export interface DispatchDeps extends Omit<CommandDeps, 'catalog'> {
  prefix: string;
  admins: ReadonlySet<UserId>;
  /** Config: commands also answered outside private DMs; only harmless ones ever are. */
  groupRoomCommands: ReadonlySet<string>;
  registry: Registry<CommandDeps>;
  directRooms: DirectRoomSource;
  rateLimiter: RateLimiter;
  log: Logger;
  /** Makes the id shown to the user and logged with an unexpected error; random when left out. */
  newErrorId?: () => string;
}

/** An `m.room.message` that may be a command. */
export interface IncomingMessage {
  sender: UserId;
  roomId: RoomId;
  body: string;
  /** Local time (ms) of handling. */
  now: number;
}

/** Six hex digits: short enough to read out, enough to find one log line. */
export function randomErrorId(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Handles one message: parse, room policy, rate limit, admin check, run. Returns the reply to
 * send, or undefined to stay silent. Never throws: an unexpected failure becomes a reply and a
 * log line that share an error id.
 */
export async function handleCommand(deps: DispatchDeps, msg: IncomingMessage): Promise<Reply | undefined> {
  const { sender, roomId, now, body } = msg;
  if (sender === deps.botId) return undefined;
  const parsed = parseCommand(body, deps.prefix);
  if (parsed === undefined) return undefined;
  const log = deps.log.child({ roomId, sender });
  const newErrorId = deps.newErrorId ?? randomErrorId;

  let facts: RoomFacts;
  try {
    facts = await deps.directRooms.factsOf(roomId);
  } catch (err) {
    // Without the facts it is unknown who would read a reply, so there is none.
    log.error({ err, errorId: newErrorId() }, 'command room check failed');
    return undefined;
  }
  const decision = decideDmPolicy({ ...facts, botId: deps.botId, sender, allowHarmlessInGroups: deps.groupRoomCommands.size > 0 });
  if (decision === 'ignore') return undefined;
  if (decision === 'tell-private-only') {
    try {
      await deps.directRooms.markPrivateOnlyNoticeSent(roomId);
    } catch (err) {
      // Sent anyway: saying it twice later is better than leaving the sender without an answer.
      log.warn({ err }, 'private-only notice not recorded');
    }
    return reply(line('I only answer in a private chat with just you and me. Start a direct chat with me and ask there.'));
  }

  const isAdmin = deps.admins.has(sender);
  const selected = parsed.ok ? deps.registry.select(parsed.command.name, { isAdmin, prefix: deps.prefix }) : undefined;
  // Outside a private DM only known harmless commands get anything back; no error chatter there.
  if (decision === 'answer-harmless-only' && !(selected?.ok && selected.command.harmless && deps.groupRoomCommands.has(selected.command.name))) {
    return undefined;
  }

  const rate = deps.rateLimiter.check(sender, now);
  if (rate === 'limited-silent') return undefined;
  if (rate === 'limited-first') {
    log.info('command rate limit reached');
    const seconds = Math.round(deps.rateLimiter.windowMs / 1000);
    return reply(
      line(`You are sending commands faster than I answer them (${deps.rateLimiter.limit} per ${seconds} seconds). I will answer again in a few seconds.`),
    );
  }

  if (!parsed.ok) {
    return reply(line('I could not read that command: ', parsed.error.message, ' Say ', code(`${deps.prefix}help`), ' for the commands.'));
  }
  if (!selected?.ok) return selected?.reply;

  const command = selected.command;
  const invocation: Invocation = { sender, now, isAdmin, prefix: deps.prefix };
  log.debug({ command: command.name }, 'command');
  try {
    return await command.run({ ...deps, catalog: deps.registry, ...invocation }, parsed.command.args);
  } catch (err) {
    const errorId = newErrorId();
    const homeserver = isRoomkeeperError(err, 'HOMESERVER_UNREACHABLE') || isRoomkeeperError(err, 'HOMESERVER_ERROR');
    if (homeserver) {
      log.warn({ err, errorId, command: command.name }, 'command failed on the homeserver');
      return reply(line(`The homeserver did not answer as expected; try again later (error id ${errorId}).`));
    }
    log.error({ err, errorId, command: command.name }, 'command failed');
    return reply(line(`Something went wrong (error id ${errorId}).`));
  }
}
