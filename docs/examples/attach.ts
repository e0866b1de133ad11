/**
 * The README's "Embedding" recipe, verbatim between the markers (test/library/readme.test.ts
 * checks that), type-checked with the rest and run against the fake homeserver.
 */
// README:begin
import { openRoomkeeper } from 'roomkeeper';
import { AutojoinRoomsMixin, MatrixClient, SimpleFsStorageProvider } from 'roomkeeper/sdk';

export async function startBot(homeserverUrl: string, accessToken: string, dataDir: string) {
  const client = new MatrixClient(homeserverUrl, accessToken, new SimpleFsStorageProvider(`${dataDir}/bot.json`));
  AutojoinRoomsMixin.setupOnClient(client);
  const keeper = await openRoomkeeper({ dataDir: `${dataDir}/roomkeeper`, botUserId: await client.getUserId() });
  // Before start(): each /sync body is committed before the client emits its events.
  keeper.attach(client);

  async function onMessage(roomId: string, event: { sender: string; content?: { body?: unknown } }) {
    if (event.content?.body !== '!where') return;
    // Plain string ids; the answer already includes the sync that brought this message.
    const rooms = await keeper.rooms.roomsOf(event.sender);
    await client.replyNotice(roomId, event, `You share ${rooms.length} room(s) with me.`);
  }
  client.on('room.message', (roomId: string, event: { sender: string }) => {
    onMessage(roomId, event).catch((err: unknown) => console.error('!where failed', err));
  });

  await client.start();
  return {
    async stop() {
      client.stop();
      await keeper.close();
    },
  };
}
// README:end
