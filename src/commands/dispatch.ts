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
  /**
   * Asks the homeserver (not our record) whether exactly the bot and `sender` are joined, before
   * a reply that lists rooms or members: privacy must not depend on the record being perfect.
   */
  isPrivateOnServer(roomId: RoomId, sender: UserId): Promise<boolean>;
}

/**
 * How a command ended: `ok` it ran and replied; `error` it threw (the user saw an error id) or its
 * room could not be checked; `rejected` unreadable, unknown, not allowed to the sender or not
 * answered where it was sent; `rate_limited` refused by the limiter.
 */
export type CommandOutcome = 'ok' | 'error' | 'rejected' | 'rate_limited';

/** What `handleCommand` did with a message: nothing (not a command), or a command's outcome and reply. */
export type CommandResult =
  | { outcome: 'not-a-command'; command?: undefined; reply?: undefined }
  | {
      outcome: CommandOutcome;
      /** The command's name as written (without the prefix); undefined when it could not be read. */
      command: string | undefined;
      /** What to send back; undefined to stay silent. */
      reply: Reply | undefined;
    };

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

const PRIVATE_ONLY = line('I only answer in a private chat with just you and me. Start a direct chat with me and ask there.');

/**
 * Handles one message: parse, room policy, rate limit, admin check, confirmation with the
 * homeserver that the room is private, run. Returns the outcome and the reply to send (none to
 * stay silent). Never throws: an unexpected failure becomes a reply and a log line that share an
 * error id.
 */
export async function handleCommand(deps: DispatchDeps, msg: IncomingMessage): Promise<CommandResult> {
  const { sender, roomId, now, body } = msg;
  if (sender === deps.botId) return { outcome: 'not-a-command' };
  const parsed = parseCommand(body, deps.prefix);
  if (parsed === undefined) return { outcome: 'not-a-command' };
  const name = parsed.ok ? parsed.command.name : undefined;
  const result = (outcome: CommandOutcome, answer?: Reply): CommandResult => ({ outcome, command: name, reply: answer });
  const log = deps.log.child({ roomId, sender });
  const newErrorId = deps.newErrorId ?? randomErrorId;

  let facts: RoomFacts;
  try {
    facts = await deps.directRooms.factsOf(roomId);
  } catch (err) {
    // Without the facts it is unknown who would read a reply, so there is none.
    log.error({ err, errorId: newErrorId() }, 'command room check failed');
    return result('error');
  }
  const decision = decideDmPolicy({ ...facts, botId: deps.botId, sender, allowHarmlessInGroups: deps.groupRoomCommands.size > 0 });
  if (decision === 'ignore') return result('rejected');
  if (decision === 'tell-private-only') return result('rejected', await privateOnlyNotice(deps, roomId, log));

  const isAdmin = deps.admins.has(sender);
  const selected = parsed.ok ? deps.registry.select(parsed.command.name, { isAdmin, prefix: deps.prefix }) : undefined;
  // Outside a private DM only known harmless commands get anything back; no error chatter there.
  if (decision === 'answer-harmless-only' && !(selected?.ok && selected.command.harmless && deps.groupRoomCommands.has(selected.command.name))) {
    return result('rejected');
  }

  const rate = deps.rateLimiter.check(sender, now);
  if (rate === 'limited-silent') return result('rate_limited');
  if (rate === 'limited-first') {
    log.info('command rate limit reached');
    const seconds = Math.round(deps.rateLimiter.windowMs / 1000);
    return result(
      'rate_limited',
      reply(line(`You are sending commands faster than I answer them (${deps.rateLimiter.limit} per ${seconds} seconds). I will answer again in a few seconds.`)),
    );
  }

  if (!parsed.ok) {
    return result('rejected', reply(line('I could not read that command: ', parsed.error.message, ' Say ', code(`${deps.prefix}help`), ' for the commands.')));
  }
  if (!selected?.ok) return result('rejected', selected?.reply);

  const command = selected.command;
  // Our record said private; a reply that tells about rooms or members waits for the server to agree.
  if (!command.harmless) {
    let confirmed: boolean;
    try {
      confirmed = await deps.directRooms.isPrivateOnServer(roomId, sender);
    } catch (err) {
      log.warn({ err, errorId: newErrorId() }, 'command room members could not be confirmed; not answered');
      return result('error');
    }
    if (!confirmed) {
      log.warn({ command: command.name }, 'room is not private on the homeserver; command not answered');
      return result('rejected', facts.privateOnlyNoticeSent ? undefined : await privateOnlyNotice(deps, roomId, log));
    }
  }

  const invocation: Invocation = { sender, now, isAdmin, prefix: deps.prefix };
  log.debug({ command: command.name }, 'command');
  try {
    return result('ok', await command.run({ ...deps, catalog: deps.registry, ...invocation }, parsed.command.args));
  } catch (err) {
    const errorId = newErrorId();
    const homeserver = isRoomkeeperError(err, 'HOMESERVER_UNREACHABLE') || isRoomkeeperError(err, 'HOMESERVER_ERROR');
    if (homeserver) {
      log.warn({ err, errorId, command: command.name }, 'command failed on the homeserver');
      return result('error', reply(line(`The homeserver did not answer as expected; try again later (error id ${errorId}).`)));
    }
    log.error({ err, errorId, command: command.name }, 'command failed');
    return result('error', reply(line(`Something went wrong (error id ${errorId}).`)));
  }
}

/** The "only in private" notice, recorded so that it goes out once per room. */
async function privateOnlyNotice(deps: DispatchDeps, roomId: RoomId, log: Logger): Promise<Reply> {
  try {
    await deps.directRooms.markPrivateOnlyNoticeSent(roomId);
  } catch (err) {
    // Sent anyway: saying it twice later is better than leaving the sender without an answer.
    log.warn({ err }, 'private-only notice not recorded');
  }
  return reply(PRIVATE_ONLY);
}
