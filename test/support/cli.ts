import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (vitest's global setup compiles dist/ first). */
export const BIN = fileURLToPath(new URL('../../bin/roomkeeper.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables set for the child on top of this process's environment, whose ROOMKEEPER_* are left out. */
  env?: Record<string, string>;
}

/** This process's environment without ROOMKEEPER_* (unknown ones are a config error), plus `vars`. */
export function cliEnv(vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ROOMKEEPER_')) env[k] = v;
  return { ...env, ...vars };
}

/** Starts `node bin/roomkeeper.js ...args` with piped stdio. */
export function startCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env === undefined ? process.env : cliEnv(options.env),
  });
}

/** Collects a started CLI's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the CLI to the end, feeding `input` to its stdin. */
export async function runCli(args: string[], input = '', options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options);
  const done = finished(child);
  child.stdin?.end(input);
  return done;
}
