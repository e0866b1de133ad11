import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config/index.js';
import { isRoomkeeperError } from '../errors.js';
import { probeVersions, probeWhoAmI } from '../matrix/probe.js';
import { cryptoAvailability } from '../matrix/sdk.js';
import { SCHEMA_VERSION, Store } from '../store/store.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  hint?: string;
}

async function checkDataDir(dataDir: string): Promise<Check[]> {
  const probe = join(dataDir, `.doctor-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (err) {
    return [{ name: 'data dir', status: 'fail', detail: `${dataDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, hint: 'create it and give the bot user write access' }];
  }
  try {
    const store = await Store.open(dataDir);
    const rooms = (await store.rooms.allRooms()).length;
    await store.close();
    return [
      { name: 'data dir', status: 'ok', detail: `${dataDir} is writable` },
      { name: 'database', status: 'ok', detail: `schema ${SCHEMA_VERSION}, ${rooms} rooms tracked, not in use` },
    ];
  } catch (err) {
    if (isRoomkeeperError(err, 'STORE_LOCKED')) {
      return [{ name: 'database', status: 'fail', detail: err.message, hint: 'the daemon is running (stop it first) or another process holds the data dir' }];
    }
    if (isRoomkeeperError(err)) return [{ name: 'database', status: 'fail', detail: err.message, hint: 'see the README, "Troubleshooting"' }];
    throw err;
  }
}

/**
 * `roomkeeper doctor`: checks the config, the homeserver, the token, the data dir and the crypto
 * binding, one line each with a hint for what failed. Exit code 1 when a check failed.
 */
export async function doctor(configFile: string | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Config;
  try {
    config = loadConfig({ file: configFile, env });
    checks.push({ name: 'config', status: 'ok', detail: configFile ?? 'from the environment' });
  } catch (err) {
    if (!isRoomkeeperError(err)) throw err;
    checks.push({ name: 'config', status: 'fail', detail: err.message.replace(/\n\s*/g, '; '), hint: 'see config.example.yaml' });
    return checks;
  }

  const versions = await probeVersions(config.homeserverUrl);
  checks.push(versions.ok ? { name: 'homeserver', status: 'ok', detail: versions.detail } : { name: 'homeserver', status: 'fail', detail: versions.detail, hint: versions.hint });

  if (config.auth.method === 'accessToken') {
    if (versions.ok) {
      const who = await probeWhoAmI(config.homeserverUrl, config.auth.accessToken);
      checks.push(who.ok ? { name: 'token', status: 'ok', detail: who.detail } : { name: 'token', status: 'fail', detail: who.detail, hint: who.hint });
    } else {
      checks.push({ name: 'token', status: 'skip', detail: 'homeserver unreachable' });
    }
  } else {
    checks.push({ name: 'token', status: 'skip', detail: `password login as ${config.auth.userId} happens at start-up` });
  }

  checks.push(...(await checkDataDir(config.dataDir)));

  const crypto = cryptoAvailability();
  checks.push(
    crypto.available
      ? { name: 'crypto', status: 'ok', detail: `native crypto binding loaded; encryption ${config.encryption.enabled ? 'enabled' : 'disabled in config'}` }
      : { name: 'crypto', status: 'warn', detail: 'native crypto binding missing: encrypted DMs cannot be read', hint: 'optional; see README, "Encrypted DMs"' },
  );
  return checks;
}

/** One line per check: `ok    name       detail (hint)`. */
export function formatChecks(checks: readonly Check[]): string {
  return checks
    .map((c) => `${c.status.toUpperCase().padEnd(5)} ${c.name.padEnd(11)} ${c.detail}${c.hint === undefined ? '' : ` — ${c.hint}`}`)
    .join('\n') + '\n';
}
