import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { formatExactDuration, parseDuration } from '../state/duration.js';
import { userIdSchema, type UserId } from '../state/ids.js';
import { show } from './text.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// setTimeout fires after 1 ms (with a warning) when asked to wait longer than 2^31-1 ms, so an
// interval that feeds a timer must stay below it.
const LONGEST_TIMER = 2 ** 31 - 1;

/** The shortest guard retention: a pruned guard entry lets a re-delivered event through again. */
export const MIN_GUARD_RETENTION_MS = HOUR;

// Every message that quotes a value is written here; the two secrets never quote theirs.

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

const logFormats = ['auto', 'json', 'pretty'] as const;

/** How log lines are written: `auto` is pretty on a TTY and JSON otherwise. */
export type LogFormat = (typeof logFormats)[number];

/** The fields that name a way to log in; exactly one of them must be given. */
export const secretSources = ['accessToken', 'accessTokenFile', 'password', 'passwordFile'] as const;

/** One of `secretSources`. */
export type SecretSource = (typeof secretSources)[number];

/** How the bot gets its events: `/sync` long-polling, or transactions pushed by the homeserver. */
export const modes = ['sync', 'appservice'] as const;

/** The fields of `appservice` that give a token, inline or from a file. */
export const appserviceSecretSources = ['hsToken', 'hsTokenFile', 'asToken', 'asTokenFile'] as const;

const appserviceSchema = z
  .strictObject({
    // The registration's `id`; the homeserver numbers the transactions of each id on their own.
    id: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{1,64}$/, quoted('is not a registration id like roomkeeper (letters, digits, . _ ~ -)'))
      .default('roomkeeper'),
    senderLocalpart: z
      .string()
      .regex(/^[a-z0-9._=/+-]{1,255}$/, quoted('is not a user localpart like roomkeeper (a-z, 0-9, . _ = / + -)'))
      .default('roomkeeper'),
    host: z.string().regex(/^[^\s/]+$/, quoted('is not a host name or address like 127.0.0.1')).default('127.0.0.1'),
    // 0 asks the OS for a free port (tests).
    port: z.int().min(0, atLeast(0)).max(65_535, atMost(65_535)).default(9000),
    hsToken: secretSchema.optional(),
    hsTokenFile: filePathSchema.optional(),
    asToken: secretSchema.optional(),
    asTokenFile: filePathSchema.optional(),
  })
  .prefault({});

/** The zod schema of the merged config file and environment, with every default and durations in milliseconds. */
export const configSchema = z
  .strictObject({
    mode: z.enum(modes).default('sync'),
    appservice: appserviceSchema,
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
      // The daemon branches on `mode`; the file's shape (`all`, `none`, `{ allow }`) stays the operator's.
      .transform((policy) =>
        typeof policy === 'string'
          ? { mode: policy }
          : { mode: 'allow' as const, users: policy.allow.users, servers: policy.allow.servers },
      )
      .prefault('all'),
    guard: z
      .strictObject({
        retention: durationSchema({ min: MIN_GUARD_RETENTION_MS }).prefault('30d'),
        pruneInterval: durationSchema({
          min: MINUTE,
          max: LONGEST_TIMER,
          maxReason: 'the longest a Node timer can wait',
        }).prefault('6h'),
      })
      // Durations leave the schema in milliseconds; the `Ms` says so at every use.
      .transform(({ retention, pruneInterval }) => ({ retentionMs: retention, pruneIntervalMs: pruneInterval }))
      .prefault({}),
    changes: z
      .strictObject({
        // At least as long as the guard's floor: history is worth less than the dedup it rests on.
        retention: durationSchema({ min: MIN_GUARD_RETENTION_MS }).prefault('90d'),
      })
      .transform(({ retention }) => ({ retentionMs: retention }))
      .prefault({}),
    reconcile: z
      .strictObject({
        onStart: z.boolean().default(true),
        afterGappySync: z.boolean().default(false),
        minInterval: durationSchema({ min: SECOND, max: LONGEST_TIMER }).prefault('5m'),
      })
      .transform(({ minInterval, ...rest }) => ({ ...rest, minIntervalMs: minInterval }))
      .prefault({}),
    commands: z
      .strictObject({
        rateLimit: z
          .strictObject({
            count: z.int().min(1, atLeast(1)).max(1000, atMost(1000)).default(5),
            window: durationSchema({ min: SECOND, max: DAY }).prefault('10s'),
          })
          .transform(({ window, ...rest }) => ({ ...rest, windowMs: window }))
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
        level: z.enum(LOG_LEVELS).default('info'),
        format: z.enum(logFormats).default('auto'),
      })
      .prefault({}),
  })
  .superRefine(
    (input, ctx) => {
      // Runs even when other fields failed, so that every problem is reported at once; the
      // fields may hold anything here, so only their presence is looked at.
      const given = secretSources.filter((key) => input[key] !== undefined);
      if (input.mode === 'appservice') {
        appserviceRefine(input.appservice, given, ctx);
        return;
      }
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

/** In appservice mode: one way to give each token, and no other way to log in. */
function appserviceRefine(section: unknown, loginFields: readonly SecretSource[], ctx: z.RefinementCtx): void {
  for (const key of loginFields) {
    ctx.addIssue({ code: 'custom', path: [key], message: 'not used with mode: appservice; the bot uses appservice.asToken (or asTokenFile)' });
  }
  const given = (typeof section === 'object' && section !== null ? section : {}) as Record<string, unknown>;
  for (const token of ['hsToken', 'asToken'] as const) {
    const file = `${token}File` as const;
    if (given[token] === undefined && given[file] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['appservice', token], message: `required with mode: appservice; set ${token} or ${file} (roomkeeper registration prints both)` });
    } else if (given[token] !== undefined && given[file] !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['appservice', file], message: `conflicts with ${token}; give one of them` });
    }
  }
}

type ConfigOutput = z.output<typeof configSchema>;

/** The appservice section with its tokens read (from files too), for `mode: appservice`. */
export interface AppserviceConfig {
  id: string;
  senderLocalpart: string;
  host: string;
  port: number;
  hsToken: string;
  asToken: string;
}

/** Which invites the bot accepts: all, none, or those from listed users or from any user on listed servers. */
export type AutoJoinPolicy = ConfigOutput['autoJoin'];

/** How the bot logs in; secrets from files are already read. */
export type LoginMethod =
  /** `userId`, when given, is who the token should belong to. */
  | { method: 'accessToken'; accessToken: string; userId?: UserId }
  | { method: 'password'; userId: UserId; password: string };

/**
 * The validated, resolved configuration of the daemon: the schema's output, with the ways to log
 * in folded into `auth` and `dataDir` made absolute.
 */
export type Config = Omit<ConfigOutput, SecretSource | 'userId' | 'appservice'> & {
  auth: LoginMethod;
  /** Present when `mode` is `appservice`; then `auth` holds its asToken. */
  appservice?: AppserviceConfig;
};
