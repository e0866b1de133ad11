import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { RoomkeeperError } from '../errors.js';
import type { Io } from './io.js';

export interface RegistrationFlags {
  url: string;
  out: string;
  id: string;
  localpart: string;
  /** The homeserver's server name: the bot's namespace is then that one user id exactly. */
  serverName?: string;
  force?: boolean;
}

/** A fresh token: 32 random bytes, URL-safe base64 (what Synapse accepts anywhere). */
function freshToken(): string {
  return randomBytes(32).toString('base64url');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The registration document Synapse reads from `app_service_config_files` (Application Service API, "Registration"). */
export function registrationDocument(flags: RegistrationFlags, tokens: { hsToken: string; asToken: string }): Record<string, unknown> {
  // Exactly the bot: roomkeeper owns no other users, no rooms and no aliases.
  const server = flags.serverName === undefined ? '.+' : escapeRegex(flags.serverName);
  return {
    id: flags.id,
    url: flags.url,
    as_token: tokens.asToken,
    hs_token: tokens.hsToken,
    sender_localpart: flags.localpart,
    rate_limited: false,
    namespaces: {
      users: [{ exclusive: true, regex: `^@${escapeRegex(flags.localpart)}:${server}$` }],
      rooms: [],
      aliases: [],
    },
  };
}

/**
 * `roomkeeper registration`: writes an appservice registration file with fresh tokens (mode
 * 0600; an existing file is kept unless `--force`) and prints the homeserver.yaml and roomkeeper
 * config lines that go with it.
 */
export function registrationCommand(flags: RegistrationFlags, io: Io): number {
  if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol)) {
    throw new RoomkeeperError('USAGE', `--url: "${flags.url}" is not an http or https URL like http://127.0.0.1:9000`);
  }
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(flags.id)) throw new RoomkeeperError('USAGE', `--id: "${flags.id}" is not a registration id like roomkeeper (letters, digits, . _ ~ -)`);
  if (!/^[a-z0-9._=/+-]{1,255}$/.test(flags.localpart)) throw new RoomkeeperError('USAGE', `--localpart: "${flags.localpart}" is not a user localpart like roomkeeper (a-z, 0-9, . _ = / + -)`);
  const url = new URL(flags.url);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const tokens = { hsToken: freshToken(), asToken: freshToken() };
  const path = resolve(flags.out);
  try {
    // `wx` fails on an existing file: fresh tokens must not silently replace ones a homeserver holds.
    writeFileSync(path, stringify(registrationDocument(flags, tokens)), { mode: 0o600, flag: flags.force === true ? 'w' : 'wx' });
    // An overwritten file keeps its old mode otherwise.
    chmodSync(path, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new RoomkeeperError('USAGE', `--out: ${path} exists; add --force to replace it (the homeserver must then be given the new file)`, { cause: err });
    throw new RoomkeeperError('USAGE', `--out: cannot write ${path}: ${code ?? String(err)}`, { cause: err });
  }
  // The listener binds the URL's address when it is one; a host name (a container's) means all interfaces.
  const host = isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0 || url.hostname === 'localhost' ? url.hostname.replace(/^\[|\]$/g, '') : '0.0.0.0';
  const config = stringify({
    mode: 'appservice',
    appservice: { id: flags.id, senderLocalpart: flags.localpart, host, port, hsToken: tokens.hsToken, asToken: tokens.asToken },
  });
  io.stdout.write(
    `wrote ${path} (mode 0600)\n\n` +
      `1. In Synapse's homeserver.yaml, then restart Synapse:\n\n` +
      `app_service_config_files:\n  - ${path}\n\n` +
      `2. In roomkeeper's config (it holds both tokens: keep it private, or move them to hsTokenFile/asTokenFile):\n\n` +
      config,
  );
  return 0;
}
