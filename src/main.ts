import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { doctor, formatChecks } from './cli/doctor.js';
import { inspectCommand, type InspectFlags } from './cli/inspect-command.js';
import { drained, type Io } from './cli/io.js';
import { DEFAULT_CHANGES_AGE, pruneCommand } from './cli/prune-command.js';
import { registrationCommand, type RegistrationFlags } from './cli/registration.js';
import { maxLineLength, replayCommand, type ReplayFlags } from './cli/replay-command.js';
import { DEFAULT_MAX_LINE_BYTES } from './cli/replay.js';
import { run } from './cli/run.js';
import { isRoomkeeperError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

/** Every expected failure is something the operator must fix before a retry helps. */
const EXPECTED_FAILURE_EXIT = 2;

const EXAMPLES_AND_EXIT_CODES = `
Examples:
  roomkeeper run --config /etc/roomkeeper/config.yaml
  roomkeeper doctor -c config.yaml
  roomkeeper inspect --data-dir ./data room '!abc:example.org' --json
  roomkeeper replay --data-dir ./data --user-id @bot:example.org recorded.jsonl
  roomkeeper registration --url http://127.0.0.1:9000 --out roomkeeper-registration.yaml

Exit codes:
  0  ok
  1  unexpected failure
  2  bad usage or configuration, data directory in use or unusable, a check an operator must
     fix, or an access token the homeserver rejects
`;

/** The installed package's version. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function logLevelOption(defaultLevel: LogLevel): Option {
  return new Option('--log-level <level>', 'how much to log on stderr').choices(LOG_LEVELS).default(defaultLevel);
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
    .description('print every tracked room and user, or one room, or the rooms of one user, or the change log (history)')
    .argument('[subject]', 'room, user or history; leave out for everything')
    .argument('[id]', "the room id (quote it: '!abc:example.org') or user id")
    .requiredOption('-d, --data-dir <dir>', 'the data directory')
    .option('--json', 'print one JSON object')
    .option('--room <id>', 'history: only the changes of this room')
    .option('--user <id>', 'history: only the changes of this user')
    .option('--limit <n>', 'history: at most this many changes, newest first (default 50)')
    .action(async (subject: string | undefined, id: string | undefined, flags: InspectFlags) => {
      exit.code = await inspectCommand(subject, id, flags, io);
    });

  withUsage(root.command('prune'))
    .description('forget processed events older than AGE, and changes of the change log older than --changes-older-than')
    .requiredOption('-d, --data-dir <dir>', 'the data directory')
    .requiredOption('--older-than <age>', 'a duration like 30d, 12h or 90m (at least 1h)')
    .option('--changes-older-than <age>', 'also forget changes of the change log older than this', DEFAULT_CHANGES_AGE)
    .option('--force', 'allow an age under 1h')
    .action(async (flags: { dataDir: string; olderThan: string; changesOlderThan: string; force?: boolean }) => {
      exit.code = await pruneCommand(flags, io);
    });

  withUsage(root.command('registration'))
    .description('write an appservice registration file for the homeserver, and print the config that matches it')
    .requiredOption('--url <url>', 'where the homeserver reaches roomkeeper, e.g. http://127.0.0.1:9000')
    .requiredOption('-o, --out <file>', 'the registration file to write (mode 0600)')
    .option('--id <id>', "the registration's id", 'roomkeeper')
    .option('--localpart <localpart>', "the bot's localpart (sender_localpart)", 'roomkeeper')
    .option('--server-name <name>', "the homeserver's server name: the namespace is then exactly the bot's user id")
    .option('--force', 'replace an existing file')
    .action((flags: RegistrationFlags) => {
      exit.code = registrationCommand(flags, io);
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
