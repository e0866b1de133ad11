import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { RoomkeeperError } from './errors.js';
import type { LogLevel } from './log.js';
import { formatExactDuration, parseDuration } from './state/duration.js';
import { userIdSchema, type UserId } from './state/ids.js';

// ---------------------------------------------------------------------------------------------
// Durations

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// setTimeout fires after 1 ms (with a warning) when asked to wait longer than 2^31-1 ms, so an
// interval that feeds a timer must stay below it.
const LONGEST_TIMER = 2 ** 31 - 1;


// ---------------------------------------------------------------------------------------------
// Schema. Every message that quotes a value is written here; the two secrets never quote theirs.

/** A value as it may appear in an error: JSON, cut short. Never call it on a secret. */
function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? typeof value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const quoted = (text: string) => ({ error: (iss: { input?: unknown }) => `${show(iss.input)} ${text}` });
const atLeast = (min: number) => ({ error: (iss: { input?: unknown }) => `${show(iss.input)} is less than ${min}` });
const atMost = (max: number) => ({ error: (iss: { input?: unknown }) => `${show(iss.input)} is more than ${max}` });

const secretSchema = z.string().min(1, { error: 'must not be empty' });
const filePathSchema = z.string().min(1, quoted('is not a file path'));

const homeserverUrlSchema = z.string().transform((text, ctx) => {
  if (!URL.canParse(text)) {
    ctx.addIssue({ code: 'custom', message: `${show(text)} is not a URL like https://matrix.example.org` });
    return z.NEVER;
  }
  const url = new URL(text);
  // Checked before anything quotes the value: these parts would be a credential.
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `${show(text)} is not an http or https URL` });
    return z.NEVER;
  }
  if (url.search !== '' || url.hash !== '') {
    ctx.addIssue({ code: 'custom', message: `${show(text)} must not have a query or fragment` });
    return z.NEVER;
  }
  // matrix-bot-sdk appends "/_matrix/..." to the URL as given; a trailing slash would double it.
  return url.href.replace(/\/+$/, '');
});

const configUserIdSchema = z.string().transform((text, ctx) => {
  const parsed = userIdSchema.safeParse(text);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: `${show(text)} is not a user id like @name:server` });
    return z.NEVER;
  }
  return parsed.data;
});

const serverNameSchema = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, quoted('is not a server name like example.org'));

const commandNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, quoted('is not a command name like help (leave out the prefix)'));

function durationSchema(bounds: { min: number; max?: number; maxReason?: string }) {
  // Takes unknown rather than string so that `retention: 30` reads "is not a duration", not "is
  // not a string".
  return z.unknown().transform((value, ctx) => {
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${show(value)} is not a duration like 90s, 15m, 6h or 30d` });
      return z.NEVER;
    }
    if (ms < bounds.min) {
      ctx.addIssue({ code: 'custom', message: `${show(value)} is shorter than ${formatExactDuration(bounds.min)}` });
      return z.NEVER;
    }
    if (bounds.max !== undefined && ms > bounds.max) {
      const limit = `${show(value)} is longer than ${formatExactDuration(Math.floor(bounds.max / DAY) * DAY || bounds.max)}`;
      ctx.addIssue({ code: 'custom', message: bounds.maxReason === undefined ? limit : `${limit}, ${bounds.maxReason}` });
      return z.NEVER;
    }
    return ms;
  });
}

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const satisfies readonly LogLevel[];
// Fails to compile when log.ts gains a level that this list lacks.
const _everyLogLevel: readonly (typeof logLevels)[number][] = [] as LogLevel[];

const logFormats = ['auto', 'json', 'pretty'] as const;

/** How log lines are written: `auto` is pretty on a TTY and JSON otherwise. */
export type LogFormat = (typeof logFormats)[number];

const secretSources = ['accessToken', 'accessTokenFile', 'password', 'passwordFile'] as const;

/** The zod schema of the merged config file and environment, with every default and durations in milliseconds. */
export const configSchema = z
  .strictObject({
    homeserverUrl: homeserverUrlSchema,
    accessToken: secretSchema.optional(),
    accessTokenFile: filePathSchema.optional(),
    userId: configUserIdSchema.optional(),
    password: secretSchema.optional(),
    passwordFile: filePathSchema.optional(),
    dataDir: filePathSchema.default('./data'),
    commandPrefix: z
      .string()
      .regex(/^\S{1,8}$/u, quoted('is not 1 to 8 characters without spaces, like !'))
      .default('!'),
    admins: z.array(configUserIdSchema).default([]),
    // Default `all`: roomkeeper exists to be invited by ordinary users into their rooms, and joining
    // reveals nothing, since a reply only ever describes rooms the asker is joined to. What an open
    // policy costs is storage and sync load; a bot on an open federation can be limited to its
    // own server with `{ allow: { servers: [...] } }`.
    autoJoin: z
      .union([
        z.literal('all'),
        z.literal('none'),
        z.strictObject({
          allow: z
            .strictObject({
              users: z.array(configUserIdSchema).default([]),
              servers: z.array(serverNameSchema).default([]),
            })
            .superRefine((allow, ctx) => {
              if (allow.users.length === 0 && allow.servers.length === 0) {
                ctx.addIssue({ code: 'custom', message: 'lists no users and no servers; use none to decline every invite' });
              }
            }),
        }),
      ])
      .default('all'),
    guard: z
      .strictObject({
        // A pruned guard entry lets a re-delivered event through again, so keep at least an hour.
        retention: durationSchema({ min: HOUR }).prefault('30d'),
        pruneInterval: durationSchema({
          min: MINUTE,
          max: LONGEST_TIMER,
          maxReason: 'the longest a Node timer can wait',
        }).prefault('6h'),
      })
      .prefault({}),
    reconcile: z
      .strictObject({
        onStart: z.boolean().default(true),
        afterGappySync: z.boolean().default(false),
        minInterval: durationSchema({ min: SECOND, max: LONGEST_TIMER }).prefault('5m'),
      })
      .prefault({}),
    commands: z
      .strictObject({
        rateLimit: z
          .strictObject({
            count: z.int().min(1, atLeast(1)).max(1000, atMost(1000)).default(5),
            window: durationSchema({ min: SECOND, max: DAY }).prefault('10s'),
          })
          .prefault({}),
        allowInGroupRooms: z.array(commandNameSchema).default([]),
      })
      .prefault({}),
    encryption: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
    http: z
      .strictObject({
        enabled: z.boolean().default(false),
        host: z.string().regex(/^[^\s/]+$/, quoted('is not a host name or address like 127.0.0.1')).default('127.0.0.1'),
        // 0 asks the OS for a free port (tests).
        port: z.int().min(0, atLeast(0)).max(65_535, atMost(65_535)).default(9464),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(logLevels).default('info'),
        format: z.enum(logFormats).default('auto'),
      })
      .prefault({}),
  })
  .superRefine(
    (input, ctx) => {
      // Runs even when other fields failed, so that every problem is reported at once; the
      // fields may hold anything here, so only their presence is looked at.
      const given = secretSources.filter((key) => input[key] !== undefined);
      if (given.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['accessToken'],
          message:
            'required; set accessToken or accessTokenFile, or userId with password or passwordFile, ' +
            'in the config file or as ROOMKEEPER_ACCESS_TOKEN, ROOMKEEPER_ACCESS_TOKEN_FILE, ROOMKEEPER_USER_ID, ' +
            'ROOMKEEPER_PASSWORD or ROOMKEEPER_PASSWORD_FILE',
        });
      } else if (given.length > 1) {
        for (const key of given) {
          const others = given.filter((other) => other !== key).join(' and ');
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `conflicts with ${others}; give exactly one of accessToken, accessTokenFile, password, passwordFile`,
          });
        }
      } else if ((given[0] === 'password' || given[0] === 'passwordFile') && input.userId === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['userId'],
          message: `required with ${given[0]}; set it in the config file or ROOMKEEPER_USER_ID`,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

// ---------------------------------------------------------------------------------------------
// The resolved config

/** Which invites the bot accepts. */
export type AutoJoinPolicy =
  | { mode: 'all' }
  | { mode: 'none' }
  /** Invites from one of `users`, or from any user on one of `servers`. */
  | { mode: 'allow'; users: UserId[]; servers: string[] };

/** How the bot logs in; secrets from files are already read. */
export type LoginMethod =
  /** `userId`, when given, is who the token should belong to. */
  | { method: 'accessToken'; accessToken: string; userId?: UserId }
  | { method: 'password'; userId: UserId; password: string };

/** The validated, resolved configuration of the daemon. */
export interface Config {
  /** Without a trailing slash. */
  homeserverUrl: string;
  auth: LoginMethod;
  /** Absolute. */
  dataDir: string;
  commandPrefix: string;
  admins: UserId[];
  autoJoin: AutoJoinPolicy;
  guard: { retentionMs: number; pruneIntervalMs: number };
  /** `minIntervalMs`: the least time between two background re-checks of one room. */
  reconcile: { onStart: boolean; afterGappySync: boolean; minIntervalMs: number };
  commands: {
    rateLimit: { count: number; windowMs: number };
    /** Command names (without the prefix) also answered in group rooms. */
    allowInGroupRooms: string[];
  };
  /** Use the optional crypto binding when it is present. */
  encryption: { enabled: boolean };
  /** The health and metrics endpoint. */
  http: { enabled: boolean; host: string; port: number };
  log: { level: LogLevel; format: LogFormat };
}

// ---------------------------------------------------------------------------------------------
// Environment

type EnvParse = { ok: true; value: unknown } | { ok: false; problem: string };

const asIs = (text: string): EnvParse => ({ ok: true, value: text });
const commaList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

interface EnvVar {
  path: readonly string[];
  parse: (text: string) => EnvParse;
}

const envVars: Readonly<Record<string, EnvVar>> = {
  ROOMKEEPER_HOMESERVER_URL: { path: ['homeserverUrl'], parse: asIs },
  ROOMKEEPER_ACCESS_TOKEN: { path: ['accessToken'], parse: asIs },
  ROOMKEEPER_ACCESS_TOKEN_FILE: { path: ['accessTokenFile'], parse: asIs },
  ROOMKEEPER_USER_ID: { path: ['userId'], parse: asIs },
  ROOMKEEPER_PASSWORD: { path: ['password'], parse: asIs },
  ROOMKEEPER_PASSWORD_FILE: { path: ['passwordFile'], parse: asIs },
  ROOMKEEPER_DATA_DIR: { path: ['dataDir'], parse: asIs },
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
const CONFIG_FILE_VAR = 'ROOMKEEPER_CONFIG';

/** Every environment variable the config loader reads. */
export const configEnvVars: readonly string[] = [CONFIG_FILE_VAR, ...Object.keys(envVars)];

interface EnvAssignment {
  name: string;
  path: readonly string[];
  value: unknown;
}

function readEnv(env: NodeJS.ProcessEnv): { assignments: EnvAssignment[]; problems: string[] } {
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

// ---------------------------------------------------------------------------------------------
// Config file

type FileRead = { ok: true; data: Record<string, unknown> } | { ok: false; problems: string[]; cause?: unknown };

function readConfigFile(label: string, path: string): FileRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    const problem = code === 'ENOENT' ? `config file ${label} does not exist` : `cannot read config file ${label}: ${code}`;
    return { ok: false, problems: [problem], cause: err };
  }
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending source line, which may hold a secret.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((err) => {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        return `${label}:${line}:${col}: invalid YAML: ${err.message}`;
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // Unresolved aliases and alias bombs surface only here.
    return { ok: false, problems: [`${label}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`], cause: err };
  }
  if (data === null || data === undefined) return { ok: true, data: {} };
  if (!isRecord(data)) {
    return { ok: false, problems: [`${label}: the top level must be a mapping of field names to values`] };
  }
  return { ok: true, data };
}

// ---------------------------------------------------------------------------------------------
// Where a value came from

type Path = readonly PropertyKey[];

interface Sources {
  /** The config file as the operator named it, for messages. */
  fileLabel: string | undefined;
  fileDir: string | undefined;
  fileData: Record<string, unknown>;
  env: EnvAssignment[];
  cwd: string;
}

type Origin = { kind: 'env'; name: string } | { kind: 'file' } | { kind: 'default' };

function originOf(path: Path, sources: Sources): Origin {
  const assignment = sources.env.find((a) => a.path.every((key, i) => path[i] === key));
  if (assignment !== undefined) return { kind: 'env', name: assignment.name };
  if (sources.fileLabel !== undefined && lookup(sources.fileData, path) !== undefined) return { kind: 'file' };
  return { kind: 'default' };
}

function describeOrigin(path: Path, sources: Sources): string {
  const origin = originOf(path, sources);
  if (origin.kind === 'env') return ` (from env ${origin.name})`;
  if (origin.kind === 'file') return ` (from ${sources.fileLabel})`;
  return '';
}

/** A relative path means: relative to the config file when written there, else to the working directory. */
function resolvePath(path: Path, value: string, sources: Sources): string {
  const origin = originOf(path, sources);
  const base = origin.kind !== 'env' && sources.fileDir !== undefined ? sources.fileDir : sources.cwd;
  return resolve(base, value);
}

// ---------------------------------------------------------------------------------------------
// Turning zod issues into lines

const secretFields: ReadonlySet<PropertyKey> = new Set(['accessToken', 'password']);

function showAt(path: Path, input: unknown): string {
  const [first] = path;
  return path.length === 1 && first !== undefined && secretFields.has(first) ? 'the value' : show(lookup(input, path));
}

const typeNouns: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function describeIssues(issues: readonly z.core.$ZodIssue[], base: Path, input: unknown, sources: Sources): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const line = (at: Path, problem: string) => lines.push(`${renderPath(at)}: ${problem}${describeOrigin(at, sources)}`);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const guess = closest(key, fieldsAt(path));
          line([...path, key], `unknown field${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
        }
        break;
      case 'invalid_union': {
        // A branch that got past the type check holds the useful detail (`autoJoin.allow.users[0]`).
        const isTypeMiss = (i: z.core.$ZodIssue) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
        const progressed = issue.errors.filter((branch) => !branch.every(isTypeMiss));
        if (progressed.length === 1 && progressed[0] !== undefined) {
          lines.push(...describeIssues(progressed[0], path, input, sources));
        } else {
          line(path, `${showAt(path, input)} is not ${joinOr(issue.errors.flat().map(describeExpected))}`);
        }
        break;
      }
      case 'invalid_type': {
        const value = lookup(input, path);
        if (value === undefined) {
          const envName = Object.keys(envVars).find((name) => renderPath(envVars[name]?.path ?? []) === renderPath(path));
          line(path, `required; set it in the config file${envName === undefined ? '' : ` or ${envName}`}`);
        } else {
          line(path, `${showAt(path, input)} is not ${typeNouns[issue.expected] ?? issue.expected}`);
        }
        break;
      }
      case 'invalid_value':
        line(path, `${showAt(path, input)} is not ${joinOr(issue.values.map((v) => show(v)))}`);
        break;
      default:
        // Every other issue carries a message written in the schema above.
        line(path, issue.message);
    }
  }
  return lines;
}

/** What a branch of a union wanted, from its type-check issue: `"all"`, `a mapping`. */
function describeExpected(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return issue.values.map((v) => show(v)).join(', ');
  if (issue.code === 'invalid_type') return typeNouns[issue.expected] ?? issue.expected;
  return issue.message;
}

/** The field names the schema accepts at `path`, for "did you mean". */
function fieldsAt(path: Path): string[] {
  let node: z.core.$ZodType | undefined = configSchema;
  for (const key of path) {
    const shape: Record<string, z.core.$ZodType> | undefined = objectIn(node)?.shape;
    node = typeof key === 'string' && shape !== undefined ? shape[key] : undefined;
  }
  return Object.keys(objectIn(node)?.shape ?? {});
}

function objectIn(schema: z.core.$ZodType | undefined): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) {
    return objectIn(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) return objectIn(schema.in);
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options) {
      const found = objectIn(option);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Loading

/** Where `loadConfig` reads from; `cwd` defaults to the process's working directory. */
export interface LoadConfigOptions {
  /** A YAML config file; when left out, `ROOMKEEPER_CONFIG` names one, else only `env` is used. */
  file?: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Reads, merges (environment over file) and validates the config, throwing one CONFIG_INVALID error that lists every problem. */
export function loadConfig(options: LoadConfigOptions): Config {
  const cwd = options.cwd ?? process.cwd();
  const envRead = readEnv(options.env);
  const problems = [...envRead.problems];

  const fileLabel = options.file ?? (options.env[CONFIG_FILE_VAR] || undefined);
  let fileData: Record<string, unknown> = {};
  let fileDir: string | undefined;
  if (fileLabel !== undefined) {
    const path = resolve(cwd, fileLabel);
    const read = readConfigFile(fileLabel, path);
    // Without the file's content, validating the rest would only add noise ("required" fields).
    if (!read.ok) throw invalid([...read.problems, ...problems], read.cause);
    fileData = read.data;
    fileDir = dirname(path);
  }

  // A login secret from the environment replaces the file's way of logging in as a whole, so that
  // ROOMKEEPER_ACCESS_TOKEN_FILE can override a file's `password` instead of conflicting with it.
  if (envRead.assignments.some((a) => (secretSources as readonly string[]).includes(a.path[0] ?? ''))) {
    fileData = Object.fromEntries(Object.entries(fileData).filter(([key]) => !(secretSources as readonly string[]).includes(key)));
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

  if (!parsed.success || problems.length > 0) throw invalid(problems);
  const data = parsed.data;

  let auth: LoginMethod;
  const accessToken = data.accessToken ?? accessTokenFromFile;
  const password = data.password ?? passwordFromFile;
  if (accessToken !== undefined) {
    auth = { method: 'accessToken', accessToken };
    if (data.userId !== undefined) auth.userId = data.userId;
  } else if (password !== undefined && data.userId !== undefined) {
    auth = { method: 'password', userId: data.userId, password };
  } else {
    throw new TypeError('configSchema let a config through without a way to log in');
  }

  const autoJoin: AutoJoinPolicy =
    data.autoJoin === 'all' || data.autoJoin === 'none'
      ? { mode: data.autoJoin }
      : { mode: 'allow', users: [...data.autoJoin.allow.users], servers: [...data.autoJoin.allow.servers] };

  return {
    homeserverUrl: data.homeserverUrl,
    auth,
    dataDir: resolvePath(['dataDir'], data.dataDir, sources),
    commandPrefix: data.commandPrefix,
    admins: [...data.admins],
    autoJoin,
    guard: { retentionMs: data.guard.retention, pruneIntervalMs: data.guard.pruneInterval },
    reconcile: {
      onStart: data.reconcile.onStart,
      afterGappySync: data.reconcile.afterGappySync,
      minIntervalMs: data.reconcile.minInterval,
    },
    commands: {
      rateLimit: { count: data.commands.rateLimit.count, windowMs: data.commands.rateLimit.window },
      allowInGroupRooms: [...data.commands.allowInGroupRooms],
    },
    encryption: { enabled: data.encryption.enabled },
    http: { enabled: data.http.enabled, host: data.http.host, port: data.http.port },
    log: { level: data.log.level, format: data.log.format },
  };
}

function readSecretFile(
  field: 'accessTokenFile' | 'passwordFile',
  merged: Record<string, unknown>,
  sources: Sources,
  problems: string[],
  clean: (text: string) => string,
): string | undefined {
  const given = merged[field];
  if (typeof given !== 'string' || given === '') return undefined;
  const path = resolvePath([field], given, sources);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${field}: cannot read ${show(path)}: ${errorCode(err)}${describeOrigin([field], sources)}`);
    return undefined;
  }
  const secret = clean(text);
  if (secret === '') {
    problems.push(`${field}: ${show(path)} is empty${describeOrigin([field], sources)}`);
    return undefined;
  }
  return secret;
}

function invalid(problems: readonly string[], cause?: unknown): RoomkeeperError {
  const message = `invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`;
  return new RoomkeeperError('CONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}

/** A copy of `config` that is safe to log: secrets are replaced by "[redacted]". */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.auth.method === 'accessToken') copy.auth.accessToken = '[redacted]';
  else copy.auth.password = '[redacted]';
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lookup(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || typeof key === 'symbol') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = root;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    const child = isRecord(next) ? next : {};
    node[key] = child;
    node = child;
  }
}

function renderPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text === '' ? '(top level)' : text;
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'valid';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/** The candidate a typo most likely meant: same letters ignoring case and `_`/`-`, or at most two edits away. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const exact = candidates.find((c) => fold(c) === fold(name));
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
