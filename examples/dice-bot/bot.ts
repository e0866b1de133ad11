/**
 * A dice-rolling Matrix bot on plain matrix-bot-sdk, with roomkeeper attached for who is where.
 * It uses only the published API: `roomkeeper` and `roomkeeper/sdk`.
 *
 * - `!roll 2d6` anywhere: the bot answers in that room.
 * - `!roll 2d6 in Garden` in a DM: the roll is posted in Garden, looked up among the rooms the
 *   sender is in right now (never any other room), and the DM gets a confirmation.
 * - Someone joins a room: the bot greets them, once per join, from roomkeeper's change log. It
 *   keeps the cursor of the last change it handled, so that a restart (a crash included) goes on
 *   exactly there: no join greeted twice, none missed.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openRoomkeeper, resolveRoom, type MemberChange, type Roomkeeper, type SharedRoom } from 'roomkeeper';
import { AutojoinRoomsMixin, MatrixClient, SimpleFsStorageProvider } from 'roomkeeper/sdk';
import { parseRoll, rollDice } from './dice.js';

export interface DiceBotOptions {
  homeserverUrl: string;
  accessToken: string;
  /** roomkeeper's LevelDB directory. */
  dataDir: string;
  /** matrix-bot-sdk's own storage file (sync token, filter). */
  storageFile: string;
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
  /** Where one JSON object per notable thing goes; stdout by default. */
  log?: (line: Record<string, unknown>) => void;
  /** The long-poll timeout of /sync, in ms (the SDK's default is 30 s). */
  syncTimeoutMs?: number;
  /** Where the cursor of the last change handled is kept; `greeted.cursor` next to storageFile by default. */
  cursorFile?: string;
}

export interface DiceBot {
  client: MatrixClient;
  keeper: Roomkeeper;
  /** Stops syncing and closes the store. */
  stop(): Promise<void>;
}

interface RoomMessage {
  event_id: string;
  sender: string;
  content?: { msgtype?: unknown; body?: unknown };
}

/** Starts the bot: opens the record, attaches it to a new client and starts syncing. */
export async function startDiceBot(options: DiceBotOptions): Promise<DiceBot> {
  const log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  const random = options.random ?? Math.random;
  const client = new MatrixClient(options.homeserverUrl, options.accessToken, new SimpleFsStorageProvider(options.storageFile));
  if (options.syncTimeoutMs !== undefined) client.syncingTimeout = options.syncTimeoutMs;
  AutojoinRoomsMixin.setupOnClient(client);
  const botUserId = await client.getUserId();
  const keeper = await openRoomkeeper({ dataDir: options.dataDir, botUserId, create: true });

  // Events of the body being emitted that roomkeeper applied for the first time. After a crash
  // the SDK fetches the last body again; its events are then not new and are not acted on twice.
  let fresh = new Set<string>();
  keeper.attach(client, {
    onCommit(result) {
      fresh = new Set(result.fresh.map((f) => f.event.eventId));
    },
    onFatal: (err) => log({ msg: 'roomkeeper stopped the client', err: String(err) }),
  });

  const cursorFile = options.cursorFile ?? join(dirname(options.storageFile), 'greeted.cursor');
  const saved = await readFile(cursorFile, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)),
  );

  async function greet(change: MemberChange): Promise<void> {
    const room = await keeper.rooms.info(change.roomId);
    const content = {
      msgtype: 'm.notice',
      body: `Welcome to ${room?.name ?? 'the room'}, ${change.displayName ?? change.userId}! Roll with !roll 2d6.`,
      'm.relates_to': { 'm.in_reply_to': { event_id: change.eventId } },
    };
    // The transaction id comes from the join: sent again after a crash (before the cursor was
    // saved), the homeserver takes it for the same message and posts nothing new.
    const txnId = encodeURIComponent(`greet-${change.eventId}`);
    await client.doRequest('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(change.roomId)}/send/m.room.message/${txnId}`, null, content);
    log({ msg: 'greeted', roomId: change.roomId, userId: change.userId, eventId: change.eventId });
  }

  // Written whole or not at all: a crash mid-write must not leave half a cursor.
  async function saveCursor(cursor: string): Promise<void> {
    await writeFile(`${cursorFile}.tmp`, cursor);
    await rename(`${cursorFile}.tmp`, cursorFile);
  }

  // A room the bot joins comes as its own join and a rebuild, never as joins of the members
  // already there: only people who join while the bot is in the room are greeted.
  const greeter = (async () => {
    for await (const change of keeper.changes({ after: saved })) {
      if (change.kind === 'joined' && change.cause === 'event' && change.userId !== botUserId) {
        await greet(change).catch((err: unknown) => log({ msg: 'greeting failed', roomId: change.roomId, err: String(err) }));
      }
      await saveCursor(change.cursor);
    }
  })().catch((err: unknown) => log({ msg: 'greeting stopped', err: String(err) }));

  // The sender's rooms as roomkeeper knows them right now, for resolving `in REF`.
  async function roomsOfSender(sender: string, except: string): Promise<SharedRoom[]> {
    const rooms: SharedRoom[] = [];
    for (const roomId of await keeper.rooms.roomsOf(sender)) {
      if (roomId === except) continue;
      rooms.push({
        roomId,
        info: await keeper.rooms.info(roomId),
        memberCount: await keeper.rooms.memberCount(roomId),
        // Named as the bot's client would name it, so `in Alice` finds a DM with Alice.
        displayName: await keeper.rooms.displayName(roomId, botUserId),
      });
    }
    return rooms;
  }

  async function onMessage(roomId: string, event: RoomMessage): Promise<void> {
    if (!fresh.has(event.event_id) || event.sender === botUserId) return;
    const body = event.content?.body;
    if (event.content?.msgtype !== 'm.text' || typeof body !== 'string') return;
    const parsed = parseRoll(body);
    if (parsed.kind === 'ignore') return;
    if (parsed.kind === 'usage') {
      await client.replyNotice(roomId, event, parsed.message);
      return;
    }
    const { roll } = parsed;
    const result = rollDice(roll, random);
    if (roll.ref === undefined) {
      await client.replyNotice(roomId, event, `${event.sender} rolled ${result.text}`);
      log({ msg: 'rolled', roomId, sender: event.sender, total: result.total });
      return;
    }
    // Elsewhere than a DM, answering about other rooms would tell everyone where the sender is.
    if ((await keeper.rooms.memberCount(roomId)) > 2) {
      await client.replyNotice(roomId, event, 'Ask me in a direct message to roll into another room.');
      return;
    }
    const found = resolveRoom(roll.ref, await roomsOfSender(event.sender, roomId));
    if (found.kind === 'found') {
      const target = found.room.room;
      await client.sendNotice(target.roomId, `${event.sender} rolled ${result.text}`);
      await client.replyNotice(roomId, event, `Rolled into ${target.info?.name ?? target.roomId}: ${result.text}`);
      log({ msg: 'rolled', roomId: target.roomId, sender: event.sender, total: result.total });
    } else if (found.kind === 'ambiguous') {
      const names = found.candidates.map((c) => c.room.info?.name ?? c.room.roomId).join(', ');
      await client.replyNotice(roomId, event, `"${found.ref}" matches several of your rooms: ${names}`);
    } else {
      // The same answer whether the room does not exist or the sender is not in it.
      await client.replyNotice(roomId, event, `None of your rooms matches "${roll.ref}".`);
    }
  }

  client.on('room.message', (roomId: string, event: RoomMessage) => {
    onMessage(roomId, event).catch((err: unknown) => log({ msg: 'command failed', roomId, err: String(err) }));
  });

  await client.start();
  log({ msg: 'started', botUserId });
  return {
    client,
    keeper,
    async stop() {
      client.stop();
      // Closing the record ends the change loop; a greeting under way finishes first.
      await keeper.close();
      await greeter;
    },
  };
}
