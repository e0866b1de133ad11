import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { redactConfig, loadConfig } from '../src/config/index.js';
import { createLogger, LOG_LEVELS } from '../src/log.js';

/** A logger whose lines land in `lines`, parsed. */
function capture(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger({ level: 'trace', destination }) };
}

describe('log', () => {
  it('redacts the secrets of a config logged without redactConfig', () => {
    const { lines, log } = capture();
    const config = loadConfig({ env: { ROOMKEEPER_HOMESERVER_URL: 'https://m.example.org', ROOMKEEPER_USER_ID: '@b:example.org', ROOMKEEPER_PASSWORD: 'hunter2' } });

    log.info({ config }, 'starting roomkeeper');
    log.info({ config: { auth: { accessToken: 'syt_secret' } } }, 'starting roomkeeper');

    expect(JSON.stringify(lines)).not.toMatch(/hunter2|syt_secret/);
    expect(lines[0]).toMatchObject({ config: { auth: { method: 'password', password: '[redacted]' } } });
    expect(lines[1]).toMatchObject({ config: { auth: { accessToken: '[redacted]' } } });
  });

  it('writes the start-up config dump on one line with durations as written', () => {
    const { lines, log } = capture();
    const config = loadConfig({ env: { ROOMKEEPER_HOMESERVER_URL: 'https://m.example.org', ROOMKEEPER_ACCESS_TOKEN: 't' } });

    log.info({ config: redactConfig(config) }, 'starting roomkeeper');

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ config: { guard: { retention: '30d', pruneInterval: '6h' } } });
  });

  it('accepts every listed level, and the config accepts exactly the same', () => {
    for (const level of LOG_LEVELS) {
      expect(createLogger({ level }).level).toBe(level);
      const config = loadConfig({ env: { ROOMKEEPER_HOMESERVER_URL: 'https://m.example.org', ROOMKEEPER_ACCESS_TOKEN: 't', ROOMKEEPER_LOG_LEVEL: level } });
      expect(config.log.level).toBe(level);
    }
  });
});
