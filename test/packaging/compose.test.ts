import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configEnvVars, loadConfig } from '../../src/config/index.js';
import { envOf, parseDockerfile } from './dockerfile-parse.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}
const compose = parse(readFileSync(join(root, 'docker-compose.example.yml'), 'utf8')) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};
const bot = compose.services.roomkeeper!;
const imageEnv = envOf(parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8')).stages.at(-1)!);

describe('docker-compose.example.yml', () => {
  it('builds roomkeeper from this repository', () => {
    const context = typeof bot.build === 'string' ? bot.build : bot.build?.context;
    expect(existsSync(join(root, context ?? '', 'Dockerfile'))).toBe(true);
  });

  it('runs a Synapse homeserver that roomkeeper waits for and reaches by service name', () => {
    expect(compose.services.synapse?.image).toMatch(/^matrixdotorg\/synapse:/);
    expect(bot.depends_on?.synapse?.condition).toBe('service_healthy');
    expect(new URL(bot.environment!.ROOMKEEPER_HOMESERVER_URL!).hostname).toBe('synapse');
  });

  it('keeps the data directory on a named volume', () => {
    const target = imageEnv.ROOMKEEPER_DATA_DIR;
    const mount = bot.volumes?.find((v) => v.split(':')[1] === target);
    expect(mount).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(mount!.split(':')[0]);
  });

  it('publishes the health endpoint on the host loopback only', () => {
    const port = /:(\d+)$/.exec(imageEnv.ROOMKEEPER_HTTP_LISTEN ?? '')?.[1];
    expect(bot.ports).toContain(`127.0.0.1:${port}:${port}`);
  });

  it('gives the token as a file secret and only config variables the loader accepts', () => {
    const tokenPath = bot.environment!.ROOMKEEPER_ACCESS_TOKEN_FILE!;
    const secret = bot.secrets?.[0];
    expect(tokenPath).toBe(`/run/secrets/${secret}`);
    expect(compose.secrets[secret!]?.file).toBeDefined();
    for (const name of Object.keys(bot.environment!)) expect(configEnvVars, name).toContain(name);

    const dir = mkdtempSync(join(tmpdir(), 'roomkeeper-compose-'));
    try {
      writeFileSync(join(dir, 'token'), 'syt_example\n');
      const env = { ...imageEnv, ...bot.environment, ROOMKEEPER_ACCESS_TOKEN_FILE: join(dir, 'token') };
      const config = loadConfig({ env, cwd: '/app' });
      expect(config.auth).toEqual({ method: 'accessToken', accessToken: 'syt_example' });
      expect(config.dataDir).toBe('/data');
      expect(config.http.enabled).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
