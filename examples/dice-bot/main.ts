/**
 * Runs the dice bot: `HOMESERVER_URL=… ACCESS_TOKEN=… node --import tsx examples/dice-bot/main.ts`.
 * DATA_DIR (default ./dice-bot-data) holds roomkeeper's record and the SDK's storage file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDiceBot } from './bot.js';

const homeserverUrl = process.env['HOMESERVER_URL'];
const accessToken = process.env['ACCESS_TOKEN'];
if (homeserverUrl === undefined || accessToken === undefined) {
  console.error('set HOMESERVER_URL and ACCESS_TOKEN');
  process.exit(2);
}
const dataDir = process.env['DATA_DIR'] ?? './dice-bot-data';
mkdirSync(dataDir, { recursive: true });
const syncTimeout = process.env['SYNC_TIMEOUT_MS'];

const bot = await startDiceBot({
  homeserverUrl,
  accessToken,
  dataDir: join(dataDir, 'roomkeeper'),
  storageFile: join(dataDir, 'bot-storage.json'),
  syncTimeoutMs: syncTimeout === undefined ? undefined : Number(syncTimeout),
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    bot.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
