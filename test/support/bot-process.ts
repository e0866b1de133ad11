import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node --import tsx SCRIPT` as a bot process against a homeserver (the fake, or Synapse in the
 * e2e suite): HOMESERVER_URL, ACCESS_TOKEN (the bot's) and DATA_DIR in its environment, plus `env`. An unexpected exit is
 * reported on the test's stderr with what the process wrote there.
 */
export function spawnBotProcess(script: string, hs: { url: string; botToken: string }, dataDir: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, HOMESERVER_URL: hs.url, ACCESS_TOKEN: hs.botToken, DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) console.error(`${script} exited with ${code}: ${stderr}`);
  });
  return child;
}

/** Resolves once the process has exited (at once when it has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}
