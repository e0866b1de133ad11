import { handleCommand, type CommandOutcome, type DispatchDeps } from '../commands/dispatch.js';
import { code, line, reply, type Reply } from '../commands/render.js';
import type { Logger } from '../log.js';
import { serial, type Serial } from '../serial.js';
import type { RoomId, UserId } from '../state/ids.js';
import type { Store } from '../store/store.js';
import type { Invite, ProcessResult } from '../sync/pipeline.js';
import type { DirectRooms } from './direct-rooms.js';

/** What effects send to the homeserver. */
export interface EffectsClient {
  sendMessage(roomId: string, content: Reply): Promise<string>;
}

export interface EffectsDeps {
  client: EffectsClient;
  store: Store;
  direct: DirectRooms;
  dispatch: DispatchDeps;
  botUserId: UserId;
  log: Logger;
  /** Accepts or declines an invite; resolves to whether the bot joined. Never rejects. */
  onInvite: (invite: Invite) => Promise<boolean>;
  /** Told of every command handled, by name and outcome (metrics). */
  onCommand?: (name: string | undefined, outcome: CommandOutcome) => void;
  /** Re-checks a room after a gappy sync (config), rate limited by the caller. */
  onGappy?: (roomId: RoomId) => Promise<void>;
  now: () => number;
}

/**
 * What happens after a /sync response is committed: replies to commands, invites, m.direct and
 * gappy-room re-checks. A response's effects run only after its commit and the guard makes each
 * event fresh once, so every reply goes out at most once. Commands are answered in the
 * background, one room's in the order they came: a slow one (`!prune` of a big guard) holds up
 * neither the sync loop nor other rooms.
 */
export class Effects {
  readonly #deps: EffectsDeps;
  readonly #log: Logger;
  readonly #background = new Set<Promise<unknown>>();
  readonly #invitesInFlight = new Set<RoomId>();
  /** One queue per room with commands or notices under way; a room's queue goes when it empties. */
  readonly #rooms = new Map<RoomId, { queue: Serial; pending: number }>();
  /** Rooms whose "cannot read encrypted messages" notice is on its way, so that one response sends one. */
  readonly #encryptedNotices = new Set<RoomId>();

  constructor(deps: EffectsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ mod: 'effects' });
  }

  /**
   * Runs the effects of one committed response. `initial` is set for the first sync of a fresh
   * data dir, whose timelines are history: nothing in them is answered.
   */
  after(result: ProcessResult, initial: boolean): void {
    if (result.direct !== undefined) this.#deps.direct.update(result.direct);
    for (const invite of result.invites) this.#invite(invite);
    if (this.#deps.onGappy !== undefined) for (const roomId of result.gappy) this.#spawn(this.#deps.onGappy(roomId));
    if (initial) return;
    // The response that brings the bot's join also brings the timeline before it: history.
    // Timeline order says so even when timestamps cannot (same millisecond, skewed clocks).
    const joinedAt = this.#ownJoins(result);
    for (const [i, fresh] of result.fresh.entries()) {
      const e = fresh.event;
      if (fresh.section !== 'join' || e.sender === this.#deps.botUserId) continue;
      if (i < (joinedAt.get(fresh.roomId) ?? -1)) continue;
      if (e.kind === 'other' && e.type === 'm.room.encrypted') {
        this.#encryptedMessage(fresh.roomId, e.sender);
        continue;
      }
      if (e.kind !== 'message' || e.body === undefined) continue;
      // Notices are what bots send; answering them invites bot-to-bot loops.
      if (e.msgtype !== undefined && e.msgtype !== 'm.text') continue;
      const { sender, body, ts } = e;
      this.#inRoom(fresh.roomId, () => this.#command(fresh.roomId, sender, body, ts));
    }
  }

  /** For each room the bot (re)joined in this response, the position of its last join in `fresh`. */
  #ownJoins(result: ProcessResult): Map<RoomId, number> {
    const joins = new Map<RoomId, number>();
    for (const [i, { roomId, event: e }] of result.fresh.entries()) {
      if (e.kind === 'member' && e.userId === this.#deps.botUserId && e.membership === 'join' && e.prevMembership !== 'join') {
        joins.set(roomId, i);
      }
    }
    return joins;
  }

  /** Resolves once the commands (and notices) of the responses handed over so far are answered. */
  async answered(): Promise<void> {
    await Promise.all([...this.#rooms.values()].map(({ queue }) => queue(() => Promise.resolve())));
  }

  /** Runs `work` in the background after the room's earlier commands and notices. */
  #inRoom(roomId: RoomId, work: () => Promise<void>): void {
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      room = { queue: serial(), pending: 0 };
      this.#rooms.set(roomId, room);
    }
    const entry = room;
    entry.pending++;
    this.#spawn(
      entry.queue(work).finally(() => {
        if (--entry.pending === 0) this.#rooms.delete(roomId);
      }),
    );
  }

  /** Waits for background work (replies, invites, re-checks) started so far. */
  async drain(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  async #command(roomId: RoomId, sender: UserId, body: string, ts: number): Promise<void> {
    const info = await this.#deps.store.rooms.info(roomId);
    // A message from before the bot joined is history, whatever the guard says.
    if (info?.joinedAt !== undefined && ts < info.joinedAt) return;
    const { outcome, command, reply } = await handleCommand(this.#deps.dispatch, { sender, roomId, body, now: this.#deps.now() });
    if (outcome === 'not-a-command') return;
    this.#deps.onCommand?.(command, outcome);
    if (reply === undefined) return;
    try {
      await this.#deps.client.sendMessage(roomId, reply);
    } catch (err) {
      this.#log.warn({ err, roomId, sender }, 'reply could not be sent');
    }
  }

  /**
   * Someone wrote to the bot in a DM it cannot read: it says so once per room (remembered across
   * restarts), unencrypted since the bot has no keys, with how to reach it instead.
   */
  #encryptedMessage(roomId: RoomId, sender: UserId): void {
    if (!this.#deps.direct.isDirect(roomId) || this.#encryptedNotices.has(roomId)) return;
    this.#encryptedNotices.add(roomId);
    const send = async () => {
      try {
        if (await this.#deps.direct.encryptedNoticeSent(roomId)) return;
        await this.#deps.client.sendMessage(roomId, encryptedDmNotice(this.#deps.dispatch.prefix));
        await this.#deps.direct.markEncryptedNoticeSent(roomId);
        this.#log.info({ roomId, sender }, 'told the sender that encrypted messages cannot be read');
      } catch (err) {
        this.#log.warn({ err, roomId, sender }, 'encrypted-DM notice could not be sent');
      } finally {
        this.#encryptedNotices.delete(roomId);
      }
    };
    this.#inRoom(roomId, send);
  }

  #invite(invite: Invite): void {
    if (this.#invitesInFlight.has(invite.roomId)) return;
    this.#invitesInFlight.add(invite.roomId);
    const { roomId } = invite;
    const peer = invite.isDirect ? invite.inviter : undefined;
    // Direct from the invite on: the response that brings the join may already carry a command.
    if (peer !== undefined) this.#deps.direct.expectDirect(roomId, peer);
    const run = async () => {
      try {
        const joined = await this.#deps.onInvite(invite);
        if (peer === undefined) return;
        if (joined) await this.#deps.direct.addDirect(roomId, peer);
        else this.#deps.direct.abandonDirect(roomId);
      } finally {
        this.#invitesInFlight.delete(roomId);
      }
    };
    this.#spawn(run());
  }

  #spawn(work: Promise<unknown>): void {
    const tracked = work.catch((err: unknown) => this.#log.error({ err }, 'background effect failed'));
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }
}

/** The one notice a DM the bot cannot read gets: why, and how to reach it. */
export function encryptedDmNotice(prefix: string): Reply {
  return reply(
    line("I can't read encrypted messages, so I did not see what you wrote here."),
    line('To talk to me, start a new direct chat with me with encryption turned off, and say ', code(`${prefix}help`), ' there.'),
  );
}
