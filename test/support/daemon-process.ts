/** `roomkeeper run` as a child process, for tests of signals, exit codes and crashes. */
import type { ChildProcess } from 'node:child_process';
import { startCli, type CliResult } from './cli.js';

/** A parsed JSON log line of the child. */
export type ChildLogLine = Record<string, unknown> & { level: number; msg: string };

/** A running `node bin/roomkeeper.js run`, its output collected as it comes. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<CliResult>;
  stdout = '';
  stderr = '';
  /** Set once the child has exited. */
  result: CliResult | undefined;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.child = startCli(['run', ...args], { env: { ROOMKEEPER_LOG_FORMAT: 'json', ...env } });
    this.child.stdin?.end();
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        this.result = { code, signal, stdout: this.stdout, stderr: this.stderr };
        resolve(this.result);
      });
    });
  }

  /** The JSON log lines written so far (a line cut short by a SIGKILL is left out). */
  logs(): ChildLogLine[] {
    const lines: ChildLogLine[] = [];
    for (const text of this.stdout.split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as ChildLogLine);
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
      }
    }
    return lines;
  }

  /** Sends `signal`; resolves with the result and how long the child took to exit. */
  async stop(signal: NodeJS.Signals): Promise<CliResult & { ms: number }> {
    const t = Date.now();
    if (this.result === undefined) this.child.kill(signal);
    const result = await this.exited;
    return { ...result, ms: Date.now() - t };
  }
}
