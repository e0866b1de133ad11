import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configEnvVars } from '../../src/config/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `[Section] Key=value` lines; a key given more than once keeps every value in order. */
function parseUnit(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1) throw new Error(`not Key=value: ${line}`);
    const key = `${section}.${line.slice(0, eq).trim()}`;
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return entries;
}

const unit = parseUnit(readFileSync(`${root}deploy/roomkeeper.service`, 'utf8'));
const one = (key: string): string | undefined => unit.get(key)?.at(-1);
const environment = Object.fromEntries(
  (unit.get('Service.Environment') ?? []).flatMap((v) => v.split(/\s+/)).map((pair) => pair.split('=', 2) as [string, string]),
);

describe('deploy/roomkeeper.service', () => {
  it('starts the installed roomkeeper command with `run` by an absolute path', () => {
    const [binary, command, ...rest] = one('Service.ExecStart')!.split(/\s+/);
    expect(isAbsolute(binary!)).toBe(true);
    // npm's global bin link, or node with the package's bin script.
    expect(binary).toMatch(/\/roomkeeper$|\/node$/);
    if (binary!.endsWith('/node')) expect(command).toMatch(/\/bin\/roomkeeper\.js$/);
    else expect(command).toBe('run');
    expect(rest.join(' ')).toMatch(/^(run )?--config \/\S+$/);
  });

  it('lets the service write its data directory and nothing else', () => {
    expect(one('Service.ProtectSystem')).toBe('strict');
    const dataDir = environment.ROOMKEEPER_DATA_DIR!;
    expect(dataDir).toBe(posix.join('/var/lib', one('Service.StateDirectory')!));
    const writable = (unit.get('Service.ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/)).map((p) => p.replace(/^-/, ''));
    expect(writable.some((p) => dataDir === p || dataDir.startsWith(`${p}/`))).toBe(true);
  });

  it('runs hardened as an unprivileged user', () => {
    expect(one('Service.NoNewPrivileges')).toBe('yes');
    expect(one('Service.ProtectHome')).toMatch(/^(yes|read-only|tmpfs)$/);
    expect(one('Service.PrivateTmp')).toBe('yes');
    const user = one('Service.User');
    expect(user === undefined ? one('Service.DynamicUser') : user).not.toMatch(/^(root|0|no)?$/);
    expect(one('Service.MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('reads the token from an environment file', () => {
    expect(one('Service.EnvironmentFile')).toMatch(/^-?\/\S+$/);
  });

  it('sets only environment variables the config loader knows', () => {
    for (const name of Object.keys(environment)) expect(configEnvVars, name).toContain(name);
  });

  it('restarts on failure but not on the exit code the CLI gives operator errors', () => {
    expect(one('Service.Restart')).toBe('on-failure');
    const prevented = (unit.get('Service.RestartPreventExitStatus') ?? []).flatMap((v) => v.split(/\s+/));
    // An operator error (here: an unknown command) must exit with a code the unit does not restart on.
    const res = spawnSync(process.execPath, [`${root}bin/roomkeeper.js`, 'no-such-command'], { encoding: 'utf8' });
    expect(res.stderr).toMatch(/^roomkeeper: /);
    expect(prevented).toContain(String(res.status));
    expect(res.status).toBe(2);
  });

  it('is wanted by the multi-user target', () => {
    expect(one('Install.WantedBy')).toBe('multi-user.target');
  });
});
