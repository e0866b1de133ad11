import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { doctor, formatChecks } from './cli/doctor.js';
import { describeRoom, describeUser, inspectAll } from './cli/inspect.js';
import { replay } from './cli/replay.js';
import { run } from './cli/run.js';
import { isRoomkeeperError, RoomkeeperError } from './errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { parseDuration } from './state/duration.js';
import { parseRoomId, parseUserId } from './state/ids.js';
import { Store } from './store/store.js';

const USAGE = `roomkeeper — keeps an exact record of who is in which Matrix room

Usage:
  roomkeeper run [--config FILE]                 run the bot daemon
  roomkeeper replay --data-dir DIR --user-id @bot:server FILE|-
                                                  feed recorded /sync bodies (one JSON per line)
  roomkeeper inspect --data-dir DIR [--json]     print every tracked room and user
  roomkeeper inspect --data-dir DIR room ROOM_ID print one room
  roomkeeper inspect --data-dir DIR user USER_ID print one user's rooms
  roomkeeper prune --data-dir DIR --older-than AGE
                                                  forget processed events older than AGE (30d, 12h, 90m, 45s)
  roomkeeper doctor [--config FILE]              check config, homeserver, token, data dir, crypto
  roomkeeper --version | --help

Exit codes: 0 ok, 1 unexpected failure, 2 bad usage or configuration, data directory in use,
or an access token the homeserver rejects.
`;

/** Every expected failure is something the operator must fix before a retry helps. */
const EXPECTED_FAILURE_EXIT = 2;

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

/** The installed package's version. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new RoomkeeperError('USAGE', (err as Error).message.split('\n')[0] ?? 'bad arguments', { cause: err });
  }
}

function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new RoomkeeperError('USAGE', `${flag} is required`);
  return value;
}

function logLevel(value: string | boolean | undefined): LogLevel {
  if (value === undefined) return 'warn';
  if (typeof value !== 'string' || !(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new RoomkeeperError('USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return value as LogLevel;
}

async function withStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function replayCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    'data-dir': { type: 'string' },
    'user-id': { type: 'string' },
    'log-level': { type: 'string' },
    json: { type: 'boolean' },
  });
  const dataDir = required(values['data-dir'], '--data-dir');
  const rawUser = required(values['user-id'], '--user-id');
  const botUserId = parseUserId(rawUser);
  if (botUserId === undefined) throw new RoomkeeperError('USAGE', `--user-id: "${rawUser}" is not a user id like @bot:example.org`);
  if (positionals.length !== 1) throw new RoomkeeperError('USAGE', 'replay takes one FILE (or - for stdin)');
  const file = positionals[0]!;
  const log = createLogger({ level: logLevel(values['log-level']) });
  const progress = io.stderr.isTTY === true ? progressBar(io.stderr) : undefined;
  const summary = await withStore(dataDir, (store) =>
    replay({ store, botUserId, log, file, stdin: io.stdin as NodeJS.ReadableStream & import('node:stream').Readable, onProgress: progress?.update }),
  );
  progress?.done();
  if (values.json === true) {
    io.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    io.stdout.write(
      `responses: ${summary.responses}\nevents applied: ${summary.applied}\nduplicates skipped: ${summary.duplicates}\n` +
        `invalid events rejected: ${summary.invalid}\nlines not JSON: ${summary.badLines}\n`,
    );
  }
  return 0;
}

function progressBar(out: NodeJS.WritableStream): { update: (read: number, total: number | undefined) => void; done: () => void } {
  let last = 0;
  return {
    update(read, total) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      if (total === undefined || total === 0) {
        out.write(`\r${(read / 1e6).toFixed(1)} MB read`);
        return;
      }
      const frac = Math.min(1, read / total);
      const width = 30;
      const filled = Math.round(frac * width);
      out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
    },
    done() {
      out.write('\r\x1b[K');
    },
  };
}

async function runCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { config: { type: 'string', short: 'c' } });
  if (positionals.length > 0) throw new RoomkeeperError('USAGE', `unexpected argument "${positionals[0]}"`);
  return run({
    configFile: values.config,
    env: process.env,
    stdoutIsTTY: io.stdout.isTTY === true,
    version: version(),
    fail: (message) => io.stderr.write(`roomkeeper: ${message}\n`),
  });
}

async function doctorCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { config: { type: 'string', short: 'c' } });
  if (positionals.length > 0) throw new RoomkeeperError('USAGE', `unexpected argument "${positionals[0]}"`);
  const checks = await doctor(values.config, process.env);
  io.stdout.write(formatChecks(checks));
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

async function inspectCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  const dataDir = required(values['data-dir'], '--data-dir');
  const [what, id, ...rest] = positionals;
  if (rest.length > 0) throw new RoomkeeperError('USAGE', `unexpected argument "${rest[0]}"`);
  if (what === 'room') {
    const roomId = parseRoomId(id ?? '');
    if (roomId === undefined) throw new RoomkeeperError('USAGE', `inspect room: "${id ?? ''}" is not a room id like !abc:example.org`);
    io.stdout.write(await withStore(dataDir, (store) => describeRoom(store, roomId)));
    return 0;
  }
  if (what === 'user') {
    const userId = parseUserId(id ?? '');
    if (userId === undefined) throw new RoomkeeperError('USAGE', `inspect user: "${id ?? ''}" is not a user id like @name:example.org`);
    io.stdout.write(await withStore(dataDir, (store) => describeUser(store, userId)));
    return 0;
  }
  if (what !== undefined) throw new RoomkeeperError('USAGE', `inspect: unknown subject "${what}" (room or user)`);
  const doc = await withStore(dataDir, inspectAll);
  if (values.json === true) {
    io.stdout.write(JSON.stringify(doc) + '\n');
  } else {
    io.stdout.write(`${doc.rooms.length} rooms, ${doc.users.length} users\n`);
    for (const r of doc.rooms) io.stdout.write(`${r.roomId}  ${r.members.length} members  ${r.name ?? ''}\n`);
  }
  return 0;
}

async function pruneCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'data-dir': { type: 'string' }, 'older-than': { type: 'string' } });
  if (positionals.length > 0) throw new RoomkeeperError('USAGE', `unexpected argument "${positionals[0]}"`);
  const dataDir = required(values['data-dir'], '--data-dir');
  const age = required(values['older-than'], '--older-than');
  const ms = parseDuration(age);
  if (ms === undefined) throw new RoomkeeperError('USAGE', `--older-than: "${age}" is not a duration like 30d, 12h, 90m or 45s`);
  const started = Date.now();
  const removed = await withStore(dataDir, (store) => store.guard.prune(started - ms));
  io.stdout.write(`pruned ${removed} guard entries older than ${age} in ${Date.now() - started} ms\n`);
  return 0;
}

/** Runs the CLI with the given arguments and returns the process exit code. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        io.stdout.write(`${version()}\n`);
        return 0;
      case 'run':
        return await runCommand(args, io);
      case 'doctor':
        return await doctorCommand(args, io);
      case 'replay':
        return await replayCommand(args, io);
      case 'inspect':
        return await inspectCommand(args, io);
      case 'prune':
        return await pruneCommand(args, io);
      default:
        throw new RoomkeeperError('USAGE', `unknown command "${command}"; see roomkeeper --help`);
    }
  } catch (err) {
    if (isRoomkeeperError(err)) {
      io.stderr.write(`roomkeeper: ${err.message}\n`);
      return EXPECTED_FAILURE_EXIT;
    }
    throw err;
  }
}
