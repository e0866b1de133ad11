import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doctor, formatChecks } from '../../src/cli/doctor.js';
import { Store } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { TempDirs } from '../support/temp-dir.js';

describe('doctor', () => {
  const dirs = new TempDirs();
  let hs: FakeHomeserver;
  let env: Record<string, string>;
  beforeEach(async () => {
    hs = await startFakeHomeserver();
    env = { ROOMKEEPER_HOMESERVER_URL: hs.url, ROOMKEEPER_ACCESS_TOKEN: hs.botToken, ROOMKEEPER_DATA_DIR: await dirs.make() };
  });
  afterEach(async () => {
    await hs.close();
    await dirs.cleanup();
  });

  const statusOf = (checks: Awaited<ReturnType<typeof doctor>>) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

  it('passes every check when all is well, and skips crypto when encryption is off', async () => {
    const checks = await doctor(undefined, env);
    expect(statusOf(checks)).toEqual({ config: 'ok', homeserver: 'ok', token: 'ok', 'data dir': 'ok', database: 'skip', crypto: 'skip' });
    expect(formatChecks(checks)).toContain(`token belongs to ${hs.botUserId}`);
    expect(checks[0]?.detail).toBe('from the environment');
  });

  it('warns, without failing, that encrypted DMs cannot be read when encryption is enabled', async () => {
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_ENCRYPTION: 'true' });
    expect(checks.find((c) => c.name === 'crypto')).toMatchObject({ status: 'warn', detail: expect.stringContaining('roomkeeper does not decrypt') });
    expect(checks.some((c) => c.status === 'fail')).toBe(false);
  });

  it('reads an existing database without changing what it holds', async () => {
    const store = await Store.open(env.ROOMKEEPER_DATA_DIR!);
    await store.close();
    const checks = await doctor(undefined, env);
    expect(checks.find((c) => c.name === 'database')).toMatchObject({ status: 'ok', detail: expect.stringContaining('0 rooms tracked') });
  });

  it('creates nothing when the data dir does not exist yet', async () => {
    const dataDir = join(await dirs.make(), 'data');
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_DATA_DIR: dataDir });
    expect(statusOf(checks)).toMatchObject({ 'data dir': 'ok', database: 'skip' });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('fails the data dir check when it is a file', async () => {
    const file = join(await dirs.make(), 'data');
    await writeFile(file, '');
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_DATA_DIR: file });
    expect(checks.find((c) => c.name === 'data dir')).toMatchObject({ status: 'fail', detail: `${file} is not a directory` });
  });

  it('names the config file given by ROOMKEEPER_CONFIG', async () => {
    const file = join(await dirs.make(), 'config.yaml');
    await writeFile(file, `homeserverUrl: ${hs.url}\n`);
    const { ROOMKEEPER_HOMESERVER_URL: _url, ...rest } = env;
    const checks = await doctor(undefined, { ...rest, ROOMKEEPER_CONFIG: file });
    expect(checks[0]).toEqual({ name: 'config', status: 'ok', detail: `from file ${file}` });
  });

  it('fails the token check with a hint when the homeserver rejects the token', async () => {
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_ACCESS_TOKEN: 'wrong' });
    const token = checks.find((c) => c.name === 'token');
    expect(token?.status).toBe('fail');
    expect(token?.detail).toContain('M_UNKNOWN_TOKEN');
  });

  it('fails the homeserver check when nothing answers at the URL', async () => {
    await hs.down();
    const checks = await doctor(undefined, env);
    expect(statusOf(checks)).toMatchObject({ homeserver: 'fail', token: 'skip' });
  });

  it('reports a port that fetch refuses as a config problem, not as the homeserver being unreachable', async () => {
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_HOMESERVER_URL: 'http://127.0.0.1:6000' });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([
      expect.objectContaining({ name: 'config', detail: expect.stringContaining('port 6000') }),
    ]);
    expect(statusOf(checks)).toMatchObject({ homeserver: 'skip', token: 'skip' });
  });

  it('says the data dir is in use when the daemon holds it', async () => {
    const store = await Store.open(env.ROOMKEEPER_DATA_DIR!);
    try {
      const db = (await doctor(undefined, env)).find((c) => c.name === 'database');
      expect(db?.status).toBe('fail');
      expect(db?.detail).toContain('in use by another roomkeeper process');
    } finally {
      await store.close();
    }
  });

  it('stops at the config check with one finding per problem when the config is invalid', async () => {
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_HOMESERVER_URL: 'not a url', ROOMKEEPER_LOG_LEVEL: 'loud' });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['config', 'fail'],
      ['config', 'fail'],
    ]);
    expect(checks[0]?.detail).toMatch(/^homeserverUrl: /);
    expect(checks[1]?.detail).toMatch(/^log\.level: /);
    for (const line of formatChecks(checks).trimEnd().split('\n')) expect(line).toMatch(/^FAIL {2}config {6}\S/);
  });

  it('lists a YAML syntax error once', async () => {
    const file = join(await dirs.make(), 'config.yaml');
    await writeFile(file, 'homeserverUrl: https://x\n  accessToken: t\n');
    const checks = await doctor(file, {});
    expect(checks).toEqual([expect.objectContaining({ name: 'config', status: 'fail', detail: expect.stringContaining(`${file}:1:`) })]);
  });

  it('exits 2 from the command line when a check fails, and 0 when all pass', async () => {
    const bad = await runCli(['doctor'], '', { env: { ...env, ROOMKEEPER_HOMESERVER_URL: 'not a url' } });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^FAIL {2}config {6}homeserverUrl: /);
    const good = await runCli(['doctor'], '', { env });
    expect(good.code, good.stdout).toBe(0);
  });
});
