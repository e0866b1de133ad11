import { RoomkeeperError, type ErrorCode } from '../errors.js';

type HomeserverErrorCode = Extract<ErrorCode, 'HOMESERVER_ERROR' | 'HOMESERVER_UNREACHABLE' | 'TOKEN_INVALID'>;

export interface HomeserverErrorDetails {
  method: string;
  /** Endpoint path without query string. */
  path: string;
  statusCode?: number;
  errcode?: string;
  /** The Matrix error body (`{ errcode, error, ... }`), kept because matrix-bot-sdk reads `err.body.errcode`. */
  body?: unknown;
  cause?: unknown;
}

/**
 * A failed homeserver request, converted once at the client boundary: a RoomkeeperError (branch on
 * `code`, or on `errcode` for Matrix errors such as M_NOT_FOUND) that carries no request headers.
 * `statusCode` and `body` keep matrix-bot-sdk's own error checks (DMs, MatrixAuth) working.
 */
export class HomeserverError extends RoomkeeperError {
  readonly method: string;
  readonly path: string;
  readonly statusCode: number | undefined;
  readonly errcode: string | undefined;
  readonly body: unknown;

  constructor(code: HomeserverErrorCode, message: string, details: HomeserverErrorDetails) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.method = details.method;
    this.path = details.path;
    this.statusCode = details.statusCode;
    this.errcode = details.errcode;
    this.body = details.body;
  }
}

/** The Matrix `errcode` of a failed request (e.g. 'M_NOT_FOUND'), or undefined when there is none. */
export function errcodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const own = (err as { errcode?: unknown }).errcode;
  if (typeof own === 'string') return own;
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null) {
    const code = (body as { errcode?: unknown }).errcode;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
