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
  /** No roomkeeper database in the directory, and the caller did not ask to create one. */
  | 'STORE_NOT_FOUND'
  /** The directory holds something else: another application's LevelDB, or other files. */
  | 'STORE_FOREIGN'
  /** The store was closed: a call after close(), or one that close() overtook. */
  | 'STORE_CLOSED'
  | 'STORE_NO_SPACE'
  /** Permission denied, or a read-only file system. */
  | 'STORE_UNWRITABLE'
  /** Another I/O failure of the database while in use. */
  | 'STORE_IO_FAILED'
  | 'INPUT_INVALID'
  | 'INPUT_NOT_FOUND'
  | 'HOMESERVER_UNREACHABLE'
  | 'HOMESERVER_ERROR'
  | 'TOKEN_INVALID'
  | 'SYNC_NOT_COMMITTED'
  | 'CRYPTO_UNAVAILABLE'
  | 'BAD_ID'
  /** A change-log cursor that is not one this store hands out. */
  | 'BAD_CURSOR';

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
