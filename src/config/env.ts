import { closest, renderPath, show } from './text.js';

type EnvParse = { ok: true; value: unknown } | { ok: false; problem: string };

const asIs = (text: string): EnvParse => ({ ok: true, value: text });
const commaList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** Where an environment variable goes in the config, and how its text becomes a value there. */
export interface EnvVar {
  path: readonly string[];
  parse: (text: string) => EnvParse;
}

/** Every `ROOMKEEPER_*` variable but `ROOMKEEPER_CONFIG`, by name. */
export const envVars: Readonly<Record<string, EnvVar>> = {
  ROOMKEEPER_HOMESERVER_URL: { path: ['homeserverUrl'], parse: asIs },
  ROOMKEEPER_ACCESS_TOKEN: { path: ['accessToken'], parse: asIs },
  ROOMKEEPER_ACCESS_TOKEN_FILE: { path: ['accessTokenFile'], parse: asIs },
  ROOMKEEPER_USER_ID: { path: ['userId'], parse: asIs },
  ROOMKEEPER_PASSWORD: { path: ['password'], parse: asIs },
  ROOMKEEPER_PASSWORD_FILE: { path: ['passwordFile'], parse: asIs },
  ROOMKEEPER_DATA_DIR: { path: ['dataDir'], parse: asIs },
  ROOMKEEPER_MODE: { path: ['mode'], parse: asIs },
  ROOMKEEPER_APPSERVICE_HS_TOKEN: { path: ['appservice', 'hsToken'], parse: asIs },
  ROOMKEEPER_APPSERVICE_HS_TOKEN_FILE: { path: ['appservice', 'hsTokenFile'], parse: asIs },
  ROOMKEEPER_APPSERVICE_AS_TOKEN: { path: ['appservice', 'asToken'], parse: asIs },
  ROOMKEEPER_APPSERVICE_AS_TOKEN_FILE: { path: ['appservice', 'asTokenFile'], parse: asIs },
  ROOMKEEPER_COMMAND_PREFIX: { path: ['commandPrefix'], parse: asIs },
  ROOMKEEPER_ADMINS: { path: ['admins'], parse: (text) => ({ ok: true, value: commaList(text) }) },
  ROOMKEEPER_AUTO_JOIN: {
    path: ['autoJoin'],
    parse: (text) => {
      if (text === 'all' || text === 'none') return { ok: true, value: text };
      const items = commaList(text);
      if (items.length === 0) {
        return { ok: false, problem: `${show(text)} is not all, none, or a comma-separated list of user ids and servers` };
      }
      const users = items.filter((item) => item.startsWith('@'));
      const servers = items.filter((item) => !item.startsWith('@'));
      return { ok: true, value: { allow: { users, servers } } };
    },
  },
  ROOMKEEPER_ENCRYPTION: {
    path: ['encryption', 'enabled'],
    parse: (text) => ({ ok: true, value: text === 'true' ? true : text === 'false' ? false : text }),
  },
  ROOMKEEPER_HTTP_LISTEN: {
    path: ['http'],
    parse: (text) => {
      if (text === 'off') return { ok: true, value: { enabled: false } };
      const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
      if (match === null) {
        return { ok: false, problem: `${show(text)} is not host:port like 127.0.0.1:9464 or [::1]:9464, or off` };
      }
      return { ok: true, value: { enabled: true, host: match[1] ?? match[2], port: Number(match[3]) } };
    },
  },
  ROOMKEEPER_LOG_LEVEL: { path: ['log', 'level'], parse: asIs },
  ROOMKEEPER_LOG_FORMAT: { path: ['log', 'format'], parse: asIs },
};

/** The config file to read when `loadConfig` is given none. */
export const CONFIG_FILE_VAR = 'ROOMKEEPER_CONFIG';

/** Every environment variable the config loader reads. */
export const configEnvVars: readonly string[] = [CONFIG_FILE_VAR, ...Object.keys(envVars)];

/** A value the environment sets, and which variable set it. */
export interface EnvAssignment {
  name: string;
  path: readonly string[];
  value: unknown;
}

/** The assignments of every known `ROOMKEEPER_*` variable, and a line for each unknown or malformed one. */
export function readEnv(env: NodeJS.ProcessEnv): { assignments: EnvAssignment[]; problems: string[] } {
  const assignments: EnvAssignment[] = [];
  const problems: string[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !/^roomkeeper_/i.test(name) || name === CONFIG_FILE_VAR) continue;
    const known = envVars[name];
    if (known === undefined) {
      // The value is never shown: a mistyped ROOMKEEPER_ACCESS_TOKEN holds a token.
      const guess = closest(name, configEnvVars);
      problems.push(`${name}: unknown environment variable${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
      continue;
    }
    const parsed = known.parse(text);
    if (parsed.ok) assignments.push({ name, path: known.path, value: parsed.value });
    else problems.push(`${renderPath(known.path)}: ${parsed.problem} (from env ${name})`);
  }
  return { assignments, problems };
}
