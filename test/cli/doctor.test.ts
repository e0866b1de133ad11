import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doctor, formatChecks } from '../../src/cli/doctor.js';
import { Store } from '../../src/store/store.js';
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

  it('passes every check but crypto when all is well on a machine without the binding', async () => {
    const checks = await doctor(undefined, env);
    expect(statusOf(checks)).toEqual({ config: 'ok', homeserver: 'ok', token: 'ok', 'data dir': 'ok', database: 'ok', crypto: 'warn' });
    expect(formatChecks(checks)).toContain(`token belongs to ${hs.botUserId}`);
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

  it('says the data dir is in use when the daemon holds it', async () => {
    const store = await Store.open(env.ROOMKEEPER_DATA_DIR!, { create: true });
    try {
      const db = (await doctor(undefined, env)).find((c) => c.name === 'database');
      expect(db?.status).toBe('fail');
      expect(db?.detail).toContain('in use by another roomkeeper process');
    } finally {
      await store.close();
    }
  });

  it('stops at the config check and names the field when the config is invalid', async () => {
    const checks = await doctor(undefined, { ...env, ROOMKEEPER_HOMESERVER_URL: 'not a url' });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'config', status: 'fail' });
    expect(checks[0]?.detail).toContain('homeserverUrl');
  });
});
