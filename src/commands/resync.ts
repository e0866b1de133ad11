import type { RoomId } from '../state/ids.js';
import type { ReconcileReport } from '../sync/reconcile.js';
import { refOf } from './parse.js';
import type { Command } from './command.js';
import { code, line, reply, roomLabel, strong } from './render.js';
import { resolveRoom } from './resolve-room.js';
import { loadSharedRooms, unresolvedReply, type RoomsDeps } from './shared-rooms.js';


export interface ResyncDeps extends RoomsDeps {
  /** Reconciles one room, or every room when `roomId` is left out, with the homeserver. */
  reconcile(roomId?: RoomId): Promise<ReconcileReport>;
}

function summary(r: ReconcileReport): string {
  const failed = r.failed > 0 ? `, ${r.failed} could not be read from the homeserver` : '';
  return `${r.purged} purged, ${r.snapshotted} snapshotted again, ${r.unchanged} unchanged${failed}.`;
}

/** `!resync [REF]`, admin only: reconciles one shared room, or all rooms, with the server. */
export const resyncCommand: Command<ResyncDeps> = {
  name: 'resync',
  usage: '[REF]',
  summary: 'reconcile one room or all rooms with the homeserver (admin)',
  help: [
    'Compares what I store with what the homeserver says and fixes the difference: rooms I have left are purged, rooms whose state differs are snapshotted again.',
    'Without REF it reconciles every room I track. REF works as for !room, so it only names rooms you are in yourself.',
  ],
  examples: ['resync', 'resync 3', 'resync #team:example.org'],
  adminOnly: true,
  harmless: false,
  run: async (ctx, args) => {
    const ref = refOf(args);
    if (ref === undefined) {
      const report = await ctx.reconcile();
      return reply(line(strong('Reconciled all rooms'), ': ', summary(report)));
    }
    const res = resolveRoom(ref, await loadSharedRooms(ctx, ctx.sender));
    if (res.kind !== 'found') return unresolvedReply(res, ctx, 'resync');
    const { room } = res.room;
    const report = await ctx.reconcile(room.roomId);
    return reply(
      line(strong('Reconciled '), strong(roomLabel(room.roomId, room.info)), ' (', code(room.roomId), '): ', summary(report)),
    );
  },
};
