import { createServer } from 'node:net';
import { configFileOf, tryLoadConfig, type AppserviceConfig, type Config } from '../config/index.js';
import { isRoomkeeperError } from '../errors.js';
import { probeVersions, probeWhoAmI } from '../matrix/probe.js';
import { cryptoAvailability } from '../matrix/sdk.js';
import { SCHEMA_VERSION, Store } from '../store/store.js';
import { examineDataDir } from './data-dir.js';

/** One finding of `doctor`: a `fail` is something the operator must fix (exit code 2). */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  hint?: string;
}

// The ports fetch refuses to connect to (WHATWG Fetch, "bad port"). Node's fetch fails on them
// with "bad port" before any connection, so doctor could not probe such a homeserver; and
// browsers, Element included, refuse them too.
const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
  113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665,
  6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

function badPortCheck(homeserverUrl: string): Check | undefined {
  const url = new URL(homeserverUrl);
  if (url.port === '' || !FETCH_BAD_PORTS.has(Number(url.port))) return undefined;
  return {
    name: 'config',
    status: 'fail',
    detail: `homeserverUrl: port ${url.port} is one that fetch and browsers refuse to connect to`,
    hint: 'serve the client API on another port (443 or 8008, for example)',
  };
}

/** The data dir and its database, looked at without creating either. */
async function checkDataDir(dataDir: string): Promise<Check[]> {
  const state = await examineDataDir(dataDir, 'create');
  if (!state.ok) return [{ name: 'data dir', status: 'fail', detail: state.problem, hint: state.hint }];
  if (!state.exists) {
    return [
      { name: 'data dir', status: 'ok', detail: `${dataDir} does not exist yet; roomkeeper run creates it (its parent is writable)` },
      { name: 'database', status: 'skip', detail: 'none yet; roomkeeper run creates it' },
    ];
  }
  const writable: Check = { name: 'data dir', status: 'ok', detail: `${dataDir} is writable` };
  if (!state.hasDatabase) return [writable, { name: 'database', status: 'skip', detail: 'none yet; roomkeeper run creates it' }];
  try {
    const store = await Store.open(dataDir);
    const rooms = (await store.rooms.allRooms()).length;
    await store.close();
    return [writable, { name: 'database', status: 'ok', detail: `schema ${SCHEMA_VERSION}, ${rooms} rooms tracked, not in use` }];
  } catch (err) {
    if (isRoomkeeperError(err, 'STORE_LOCKED')) {
      return [writable, { name: 'database', status: 'fail', detail: err.message, hint: 'the daemon is running (stop it first) or another process holds the data dir' }];
    }
    if (isRoomkeeperError(err)) return [writable, { name: 'database', status: 'fail', detail: err.message, hint: 'see the README, "Troubleshooting"' }];
    throw err;
  }
}

/**
 * `roomkeeper doctor`: checks the config, the homeserver, the token, the data dir and the crypto
 * binding, one finding per line with a hint for what failed. It creates nothing.
 */
export async function doctor(configFile: string | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const loaded = tryLoadConfig({ file: configFile, env });
  if (!loaded.ok) {
    return loaded.problems.map((problem) => ({ name: 'config', status: 'fail', detail: problem, hint: 'see config.example.yaml' }));
  }
  const config: Config = loaded.config;
  const file = configFileOf({ file: configFile, env });
  const checks: Check[] = [{ name: 'config', status: 'ok', detail: file === undefined ? 'from the environment' : `from file ${file}` }];

  const badPort = badPortCheck(config.homeserverUrl);
  if (badPort !== undefined) {
    checks.push(badPort, { name: 'homeserver', status: 'skip', detail: 'not probed: fix homeserverUrl first' }, { name: 'token', status: 'skip', detail: 'homeserver not probed' });
  } else {
    const versions = await probeVersions(config.homeserverUrl);
    checks.push(versions.ok ? { name: 'homeserver', status: 'ok', detail: versions.detail } : { name: 'homeserver', status: 'fail', detail: versions.detail, hint: versions.hint });
    checks.push(await checkToken(config, versions.ok));
  }

  if (config.appservice !== undefined) checks.push(...(await checkAppservice(config.appservice)));
  checks.push(...(await checkDataDir(config.dataDir)));

  checks.push(checkCrypto(config));
  return checks;
}

/** The appservice section: the two tokens differ, and the listener's address is free to listen on. */
async function checkAppservice(appservice: AppserviceConfig): Promise<Check[]> {
  const checks: Check[] = [];
  if (appservice.hsToken === appservice.asToken) {
    checks.push({ name: 'appservice', status: 'fail', detail: 'hsToken and asToken are the same', hint: 'roomkeeper registration writes two different ones' });
  }
  const where = `${appservice.host}:${appservice.port}`;
  const problem = await new Promise<string | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(appservice.port, appservice.host, () => server.close(() => resolve(undefined)));
  });
  checks.push(
    problem === undefined
      ? { name: 'appservice', status: 'ok', detail: `registration ${appservice.id}, bot ${appservice.senderLocalpart}; the listener can listen on ${where}` }
      : { name: 'appservice', status: 'fail', detail: `the listener cannot listen on ${where}: ${problem}`, hint: problem === 'EADDRINUSE' ? 'the daemon is running, or another process has the port' : 'check appservice.host and appservice.port' },
  );
  return checks;
}

async function checkToken(config: Config, homeserverAnswers: boolean): Promise<Check> {
  if (config.auth.method !== 'accessToken') {
    return { name: 'token', status: 'skip', detail: `password login as ${config.auth.userId} happens at start-up` };
  }
  if (!homeserverAnswers) return { name: 'token', status: 'skip', detail: 'homeserver unreachable' };
  const who = await probeWhoAmI(config.homeserverUrl, config.auth.accessToken);
  if (!who.ok) {
    const hint = config.appservice === undefined ? who.hint : "the homeserver does not know the appservice's as_token: add the registration file to app_service_config_files and restart it";
    return { name: 'token', status: 'fail', detail: who.detail, hint };
  }
  const localpart = who.userId?.slice(1, who.userId.indexOf(':'));
  if (config.appservice !== undefined && localpart !== config.appservice.senderLocalpart) {
    return { name: 'token', status: 'fail', detail: `the as_token acts as ${who.userId}, not as ${config.appservice.senderLocalpart}`, hint: "set appservice.senderLocalpart to the registration's sender_localpart" };
  }
  return { name: 'token', status: 'ok', detail: who.detail };
}

function checkCrypto(config: Config): Check {
  // roomkeeper decrypts nothing (README, "Encryption"); the binding only decides whether
  // matrix-bot-sdk loads its own crypto module or roomkeeper's stand-in.
  const binding = cryptoAvailability().available ? 'native crypto binding present' : 'native crypto binding missing, stand-in used';
  if (!config.encryption.enabled) return { name: 'crypto', status: 'skip', detail: `encryption off in config; ${binding}` };
  return {
    name: 'crypto',
    status: 'warn',
    detail: `encryption.enabled is set, but roomkeeper does not decrypt: encrypted DMs cannot be read (${binding})`,
    hint: 'see README, "Encryption"',
  };
}

/** One line per check: `OK    name        detail — hint`. */
export function formatChecks(checks: readonly Check[]): string {
  return checks
    .map((c) => `${c.status.toUpperCase().padEnd(5)} ${c.name.padEnd(11)} ${c.detail}${c.hint === undefined ? '' : ` — ${c.hint}`}`)
    .join('\n') + '\n';
}
