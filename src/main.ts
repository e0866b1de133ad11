import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { requireDataDir, type DataDirUse } from './cli/data-dir.js';
import { doctor, formatChecks } from './cli/doctor.js';
import { describeRoom, describeUser, inspectAll, inspectRoom, inspectUser } from './cli/inspect.js';
import { DEFAULT_MAX_LINE_BYTES, parseByteSize, replay } from './cli/replay.js';
import { run } from './cli/run.js';
import { MIN_GUARD_RETENTION_MS } from './config/index.js';
import { isRoomkeeperError, RoomkeeperError } from './errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { formatExactDuration, parseDuration } from './state/duration.js';
import { parseRoomId, parseUserId } from './state/ids.js';
import { Store } from './store/store.js';

/** Every expected failure is something the operator must fix before a retry helps. */
const EXPECTED_FAILURE_EXIT = 2;

const EXAMPLES_AND_EXIT_CODES = `
Examples:
  roomkeeper run --config /etc/roomkeeper/config.yaml
  roomkeeper doctor -c config.yaml
  roomkeeper inspect --data-dir ./data room '!abc:example.org' --json
  roomkeeper replay --data-dir ./data --user-id @bot:example.org recorded.jsonl

Exit codes:
  0  ok
  1  unexpected failure
  2  bad usage or configuration, data directory in use or unusable, a check an operator must
     fix, or an access token the homeserver rejects
`;

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

async function withStore<T>(dataDir: string, use: DataDirUse, fn: (store: Store) => Promise<T>): Promise<T> {
  // Checked first: LevelDB on /proc or on a file waits or fails with a cause nobody can act on.
  await requireDataDir(dataDir, use);
  const store = await Store.open(dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

interface Progress {
  update: (read: number, total: number | undefined) => void;
  /** Wipes the bar so that a log line can take its place; `redraw` puts it back below. */
  clear: () => void;
  redraw: () => void;
  done: () => void;
}

function progressBar(out: NodeJS.WritableStream): Progress {
  let last = 0;
  let shown = '';
  const draw = (text: string) => {
    shown = text;
    out.write(`\r\x1b[K${text}`);
  };
  return {
    update(read, total) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      if (total === undefined || total === 0) {
        draw(`${(read / 1e6).toFixed(1)} MB read`);
        return;
      }
      const frac = Math.min(1, read / total);
      const width = 30;
      const filled = Math.round(frac * width);
      draw(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
    },
    clear() {
      if (shown !== '') out.write('\r\x1b[K');
    },
    redraw() {
      if (shown !== '') out.write(shown);
    },
    done() {
      out.write('\r\x1b[K');
      shown = '';
    },
  };
}

interface ReplayFlags {
  dataDir: string;
  userId: string;
  logLevel: LogLevel;
  json?: boolean;
  maxLineLength: number;
}

async function replayCommand(file: string, flags: ReplayFlags, io: Io): Promise<number> {
  const botUserId = parseUserId(flags.userId);
  if (botUserId === undefined) throw new RoomkeeperError('USAGE', `--user-id: "${flags.userId}" is not a user id like @bot:example.org`);
  const progress = io.stderr.isTTY === true ? progressBar(io.stderr) : undefined;
  let lineNo = 0;
  const log = createLogger({
    level: flags.logLevel,
    // Every line the pipeline logs names the input line it came from.
    mixin: () => (lineNo === 0 ? {} : { line: lineNo }),
    destination:
      progress === undefined
        ? undefined
        : {
            write(text: string) {
              progress.clear();
              io.stderr.write(text);
              progress.redraw();
            },
          },
  });
  const summary = await withStore(flags.dataDir, 'create', (store) =>
    replay({
      store,
      botUserId,
      log,
      file,
      stdin: io.stdin as Readable,
      maxLineBytes: flags.maxLineLength,
      onLine: (n) => (lineNo = n),
      onProgress: progress?.update,
    }),
  );
  progress?.done();
  if (flags.json === true) {
    io.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    io.stdout.write(
      `responses: ${summary.responses}\nevents applied: ${summary.applied}\nduplicates skipped: ${summary.duplicates}\n` +
        `invalid events rejected: ${summary.invalid}\nlines not a JSON object: ${summary.badLines}\n` +
        `lines too long: ${summary.longLines}\n`,
    );
  }
  return 0;
}

async function inspectCommand(subject: string | undefined, id: string | undefined, flags: { dataDir: string; json?: boolean }, io: Io): Promise<number> {
  const json = flags.json === true;
  const print = (value: unknown) => io.stdout.write(JSON.stringify(value) + '\n');
  if (subject === 'room') {
    const roomId = parseRoomId(id ?? '');
    if (roomId === undefined) throw new RoomkeeperError('USAGE', `inspect room: "${id ?? ''}" is not a room id like '!abc:example.org'`);
    if (json) print(await withStore(flags.dataDir, 'read', (store) => inspectRoom(store, roomId)));
    else io.stdout.write(await withStore(flags.dataDir, 'read', (store) => describeRoom(store, roomId)));
    return 0;
  }
  if (subject === 'user') {
    const userId = parseUserId(id ?? '');
    if (userId === undefined) throw new RoomkeeperError('USAGE', `inspect user: "${id ?? ''}" is not a user id like @name:example.org`);
    if (json) print(await withStore(flags.dataDir, 'read', (store) => inspectUser(store, userId)));
    else io.stdout.write(await withStore(flags.dataDir, 'read', (store) => describeUser(store, userId)));
    return 0;
  }
  if (subject !== undefined) throw new RoomkeeperError('USAGE', `inspect: unknown subject "${subject}" (room or user)`);
  const doc = await withStore(flags.dataDir, 'read', inspectAll);
  if (json) {
    print(doc);
  } else {
    io.stdout.write(`${doc.rooms.length} rooms, ${doc.users.length} users\n`);
    for (const r of doc.rooms) io.stdout.write(`${r.roomId}  ${r.members.length} members  ${r.name ?? ''}\n`);
  }
  return 0;
}

async function pruneCommand(flags: { dataDir: string; olderThan: string; force?: boolean }, io: Io): Promise<number> {
  const age = flags.olderThan;
  const ms = parseDuration(age);
  if (ms === undefined) throw new RoomkeeperError('USAGE', `--older-than: "${age}" is not a duration like 30d, 12h, 90m or 45s`);
  if (ms < MIN_GUARD_RETENTION_MS && flags.force !== true) {
    // The same floor as guard.retention: a pruned entry lets a re-delivered event through again.
    throw new RoomkeeperError(
      'USAGE',
      `--older-than: "${age}" is shorter than ${formatExactDuration(MIN_GUARD_RETENTION_MS)}; events the homeserver re-sends would be applied again (add --force to prune anyway)`,
    );
  }
  const started = Date.now();
  const removed = await withStore(flags.dataDir, 'write', (store) => store.guard.prune(started - ms));
  io.stdout.write(`pruned ${removed} guard entries older than ${age} in ${Date.now() - started} ms\n`);
  return 0;
}

function logLevelOption(defaultLevel: LogLevel): Option {
  return new Option('--log-level <level>', 'how much to log on stderr').choices(LOG_LEVELS).default(defaultLevel);
}

function maxLineLength(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new RoomkeeperError('USAGE', `--max-line-length: "${text}" is not a size like 64MiB, 512KiB or 1048576`);
  return bytes;
}

/**
 * The command tree. Each action stores its exit code in `exit`: commander's own result is the
 * program, and a code must come back through `main` so that output drains before the exit.
 */
function program(io: Io, exit: { code: number; usage?: Command }): Command {
  const root = new Command('roomkeeper')
    .description('keeps an exact record of who is in which Matrix room')
    .version(version(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
    .addHelpText('after', EXAMPLES_AND_EXIT_CODES)
    .configureHelp({ showGlobalOptions: false, sortSubcommands: false })
    .showSuggestionAfterError(true)
    // Before the subcommands are added: they inherit it only when it is set first.
    .exitOverride();

  const write = { writeOut: (s: string) => io.stdout.write(s), writeErr: (s: string) => io.stderr.write(s) };
  const withUsage = (cmd: Command) =>
    cmd
      .configureOutput({
        ...write,
        // One line saying what is wrong, then the command's usage; the whole help is one flag away.
        outputError: (text, writeErr) => {
          writeErr(`roomkeeper: ${text.replace(/^error: /, '')}`);
          writeErr(usageOf(cmd));
        },
      })
      .hook('preAction', () => {
        exit.usage = cmd;
      });
  root.configureOutput({
    ...write,
    outputError: (text, writeErr) => {
      writeErr(`roomkeeper: ${text.replace(/^error: /, '')}`);
      writeErr(usageOf(root));
    },
  });

  withUsage(root.command('run'))
    .description('run the bot daemon')
    .option('-c, --config <file>', 'the YAML config file (default: $ROOMKEEPER_CONFIG, else the environment alone)')
    .action(async (flags: { config?: string }) => {
      exit.code = await run({
        configFile: flags.config,
        env: process.env,
        stdoutIsTTY: io.stdout.isTTY === true,
        version: version(),
        fail: (message) => io.stderr.write(`roomkeeper: ${message}\n`),
      });
    });

  withUsage(root.command('replay'))
    .description('feed recorded /sync bodies (one JSON object per line) through the pipeline into a data directory')
    .argument('<file>', 'the recording, or - for stdin')
    .requiredOption('-d, --data-dir <dir>', 'the data directory (created when missing)')
    .requiredOption('-u, --user-id <id>', "the bot's user id, e.g. @bot:example.org")
    .addOption(logLevelOption('warn'))
    .option('--json', 'print the summary as one JSON object')
    .addOption(
      new Option('--max-line-length <size>', 'skip (and report) lines longer than this, e.g. 64MiB')
        .argParser(maxLineLength)
        .default(DEFAULT_MAX_LINE_BYTES, '64MiB'),
    )
    .action(async (file: string, flags: ReplayFlags) => {
      exit.code = await replayCommand(file, flags, io);
    });

  withUsage(root.command('inspect'))
    .description('print every tracked room and user, or one room, or the rooms of one user')
    .argument('[subject]', 'room or user; leave out for everything')
    .argument('[id]', "the room id (quote it: '!abc:example.org') or user id")
    .requiredOption('-d, --data-dir <dir>', 'the data directory')
    .option('--json', 'print one JSON object')
    .action(async (subject: string | undefined, id: string | undefined, flags: { dataDir: string; json?: boolean }) => {
      exit.code = await inspectCommand(subject, id, flags, io);
    });

  withUsage(root.command('prune'))
    .description('forget processed events older than AGE')
    .requiredOption('-d, --data-dir <dir>', 'the data directory')
    .requiredOption('--older-than <age>', 'a duration like 30d, 12h or 90m (at least 1h)')
    .option('--force', 'allow an age under 1h')
    .action(async (flags: { dataDir: string; olderThan: string; force?: boolean }) => {
      exit.code = await pruneCommand(flags, io);
    });

  withUsage(root.command('doctor'))
    .description('check the config, homeserver, token, data directory and crypto binding; creates nothing')
    .option('-c, --config <file>', 'the YAML config file (default: $ROOMKEEPER_CONFIG, else the environment alone)')
    .action(async (flags: { config?: string }) => {
      const checks = await doctor(flags.config, process.env);
      io.stdout.write(formatChecks(checks));
      exit.code = checks.some((c) => c.status === 'fail') ? EXPECTED_FAILURE_EXIT : 0;
    });

  return root;
}

function usageOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return `usage: ${names.join(' ')} ${cmd.usage()}\n(${names.join(' ')} --help lists every option)\n`;
}

/** Runs the CLI with the given arguments and returns the process exit code once its output has drained. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const exit: { code: number; usage?: Command } = { code: 0 };
  const cli = program(io, exit);
  try {
    await cli.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; everything else was already reported by outputError.
      exit.code = err.exitCode === 0 ? 0 : EXPECTED_FAILURE_EXIT;
    } else if (isRoomkeeperError(err)) {
      io.stderr.write(`roomkeeper: ${err.message}\n`);
      if (err.code === 'USAGE') io.stderr.write(usageOf(exit.usage ?? cli));
      exit.code = EXPECTED_FAILURE_EXIT;
    } else {
      throw err;
    }
  }
  await Promise.all([drained(io.stdout), drained(io.stderr)]);
  return exit.code;
}
