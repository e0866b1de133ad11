import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configEnvVars, configSchema, loadConfig, redactConfig } from '../src/config/index.js';
import { isRoomkeeperError } from '../src/errors.js';
import { appserviceSecretSources } from '../src/config/schema.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const examplePath = join(repoRoot, 'config.example.yaml');

const requiredEnv = {
  ROOMKEEPER_HOMESERVER_URL: 'https://matrix.example.org',
  ROOMKEEPER_ACCESS_TOKEN: 'syt_env_token',
};

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roomkeeper-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The message of the CONFIG_INVALID error that `load` throws. */
function problemsOf(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    if (isRoomkeeperError(err, 'CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected loadConfig to throw CONFIG_INVALID');
}

/** Dotted paths of the leaves (scalars and lists) of a plain object. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => leafPaths(child, prefix === '' ? key : `${prefix}.${key}`));
}

/** Dotted paths of the fields the schema reads (a union or scalar is one leaf), as a config file writes them. */
function fieldPaths(schema: z.core.$ZodType, prefix = ''): string[] {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) {
    return fieldPaths(schema.unwrap(), prefix);
  }
  if (schema instanceof z.ZodPipe) return fieldPaths(schema.in, prefix);
  if (!(schema instanceof z.ZodObject)) return [prefix];
  return Object.entries(schema.shape as Record<string, z.core.$ZodType>).flatMap(([key, child]) =>
    fieldPaths(child, prefix === '' ? key : `${prefix}.${key}`),
  );
}

describe('config', () => {
  it('builds a complete config from the environment alone when no file is given', () => {
    const config = loadConfig({
      env: { ...requiredEnv, ROOMKEEPER_DATA_DIR: 'state', ROOMKEEPER_ADMINS: '@alice:example.org, @bob:example.org' },
      cwd: dir,
    });

    expect(config.homeserverUrl).toBe('https://matrix.example.org');
    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_env_token' });
    expect(config.dataDir).toBe(join(dir, 'state'));
    expect(config.admins).toEqual(['@alice:example.org', '@bob:example.org']);
    expect(config.guard).toEqual({ retentionMs: 30 * 86_400_000, pruneIntervalMs: 6 * 3_600_000 });
  });

  it('lets an environment variable override the same field in the file', () => {
    const file = write('config.yaml', 'homeserverUrl: https://file.example.org\naccessToken: syt_file\nlog:\n  level: warn\n');

    const config = loadConfig({ file, env: { ROOMKEEPER_HOMESERVER_URL: 'https://env.example.org', ROOMKEEPER_LOG_LEVEL: 'debug' } });

    expect(config.homeserverUrl).toBe('https://env.example.org');
    expect(config.log.level).toBe('debug');
    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_file' });
  });

  it("replaces the file's way of logging in when the environment gives a secret", () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\nuserId: "@bot:example.org"\npassword: pw\n');

    const config = loadConfig({ file, env: { ROOMKEEPER_ACCESS_TOKEN: 'syt_env_token' } });

    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_env_token', userId: '@bot:example.org' });
  });

  it('resolves a relative dataDir against the config file directory when it is written in the file', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessToken: t\ndataDir: ./db\n');

    const config = loadConfig({ file, env: {}, cwd: tmpdir() });

    expect(config.dataDir).toBe(join(dir, 'db'));
  });

  it('names an unknown field in the file by its full path when it is a typo', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessToken: t\nguard:\n  retension: 30d\n');

    const message = problemsOf(() => loadConfig({ file, env: {} }));

    expect(message).toContain(`guard.retension: unknown field (did you mean retention?) (from ${file})`);
  });

  it('reports an unknown ROOMKEEPER_ environment variable without showing its value', () => {
    const message = problemsOf(() => loadConfig({ env: { ...requiredEnv, ROOMKEEPER_ACESS_TOKEN: 'syt_typo_secret' } }));

    expect(message).toContain('ROOMKEEPER_ACESS_TOKEN: unknown environment variable (did you mean ROOMKEEPER_ACCESS_TOKEN?)');
    expect(message).not.toContain('syt_typo_secret');
  });

  it('rejects a duration with an unknown unit, naming the field and the file', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessToken: t\nguard:\n  retention: 30x\n');

    const message = problemsOf(() => loadConfig({ file, env: {} }));

    expect(message).toContain(`guard.retention: "30x" is not a duration like`);
    expect(message).toContain(`(from ${file})`);
  });

  it('names the environment variable when an admin from ROOMKEEPER_ADMINS is not a user id', () => {
    const message = problemsOf(() => loadConfig({ env: { ...requiredEnv, ROOMKEEPER_ADMINS: '@alice:example.org,bob' } }));

    expect(message).toContain('admins[1]: "bob" is not a user id like @name:server (from env ROOMKEEPER_ADMINS)');
  });

  it('reads the access token from accessTokenFile relative to the config file', () => {
    write('token', 'syt_from_file\n');
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessTokenFile: token\n');

    const config = loadConfig({ file, env: {}, cwd: tmpdir() });

    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_from_file' });
  });

  it('names the secret file when it cannot be read', () => {
    const missing = join(dir, 'no-such-token');

    const message = problemsOf(() =>
      loadConfig({ env: { ROOMKEEPER_HOMESERVER_URL: 'https://matrix.example.org', ROOMKEEPER_ACCESS_TOKEN_FILE: missing } }),
    );

    expect(message).toContain(`accessTokenFile: cannot read "${missing}": ENOENT (from env ROOMKEEPER_ACCESS_TOKEN_FILE)`);
  });

  it('rejects an access token and a password together without showing either', () => {
    const file = write(
      'config.yaml',
      'homeserverUrl: https://matrix.example.org\naccessToken: syt_secret_token\nuserId: "@bot:example.org"\npassword: secret_password\n',
    );

    const message = problemsOf(() => loadConfig({ file, env: {} }));

    expect(message).toContain('password: conflicts with accessToken');
    expect(message).not.toContain('syt_secret_token');
    expect(message).not.toContain('secret_password');
  });

  it('asks for a password login to name its user when userId is missing', () => {
    const message = problemsOf(() =>
      loadConfig({ env: { ROOMKEEPER_HOMESERVER_URL: 'https://matrix.example.org', ROOMKEEPER_PASSWORD: 'pw' } }),
    );

    expect(message).toContain('userId: required with password; set it in the config file or ROOMKEEPER_USER_ID');
  });

  it('says where to set the homeserver URL when it is missing', () => {
    const message = problemsOf(() => loadConfig({ env: { ROOMKEEPER_ACCESS_TOKEN: 't' } }));

    expect(message).toContain('homeserverUrl: required; set it in the config file or ROOMKEEPER_HOMESERVER_URL');
  });

  it('lists every problem on its own line in one error when there are several', () => {
    const file = write('config.yaml', 'homeserverUrl: ftp://matrix.example.org\naccessToken: t\nhttp:\n  port: 70000\n');

    const message = problemsOf(() => loadConfig({ file, env: { ROOMKEEPER_LOG_LEVEL: 'loud' } }));

    expect(message.split('\n').slice(1)).toEqual([
      `  homeserverUrl: "ftp://matrix.example.org" is not an http or https URL (from ${file})`,
      `  http.port: 70000 is more than 65535 (from ${file})`,
      '  log.level: "loud" is not "trace", "debug", "info", "warn", "error", "fatal" or "silent" (from env ROOMKEEPER_LOG_LEVEL)',
    ]);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessToken: t\nguard:\n\tretention: 30d\n');

    const message = problemsOf(() => loadConfig({ file, env: {} }));

    expect(message).toContain(`${file}:4:1: invalid YAML`);
  });

  it('names the config file when it does not exist', () => {
    const file = join(dir, 'missing.yaml');

    const message = problemsOf(() => loadConfig({ file, env: requiredEnv }));

    expect(message).toContain(`config file ${file} does not exist`);
  });

  it('reads the config file named by ROOMKEEPER_CONFIG when no file is given', () => {
    write('config.yaml', 'homeserverUrl: https://matrix.example.org\naccessToken: t\ncommandPrefix: "?"\n');

    const config = loadConfig({ env: { ROOMKEEPER_CONFIG: 'config.yaml' }, cwd: dir });

    expect(config.commandPrefix).toBe('?');
  });

  it('removes the trailing slash of the homeserver URL', () => {
    const config = loadConfig({ env: { ...requiredEnv, ROOMKEEPER_HOMESERVER_URL: 'https://matrix.example.org/' } });

    expect(config.homeserverUrl).toBe('https://matrix.example.org');
  });

  it('turns ROOMKEEPER_HTTP_LISTEN into an enabled endpoint on that host and port', () => {
    const config = loadConfig({ env: { ...requiredEnv, ROOMKEEPER_HTTP_LISTEN: '[::]:9100' } });

    expect(config.http).toEqual({ enabled: true, host: '::', port: 9100 });
  });

  it('replaces the secrets with "[redacted]" in redactConfig', () => {
    const config = loadConfig({ env: { ...requiredEnv, ROOMKEEPER_ACCESS_TOKEN: 'syt_do_not_log' } });

    const redacted = redactConfig(config);

    expect(JSON.stringify(redacted)).not.toContain('syt_do_not_log');
    expect(redacted.auth).toEqual({ method: 'accessToken', accessToken: '[redacted]' });
    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_do_not_log' });
  });

  it('writes durations as the config file does, not in milliseconds, in redactConfig', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\nguard:\n  retention: 90d\n');
    const config = loadConfig({ file, env: { ROOMKEEPER_ACCESS_TOKEN: 't' } });

    const redacted = redactConfig(config);

    expect(redacted.guard).toEqual({ retention: '90d', pruneInterval: '6h' });
    expect(redacted.reconcile).toEqual({ onStart: true, afterGappySync: false, minInterval: '5m' });
    expect(redacted.commands).toMatchObject({ rateLimit: { count: 5, window: '10s' } });
  });

  it('parses the example file to exactly the defaults', () => {
    const fromExample = loadConfig({ file: examplePath, env: { ROOMKEEPER_ACCESS_TOKEN: 't' } });
    const defaults = loadConfig({ env: { ...requiredEnv, ROOMKEEPER_ACCESS_TOKEN: 't' }, cwd: repoRoot });

    expect(fromExample).toEqual(defaults);
  });

  it('documents every field and environment variable in the example file', () => {
    const text = readFileSync(examplePath, 'utf8');
    const secrets = ['accessToken', 'accessTokenFile', 'userId', 'password', 'passwordFile', ...appserviceSecretSources.map((f) => `appservice.${f}`)];
    const expected = fieldPaths(configSchema).filter((path) => !secrets.includes(path));

    expect(leafPaths(parseYaml(text)).sort()).toEqual(expected.sort());
    for (const field of ['accessToken', 'accessTokenFile', 'userId', 'password', 'passwordFile', ...appserviceSecretSources]) {
      expect(text).toContain(`# ${field}:`);
    }
    for (const name of configEnvVars) expect(text).toContain(name);
  });


  it('lists one YAML syntax error once, and one per line when several lines are wrong', () => {
    const file = write('config.yaml', 'homeserverUrl: https://x\n  accessToken: t\nguard:\n\tretention: 30d\n');

    const lines = problemsOf(() => loadConfig({ file, env: {} })).split('\n').slice(1);

    expect(lines).toEqual([
      `  ${file}:1:16: invalid YAML: Nested mappings are not allowed in compact mappings`,
      `  ${file}:4:1: invalid YAML: Tabs are not allowed as indentation`,
    ]);
  });

  it('resolves passwordFile against the config file directory and names it when it is not a file', () => {
    const file = write('config.yaml', 'homeserverUrl: https://matrix.example.org\npasswordFile: .\nuserId: "@bot:example.org"\n');

    const message = problemsOf(() => loadConfig({ file, env: {} }));

    expect(message).toContain(`passwordFile: cannot read "${dir}": EISDIR (from ${file})`);
  });
});
