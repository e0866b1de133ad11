import { describe, expect, it } from 'vitest';
import { version } from '../../src/main.js';
import { runCli } from '../support/cli.js';

/** Every flag each command takes, as its help must list it. */
const FLAGS: Record<string, string[]> = {
  run: ['-c, --config <file>', '-h, --help'],
  replay: ['-d, --data-dir <dir>', '-u, --user-id <id>', '--log-level <level>', '--json', '--max-line-length <size>', '-h, --help'],
  inspect: ['-d, --data-dir <dir>', '--json', '--room <id>', '--user <id>', '--limit <n>', '-h, --help'],
  prune: ['-d, --data-dir <dir>', '--older-than <age>', '--changes-older-than <age>', '--force', '-h, --help'],
  doctor: ['-c, --config <file>', '-h, --help'],
};

/** The lines of the "Options:" block of a help text. */
function optionLines(help: string): string[] {
  const block = help.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  return block.split('\n').filter((line) => /^ {2}-/.test(line));
}

describe('roomkeeper help', () => {
  for (const [command, flags] of Object.entries(FLAGS)) {
    it(`lists every flag of ${command}, aligned, on stdout for --help and -h`, async () => {
      for (const help of ['--help', '-h']) {
        const r = await runCli([command, help]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(new RegExp(`^Usage: roomkeeper ${command} `));
        const lines = optionLines(r.stdout);
        expect(lines.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(flags);
        // Generated help: every description starts in the same column.
        const columns = new Set(lines.map((l) => /^ {2}\S.*?\s{2,}(?=\S)/.exec(l)?.[0].length));
        expect(columns.size).toBe(1);
      }
    });
  }

  it('lists every log level and the default in the help of replay', async () => {
    const r = await runCli(['replay', '--help']);
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) expect(r.stdout).toContain(`"${level}"`);
    expect(r.stdout).toMatch(/default: "warn"/);
  });

  it('prints the version and a newline for --version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version()}\n`);
  });

  it('prints the usage on stderr and exits 2 when no command is given', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: roomkeeper /);
    for (const command of Object.keys(FLAGS)) expect(r.stderr).toContain(`  ${command} `);
    expect(r.stderr).toContain('Exit codes:');
  });

  it('prints the whole help on stdout with exit 0 for --help and help', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: roomkeeper /);
      expect(r.stdout).toContain('Exit codes:');
    }
    const one = await runCli(['help', 'prune']);
    expect(one.stdout).toMatch(/^Usage: roomkeeper prune /);
  });
});
