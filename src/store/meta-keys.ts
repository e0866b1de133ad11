/**
 * Every key of the `meta` namespace, in one place: the store's own bookkeeping and what the
 * daemon and the Matrix adapter keep there. A key added anywhere else could collide unseen.
 */
export const META_KEYS = {
  /** Version of the key layout (store/store.ts). */
  schemaVersion: 'schema-version',
  /** The /sync `next_batch`, committed in the same batch as the events it covers. */
  syncToken: 'sync-token',
  /** The bot's own user id, as the pipeline last wrote it: who `inspect` names rooms for. */
  botUserId: 'bot-user-id',
  /** How far an upgrade of the key layout has come (store/migrate.ts); absent when none runs. */
  migration: 'schema-migration',
  /** Number of guard entries, kept in every batch that changes it. */
  guardCount: 'guard-count',
  /**
   * The next time-index sequence number, kept in every batch that adds a time-index entry: keys
   * stay unique across restarts even when two runs commit in the same millisecond.
   */
  commitSeq: 'commit-seq',
  /**
   * The next change-log sequence number, kept in every batch that appends to the log: a change's
   * place (its cursor) is never reused, across restarts and prunes.
   */
  changeSeq: 'change-seq',
  /** Invites received but not answered yet (daemon/pending-invites.ts). */
  pendingInvites: 'pending-invites',
  /** matrix-bot-sdk's uploaded sync filter (matrix/storage.ts). */
  filter: 'filter',
  /** The device of a password login, reused on restart (matrix/login.ts). */
  deviceLogin: 'device-login',
} as const;

/** A fixed key of the `meta` namespace. */
export type MetaKey = (typeof META_KEYS)[keyof typeof META_KEYS];

/** Prefixes of families of `meta` keys, one key per room or per SDK entry. */
export const META_PREFIXES = {
  /** matrix-bot-sdk's own key-value entries, prefixed so they cannot collide with ours. */
  sdkValue: 'sdk-kv:',
  /** That a room was sent the "private commands only" notice, and when (daemon/direct-rooms.ts). */
  dmNotice: 'dm-notice:',
  /** That a DM was told the bot cannot read encrypted messages, and when (daemon/direct-rooms.ts). */
  encryptedDmNotice: 'encrypted-dm-notice:',
} as const;

/** A string key-value view of the `meta` namespace, for matrix-bot-sdk's storage provider. */
export interface KeyValue {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
}
