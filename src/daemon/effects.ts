import { handleCommand, type DispatchDeps } from '../commands/dispatch.js';
import type { Reply } from '../commands/render.js';
import type { Logger } from '../log.js';
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
  /** Re-checks a room after a gappy sync (config), rate limited by the caller. */
  onGappy?: (roomId: RoomId) => Promise<void>;
  now: () => number;
}

/**
 * What happens after a /sync response is committed: replies to commands, invites, m.direct and
 * gappy-room re-checks. A response's effects run only after its commit and the guard makes each
 * event fresh once, so every reply goes out at most once.
 */
export class Effects {
  readonly #deps: EffectsDeps;
  readonly #log: Logger;
  readonly #background = new Set<Promise<unknown>>();
  readonly #invitesInFlight = new Set<RoomId>();

  constructor(deps: EffectsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ mod: 'effects' });
  }

  /**
   * Runs the effects of one committed response. `initial` is set for the first sync of a fresh
   * data dir, whose timelines are history: nothing in them is answered.
   */
  async after(result: ProcessResult, initial: boolean): Promise<void> {
    if (result.direct !== undefined) this.#deps.direct.update(result.direct);
    for (const invite of result.invites) this.#invite(invite);
    if (this.#deps.onGappy !== undefined) for (const roomId of result.gappy) this.#spawn(this.#deps.onGappy(roomId));
    if (initial) return;
    const joinedAt = this.#ownJoins(result);
    for (const [i, fresh] of result.fresh.entries()) {
      const e = fresh.event;
      if (fresh.section !== 'join' || e.kind !== 'message' || e.body === undefined) continue;
      // Notices are what bots send; answering them invites bot-to-bot loops.
      if (e.msgtype !== undefined && e.msgtype !== 'm.text') continue;
      if (e.sender === this.#deps.botUserId) continue;
      // The response that brings the bot's join also brings the timeline before it: history.
      // Timeline order says so even when timestamps cannot (same millisecond, skewed clocks).
      if (i < (joinedAt.get(fresh.roomId) ?? -1)) continue;
      await this.#command(fresh.roomId, e.sender, e.body, e.ts);
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

  /** Waits for background work (invites, re-checks) started so far. */
  async drain(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  async #command(roomId: RoomId, sender: UserId, body: string, ts: number): Promise<void> {
    const info = await this.#deps.store.rooms.info(roomId);
    // A message from before the bot joined is history, whatever the guard says.
    if (info?.joinedAt !== undefined && ts < info.joinedAt) return;
    const reply = await handleCommand(this.#deps.dispatch, { sender, roomId, body, now: this.#deps.now() });
    if (reply === undefined) return;
    try {
      await this.#deps.client.sendMessage(roomId, reply);
    } catch (err) {
      this.#log.warn({ err, roomId, sender }, 'reply could not be sent');
    }
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
