import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, redactConfig, tryLoadConfig } from '../src/config/index.js';

const base = { ROOMKEEPER_HOMESERVER_URL: 'https://matrix.example.org', ROOMKEEPER_MODE: 'appservice' };

describe('config in appservice mode', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'roomkeeper-config-as-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function problems(env: Record<string, string>, file?: string): string[] {
    const r = tryLoadConfig({ env, file });
    return r.ok ? [] : r.problems;
  }

  it('acts with the as_token and keeps the listener settings', () => {
    const config = loadConfig({ env: { ...base, ROOMKEEPER_APPSERVICE_HS_TOKEN: 'hs', ROOMKEEPER_APPSERVICE_AS_TOKEN: 'as' } });
    expect(config.mode).toBe('appservice');
    expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'as' });
    expect(config.appservice).toEqual({ id: 'roomkeeper', senderLocalpart: 'roomkeeper', host: '127.0.0.1', port: 9000, hsToken: 'hs', asToken: 'as' });
  });

  it('reads the tokens from files relative to the config file', () => {
    writeFileSync(join(dir, 'hs'), 'hs-from-file\n');
    writeFileSync(join(dir, 'as'), ' as-from-file ');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'homeserverUrl: https://m.example.org\nmode: appservice\nappservice:\n  hsTokenFile: hs\n  asTokenFile: as\n  port: 9100\n  id: rk\n');
    const config = loadConfig({ file, env: {} });
    expect(config.appservice).toMatchObject({ hsToken: 'hs-from-file', asToken: 'as-from-file', port: 9100, id: 'rk' });
  });

  it('names each missing token and refuses a login field, without quoting secrets', () => {
    expect(problems({ ...base, ROOMKEEPER_ACCESS_TOKEN: 'syt_secret' })).toEqual([
      'accessToken: not used with mode: appservice; the bot uses appservice.asToken (or asTokenFile) (from env ROOMKEEPER_ACCESS_TOKEN)',
      'appservice.hsToken: required with mode: appservice; set hsToken or hsTokenFile (roomkeeper registration prints both)',
      'appservice.asToken: required with mode: appservice; set asToken or asTokenFile (roomkeeper registration prints both)',
    ]);
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'homeserverUrl: https://m.example.org\nmode: appservice\nappservice:\n  hsToken: 12345\n  asToken: a\n  asTokenFile: /x\n  port: 70000\n  idd: x\n');
    const lines = problems({}, file);
    expect(lines.join('\n')).not.toContain('12345');
    expect(lines).toContain(`appservice.hsToken: the value is not a string (from ${file})`);
    expect(lines.some((l) => l.startsWith('appservice.asTokenFile: conflicts with asToken'))).toBe(true);
    expect(lines.some((l) => l.startsWith('appservice.port: 70000 is more than 65535'))).toBe(true);
    expect(lines.some((l) => l.startsWith('appservice.idd: unknown field (did you mean id?)'))).toBe(true);
  });

  it('refuses an unknown mode', () => {
    expect(problems({ ...base, ROOMKEEPER_MODE: 'push' })[0]).toMatch(/^mode: "push" is not "sync" or "appservice"/);
  });

  it('redacts both tokens in the logged config', () => {
    const config = loadConfig({ env: { ...base, ROOMKEEPER_APPSERVICE_HS_TOKEN: 'hs-secret', ROOMKEEPER_APPSERVICE_AS_TOKEN: 'as-secret' } });
    const text = JSON.stringify(redactConfig(config));
    expect(text).not.toContain('hs-secret');
    expect(text).not.toContain('as-secret');
  });
});
