/**
 * Global setup of the e2e project: the homeserver the tests talk to. E2E_HOMESERVER_URL and
 * E2E_SHARED_SECRET_FILE name a running one; without them a Synapse from ../shared/synapse is set
 * up in a temp directory on a free port, started, and stopped (and removed) after the run.
 * `startOwnSynapse` does the same for a test file that needs a Synapse of its own (the appservice
 * suite: a registration is read at Synapse's start, so it cannot join a running server).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eHomeserverUrl: string;
    e2eSharedSecretFile: string;
  }
}

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `shared/synapse` beside the repository, or beside one of its parents (a worktree sits deeper). */
function synapseScripts(): string {
  const given = process.env['E2E_SYNAPSE_SCRIPTS'];
  if (given !== undefined && given !== '') return given;
  for (let dir = dirname(ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'synapse');
    if (existsSync(join(candidate, 'setup.sh'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error('no shared/synapse/setup.sh beside the repository: set E2E_HOMESERVER_URL and E2E_SHARED_SECRET_FILE');
}

/** A port free now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A Synapse this run set up and started, in a temp dir of its own. */
export interface OwnSynapse {
  url: string;
  sharedSecretFile: string;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Sets up and starts a Synapse from ../shared/synapse in a new temp dir on a free port, with
 * these appservice registration files in `app_service_config_files` (Synapse reads them at start).
 */
export async function startOwnSynapse(options: { registrationFiles?: readonly string[]; label?: string } = {}): Promise<OwnSynapse> {
  const scripts = synapseScripts();
  const target = await mkdtemp(join(tmpdir(), 'roomkeeper-e2e-synapse-'));
  const port = await freePort();
  // The port is written into homeserver.yaml at setup time, so it is chosen before setup.sh.
  const env = { ...process.env, SYNAPSE_PORT: String(port) };
  const t0 = Date.now();
  execFileSync('bash', [join(scripts, 'setup.sh'), target], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const files = options.registrationFiles ?? [];
  if (files.length > 0) {
    // After setup.sh, which rewrites homeserver.yaml on every run.
    await appendFile(join(target, 'data', 'homeserver.yaml'), `app_service_config_files:\n${files.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}`);
  }
  execFileSync('bash', [join(scripts, 'start.sh'), target], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`[e2e] Synapse${options.label === undefined ? '' : ` (${options.label})`} on 127.0.0.1:${port} in ${target}, ready after ${Date.now() - t0} ms`);
  return {
    url: `http://127.0.0.1:${port}`,
    sharedSecretFile: join(target, 'data', 'registration_shared_secret'),
    stop: async () => {
      execFileSync('bash', [join(scripts, 'stop.sh'), target], { stdio: ['ignore', 'inherit', 'inherit'] });
      await rm(target, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const url = process.env['E2E_HOMESERVER_URL'];
  const secretFile = process.env['E2E_SHARED_SECRET_FILE'];
  if ((url === undefined) !== (secretFile === undefined)) {
    throw new Error('set both E2E_HOMESERVER_URL and E2E_SHARED_SECRET_FILE, or neither (then a Synapse is started)');
  }
  if (url !== undefined && secretFile !== undefined) {
    project.provide('e2eHomeserverUrl', url);
    project.provide('e2eSharedSecretFile', secretFile);
    return undefined;
  }
  const synapse = await startOwnSynapse();
  project.provide('e2eHomeserverUrl', synapse.url);
  project.provide('e2eSharedSecretFile', synapse.sharedSecretFile);
  return () => synapse.stop();
}
