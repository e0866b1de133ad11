/**
 * Plain one-shot requests for `roomkeeper doctor`: no client, no retries, so each check answers
 * at once with what went wrong.
 */

export type ProbeResult = { ok: true; detail: string } | { ok: false; detail: string; hint: string };

const TIMEOUT_MS = 10_000;

async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch (err) {
    // Not JSON (a proxy's error page): keep the text for the message.
    if (!(err instanceof SyntaxError)) throw err;
  }
  return { status: res.status, body };
}

function reason(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; name?: string; message?: string };
  if (e.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** `GET /_matrix/client/versions`: is a Matrix homeserver answering at this URL? */
export async function probeVersions(homeserverUrl: string): Promise<ProbeResult> {
  try {
    const { status, body } = await getJson(`${homeserverUrl}/_matrix/client/versions`);
    const versions = (body as { versions?: unknown }).versions;
    if (status !== 200 || !Array.isArray(versions)) {
      return { ok: false, detail: `HTTP ${status}, not a Matrix /versions answer`, hint: 'check homeserverUrl: it is the client-server API base, e.g. https://matrix.example.org' };
    }
    return { ok: true, detail: `${homeserverUrl} speaks ${(versions as string[]).at(-1) ?? 'Matrix'}` };
  } catch (err) {
    return { ok: false, detail: `${homeserverUrl}: ${reason(err)}`, hint: 'is the homeserver running and reachable from here?' };
  }
}

/** `GET /account/whoami`: does the homeserver accept the token, and whose is it? */
export async function probeWhoAmI(homeserverUrl: string, accessToken: string): Promise<ProbeResult & { userId?: string }> {
  try {
    const { status, body } = await getJson(`${homeserverUrl}/_matrix/client/v3/account/whoami`, accessToken);
    const b = body as { user_id?: unknown; errcode?: unknown };
    if (status === 200 && typeof b.user_id === 'string') return { ok: true, detail: `token belongs to ${b.user_id}`, userId: b.user_id };
    const code = typeof b.errcode === 'string' ? b.errcode : `HTTP ${status}`;
    return { ok: false, detail: `the homeserver rejected the access token: ${code}`, hint: 'create a new access token for the bot account and set ROOMKEEPER_ACCESS_TOKEN' };
  } catch (err) {
    return { ok: false, detail: `whoami failed: ${reason(err)}`, hint: 'is the homeserver reachable?' };
  }
}
