import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { doctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/index.js';
import { runCli } from '../support/cli.js';
import { startFakeHomeserver, type FakeHomeserver } from '../support/fake-homeserver.js';
import { TempDirs } from '../support/temp-dir.js';

describe('roomkeeper registration', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.cleanup());

  it('writes a 0600 registration for the bot alone and prints a config that loads', async () => {
    const out = join(await dirs.make(), 'registration.yaml');
    const r = await runCli(['registration', '--url', 'http://127.0.0.1:9123', '--out', out, '--server-name', 'example.org', '--localpart', 'room.keeper']);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const reg = parseYaml(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(reg).toMatchObject({ id: 'roomkeeper', url: 'http://127.0.0.1:9123', sender_localpart: 'room.keeper', rate_limited: false });
    expect(reg['namespaces']).toEqual({ users: [{ exclusive: true, regex: '^@room\\.keeper:example\\.org$' }], rooms: [], aliases: [] });
    expect(reg['as_token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(reg['hs_token']).not.toBe(reg['as_token']);
    expect(r.stdout).toContain(`app_service_config_files:\n  - ${out}\n`);

    const configFile = join(await dirs.make(), 'config.yaml');
    writeFileSync(configFile, `homeserverUrl: https://example.org\n${r.stdout.slice(r.stdout.indexOf('mode: appservice'))}`);
    const config = loadConfig({ file: configFile, env: {} });
    expect(config.appservice).toEqual({ id: 'roomkeeper', senderLocalpart: 'room.keeper', host: '127.0.0.1', port: 9123, hsToken: reg['hs_token'], asToken: reg['as_token'] });
  });

  it('refuses to overwrite an existing file unless forced', async () => {
    const out = join(await dirs.make(), 'registration.yaml');
    await writeFile(out, 'keep me');
    const r = await runCli(['registration', '--url', 'http://127.0.0.1:9123', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exists; add --force');
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect((await runCli(['registration', '--url', 'http://127.0.0.1:9123', '--out', out, '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('sender_localpart: roomkeeper');
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});

describe('doctor in appservice mode', () => {
  const dirs = new TempDirs();
  let hs: FakeHomeserver;
  let env: Record<string, string>;
  beforeEach(async () => {
    hs = await startFakeHomeserver();
    hs.addToken(hs.botUserId, 'as-token', 'AS');
    env = {
      ROOMKEEPER_HOMESERVER_URL: hs.url,
      ROOMKEEPER_MODE: 'appservice',
      ROOMKEEPER_APPSERVICE_HS_TOKEN: 'hs-token',
      ROOMKEEPER_APPSERVICE_AS_TOKEN: 'as-token',
      ROOMKEEPER_DATA_DIR: await dirs.make(),
    };
  });
  afterEach(async () => {
    await hs.close();
    await dirs.cleanup();
  });

  it('checks the as_token and that the listener can listen', async () => {
    const checks = await doctor(undefined, env);
    expect(checks.find((c) => c.name === 'token')).toMatchObject({ status: 'ok', detail: `token belongs to ${hs.botUserId}` });
    expect(checks.find((c) => c.name === 'appservice')).toMatchObject({ status: 'ok', detail: expect.stringContaining('can listen on 127.0.0.1:9000') });
  });

  it('fails when the listener port is taken, the token is unknown, or the tokens are the same', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const file = join(await dirs.make(), 'c.yaml');
    await writeFile(file, `appservice:\n  port: ${port}\n`);
    try {
      const checks = await doctor(file, { ...env, ROOMKEEPER_APPSERVICE_AS_TOKEN: 'hs-token' });
      const failing = checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.detail}`);
      expect(failing).toEqual([
        'token: the homeserver rejected the access token: M_UNKNOWN_TOKEN',
        'appservice: hsToken and asToken are the same',
        `appservice: the listener cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      ]);
    } finally {
      busy.close();
    }
  });
});
