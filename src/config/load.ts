import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RoomkeeperError } from '../errors.js';
import { formatExactDuration } from '../state/duration.js';
import { CONFIG_FILE_VAR, readEnv } from './env.js';
import { readConfigFile } from './file.js';
import { describeIssues } from './issues.js';
import { configSchema, secretSources, type AppserviceConfig, type Config, type LoginMethod } from './schema.js';
import { describeOrigin, resolvePath, type Sources } from './sources.js';
import { errorCode, renderPath, show } from './text.js';
import { isRecord, lookup, setPath } from './tree.js';

/** Where `loadConfig` reads from; `cwd` defaults to the process's working directory. */
export interface LoadConfigOptions {
  /** A YAML config file; when left out, `ROOMKEEPER_CONFIG` names one, else only `env` is used. */
  file?: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The config file `loadConfig` reads for these options, as the operator named it; undefined when there is none. */
export function configFileOf(options: Pick<LoadConfigOptions, 'file' | 'env'>): string | undefined {
  return options.file ?? (options.env[CONFIG_FILE_VAR] || undefined);
}

/** What `tryLoadConfig` found: the config, or every problem, one line each. */
export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[]; cause?: unknown };

/** Reads, merges (environment over file) and validates the config, throwing one CONFIG_INVALID error that lists every problem. */
export function loadConfig(options: LoadConfigOptions): Config {
  const result = tryLoadConfig(options);
  if (!result.ok) throw invalid(result.problems, result.cause);
  return result.config;
}

/** `loadConfig` with the problems as a value: `doctor` prints them one per line. */
export function tryLoadConfig(options: LoadConfigOptions): ConfigResult {
  const cwd = options.cwd ?? process.cwd();
  const envRead = readEnv(options.env);
  const problems = [...envRead.problems];

  const fileLabel = configFileOf(options);
  let fileData: Record<string, unknown> = {};
  let fileDir: string | undefined;
  if (fileLabel !== undefined) {
    const path = resolve(cwd, fileLabel);
    const read = readConfigFile(fileLabel, path);
    // Without the file's content, validating the rest would only add noise ("required" fields).
    if (!read.ok) return { ok: false, problems: [...read.problems, ...problems], cause: read.cause };
    fileData = read.data;
    fileDir = dirname(path);
  }

  // A login secret from the environment replaces the file's way of logging in as a whole, so that
  // ROOMKEEPER_ACCESS_TOKEN_FILE can override a file's `password` instead of conflicting with it.
  const isSecretSource = (key: string) => (secretSources as readonly string[]).includes(key);
  if (envRead.assignments.some((a) => isSecretSource(a.path[0] ?? ''))) {
    fileData = Object.fromEntries(Object.entries(fileData).filter(([key]) => !isSecretSource(key)));
  }
  const merged = structuredClone(fileData);
  for (const assignment of envRead.assignments) setPath(merged, assignment.path, assignment.value);

  const sources: Sources = { fileLabel, fileDir, fileData, env: envRead.assignments, cwd };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) problems.push(...describeIssues(parsed.error.issues, [], merged, sources));

  // Read even when other fields failed, so that an unreadable file is reported in the same run.
  const accessTokenFromFile = readSecretFile('accessTokenFile', merged, sources, problems, (s) => s.trim());
  // A password may end in spaces; only the line break an editor adds is dropped.
  const passwordFromFile = readSecretFile('passwordFile', merged, sources, problems, (s) => s.replace(/\r?\n$/, ''));

  const hsTokenFromFile = readSecretFile(['appservice', 'hsTokenFile'], merged, sources, problems, (s) => s.trim());
  const asTokenFromFile = readSecretFile(['appservice', 'asTokenFile'], merged, sources, problems, (s) => s.trim());

  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const { accessToken, accessTokenFile: _t, password, passwordFile: _p, userId, appservice: section, ...rest } = parsed.data;
  const dataDir = resolvePath(['dataDir'], rest.dataDir, sources);

  if (rest.mode === 'appservice') {
    const hsToken = section.hsToken ?? hsTokenFromFile;
    const asToken = section.asToken ?? asTokenFromFile;
    if (hsToken === undefined || asToken === undefined) throw new TypeError('configSchema let an appservice config through without its tokens');
    const appservice: AppserviceConfig = { id: section.id, senderLocalpart: section.senderLocalpart, host: section.host, port: section.port, hsToken, asToken };
    // The bot's client calls use the appservice token; whoami names the sender_localpart user.
    return { ok: true, config: { ...rest, auth: { method: 'accessToken', accessToken: asToken }, appservice, dataDir } };
  }

  let auth: LoginMethod;
  const token = accessToken ?? accessTokenFromFile;
  const secret = password ?? passwordFromFile;
  if (token !== undefined) {
    auth = userId === undefined ? { method: 'accessToken', accessToken: token } : { method: 'accessToken', accessToken: token, userId };
  } else if (secret !== undefined && userId !== undefined) {
    auth = { method: 'password', userId, password: secret };
  } else {
    throw new TypeError('configSchema let a config through without a way to log in');
  }
  return { ok: true, config: { ...rest, auth, dataDir } };
}

function readSecretFile(
  field: 'accessTokenFile' | 'passwordFile' | readonly ['appservice', 'hsTokenFile' | 'asTokenFile'],
  merged: Record<string, unknown>,
  sources: Sources,
  problems: string[],
  clean: (text: string) => string,
): string | undefined {
  const at = typeof field === 'string' ? [field] : [...field];
  const given = lookup(merged, at);
  if (typeof given !== 'string' || given === '') return undefined;
  const path = resolvePath(at, given, sources);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${renderPath(at)}: cannot read ${show(path)}: ${errorCode(err)}${describeOrigin(at, sources)}`);
    return undefined;
  }
  const secret = clean(text);
  if (secret === '') {
    problems.push(`${renderPath(at)}: ${show(path)} is empty${describeOrigin(at, sources)}`);
    return undefined;
  }
  return secret;
}

function invalid(problems: readonly string[], cause?: unknown): RoomkeeperError {
  const message = `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`;
  return new RoomkeeperError('CONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}

/**
 * A copy of `config` that is safe and short to log: secrets are replaced by "[redacted]" and
 * every `…Ms` duration is written as the config file writes it (`retention: "30d"`).
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy = structuredClone(config);
  if (copy.auth.method === 'accessToken') copy.auth.accessToken = '[redacted]';
  else copy.auth.password = '[redacted]';
  if (copy.appservice !== undefined) {
    copy.appservice.hsToken = '[redacted]';
    copy.appservice.asToken = '[redacted]';
  }
  return withDurationsAsWritten(copy) as Record<string, unknown>;
}

function withDurationsAsWritten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withDurationsAsWritten);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) =>
      key.endsWith('Ms') && typeof child === 'number'
        ? [key.slice(0, -2), formatExactDuration(child)]
        : [key, withDurationsAsWritten(child)],
    ),
  );
}
