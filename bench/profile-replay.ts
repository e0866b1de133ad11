/**
 * Cold replay, then re-run, of one workload file through the real Store and Pipeline, without
 * anything else around it: the thing to run under `node --cpu-prof`.
 *
 *   node --import tsx bench/child.ts generate /tmp/rk-bench            # once: writes the workload files
 *   node --cpu-prof --import tsx bench/profile-replay.ts /tmp/rk-bench/workload/big.jsonl /tmp/rk-prof-db
 */
import { rm } from 'node:fs/promises';
import { Store } from '../src/store/store.js';
import { Pipeline } from '../src/sync/pipeline.js';
import { drive, perSecond, silentLogger } from './measure.js';
import { botUserId } from './tasks/replay.js';
import { readWorkload } from './workload-file.js';

const [file, dir] = process.argv.slice(2);
if (file === undefined || dir === undefined) {
  process.stderr.write('usage: profile-replay.ts <workload.jsonl> <scratch data dir (removed first)>\n');
  process.exit(2);
}
await rm(dir, { recursive: true, force: true });
const store = await Store.open(dir, { create: true });
const pipeline = new Pipeline(store, { botUserId, log: silentLogger() });
for (const label of ['cold', 're-run']) {
  const cpu0 = process.cpuUsage();
  const t = await drive(pipeline, readWorkload(file));
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${label}: ${Math.round(perSecond(t.events, t.ms))} events/s in process (${Math.round(t.ms)} ms), ` +
      `parse ${Math.round(t.parseMs)} ms, wall ${Math.round(t.wallMs)} ms, cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms, ` +
      `rss ${Math.round(process.memoryUsage().rss / 1048576)} MB\n`,
  );
}
await store.close();
