import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Process tests spawn bin/roomkeeper.js, which runs the compiled dist/: build it once, first.
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
