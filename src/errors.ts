/**
 * Every expected failure of roomkeeper is a RoomkeeperError with a stable `code`.
 * Codes never change once released; messages may. Branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'STORE_LOCKED'
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_OPEN_FAILED'
  | 'STORE_CORRUPT'
  | 'INPUT_INVALID'
  | 'INPUT_NOT_FOUND'
  | 'HOMESERVER_UNREACHABLE'
  | 'HOMESERVER_ERROR'
  | 'TOKEN_INVALID'
  | 'SYNC_NOT_COMMITTED'
  | 'CRYPTO_UNAVAILABLE'
  | 'BAD_ID'
  | 'STORE_CLOSED';

/** The one error class of roomkeeper: a stable code, a readable message, and the cause. */
export class RoomkeeperError extends Error {
  override readonly name = 'RoomkeeperError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a RoomkeeperError, optionally with the given code. */
export function isRoomkeeperError(err: unknown, code?: ErrorCode): err is RoomkeeperError {
  return err instanceof RoomkeeperError && (code === undefined || err.code === code);
}
