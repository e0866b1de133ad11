/**
 * One benchmark task in its own process, so that its peak RSS, heap and LevelDB caches are its
 * own. Started by run.ts with `fork`; the result goes back over IPC, progress to stderr.
 *
 *   node --expose-gc --import tsx bench/child.ts <task> <base-dir> [--quick]
 *
 * `base-dir` holds the workload files (written by the `generate` task) and the data dirs. Run by
 * hand (e.g. under --cpu-prof) a task prints its result as JSON on stdout.
 */
import { makePlan } from './plan.js';
import { generate } from './tasks/generate.js';
import { queryTargets } from './workload.js';
import { simpleFs, sqlite } from './tasks/alternatives.js';
import { appservice, guardBytes } from './tasks/appservice.js';
import { leveldbCeiling, memoryCeiling } from './tasks/ceilings.js';
import { prune } from './tasks/prune.js';
import { changes } from './tasks/changes.js';
import { queries } from './tasks/queries.js';
import { replayBig, replaySmall } from './tasks/replay.js';
import { scalePoint } from './tasks/scale.js';

const TASKS = ['generate', 'replay-big', 'queries', 'changes', 'prune', 'replay-small', 'ceiling', 'memory', 'sqlite', 'simplefs', 'appservice', 'appservice-1m', 'guard-bytes', 'scale-0.1', 'scale-1', 'scale-5'] as const;
type TaskName = (typeof TASKS)[number];

async function runTask(task: TaskName, dir: string, quick: boolean): Promise<unknown> {
  const plan = makePlan(quick);
  const q = queryTargets(plan.big);
  const hubs = [q.userInTenthOfRooms, q.userInHundredthOfRooms];
  switch (task) {
    case 'generate':
      return generate(plan, dir);
    case 'replay-big':
      return replayBig(plan, dir);
    case 'queries':
      return queries(plan, dir);
    case 'changes':
      return changes(plan, dir);
    case 'prune':
      return prune(plan, dir);
    case 'replay-small':
      return replaySmall(plan, dir);
    case 'ceiling':
      return leveldbCeiling(plan, dir);
    case 'memory':
      return memoryCeiling(plan, dir, hubs);
    case 'sqlite':
      return sqlite(plan, dir, hubs);
    case 'simplefs':
      return simpleFs(plan, dir);
    case 'appservice':
      return appservice(plan, dir);
    case 'guard-bytes':
      return guardBytes(plan, dir);
    case 'appservice-1m':
      // By hand only (~3 min): the full suite runs the small workload.
      return appservice(plan, dir, plan.big);
    case 'scale-0.1':
    case 'scale-1':
    case 'scale-5':
      return scalePoint(plan, dir, Number(task.slice('scale-'.length)));
  }
}

const [task, dir] = process.argv.slice(2);
if (!TASKS.includes(task as TaskName) || dir === undefined) {
  process.stderr.write(`usage: child.ts <${TASKS.join('|')}> <base-dir> [--quick]\n`);
  process.exit(2);
}
const result = await runTask(task as TaskName, dir, process.argv.includes('--quick'));
if (process.send !== undefined) {
  process.send({ result }, () => process.exit(0));
} else {
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
