import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configEnvVars, loadConfig } from '../../src/config/index.js';
import { Metrics } from '../../src/http/metrics.js';
import { startHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import {
  envOf,
  execForm,
  isIgnored,
  lastOf,
  parseCopy,
  parseDockerfile,
  parseDockerignore,
  type CopyInstruction,
  type Stage,
} from './dockerfile-parse.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const ignore = parseDockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

const stages = dockerfile.stages;
const runtime = stages.at(-1)!;
const copies = (stage: Stage): CopyInstruction[] => stage.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
const workdir = (stage: Stage): string => lastOf(stage, 'WORKDIR')?.rest ?? '/';
const runs = (stage: Stage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
const stageNamed = (name: string | undefined): Stage | undefined => stages.find((s) => s.name === name || String(s.index) === name);
const runtimeEnv = envOf(runtime);

/** Every file under `path` (itself when it is a file), relative to the repo, `/`-separated. */
function filesUnder(path: string): string[] {
  const abs = join(root, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath, d.name)).split(sep).join('/'));
}

describe('Dockerfile', () => {
  it('has a build stage and a runtime stage with distinct names', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((s) => s.name);
    expect(names.every((n) => n !== undefined)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('builds every stage on an official Node slim Debian image pinned by major version, or an earlier stage', () => {
    for (const stage of stages) {
      const earlier = stages.slice(0, stage.index).some((s) => s.name === stage.base);
      if (!earlier) expect(stage.base).toMatch(/^node:\d+-(bookworm|trixie)-slim$/);
    }
  });

  it('copies --from only stages defined before the copy', () => {
    for (const stage of stages) {
      for (const copy of copies(stage).filter((c) => c.from !== undefined)) {
        const from = stageNamed(copy.from);
        expect(from, `line ${copy.line}: --from=${copy.from}`).toBeDefined();
        expect(from!.index, `line ${copy.line}`).toBeLessThan(stage.index);
      }
    }
  });

  it('copies from the build context only files that exist and .dockerignore lets through', () => {
    const checked: string[] = [];
    for (const stage of stages) {
      for (const copy of copies(stage).filter((c) => c.from === undefined)) {
        for (const source of copy.sources) {
          expect(existsSync(join(root, source)), `line ${copy.line}: ${source} does not exist`).toBe(true);
          const files = filesUnder(source);
          expect(files.length, `line ${copy.line}: ${source} is empty`).toBeGreaterThan(0);
          for (const file of files) {
            expect(isIgnored(ignore, file), `line ${copy.line}: ${file} is excluded by .dockerignore`).toBe(false);
            checked.push(file);
          }
        }
      }
    }
    expect(checked).toContain('src/main.ts');
    expect(checked).toContain('bin/roomkeeper.js');
  });

  it('keeps local state and secrets out of the build context', () => {
    for (const path of ['node_modules/pino/package.json', 'dist/main.js', 'data/leveldb/CURRENT', '.git/HEAD', 'roomkeeper.yaml', 'token', 'test/http/server.test.ts']) {
      expect(isIgnored(ignore, path), path).toBe(true);
    }
  });

  it('copies into the runtime stage only what the build stage produced: the compiler output', () => {
    const fromBuild = copies(runtime).filter((c) => c.from !== undefined);
    expect(fromBuild.length).toBeGreaterThan(0);
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    for (const copy of fromBuild) {
      const build = stageNamed(copy.from)!;
      expect(runs(build).some((r) => /\bnpm run build\b/.test(r)), `stage ${build.name} runs the build`).toBe(true);
      for (const source of copy.sources) {
        expect(posix.relative(workdir(build), source), `line ${copy.line}`).toBe(posix.normalize(tsconfig.compilerOptions.outDir));
      }
    }
  });

  it('installs only production dependencies in the runtime stage, without install scripts', () => {
    const install = runs(runtime).find((r) => /\bnpm ci\b/.test(r));
    expect(install).toBeDefined();
    expect(install).toContain('--omit=dev');
    expect(install).toContain('--ignore-scripts');
  });

  it('runs as a non-root user', () => {
    const user = lastOf(runtime, 'USER')?.rest.split(':')[0];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('keeps the data directory on a volume the runtime user owns', () => {
    const dataDir = runtimeEnv.ROOMKEEPER_DATA_DIR;
    expect(dataDir).toBe('/data');
    const volumes = runtime.instructions.filter((i) => i.keyword === 'VOLUME').flatMap((i) => execForm(i.rest) ?? i.rest.split(/\s+/));
    expect(volumes).toContain(dataDir);
    const user = lastOf(runtime, 'USER')!.rest.split(':')[0]!;
    expect(runs(runtime).some((r) => new RegExp(`chown\\s+${user}(:\\S+)?\\s+${dataDir}\\b`).test(r))).toBe(true);
  });

  it('sets only environment variables the config loader knows, and they load', () => {
    const ours = Object.keys(runtimeEnv).filter((k) => k.startsWith('ROOMKEEPER_'));
    for (const name of ours) expect(configEnvVars, name).toContain(name);
    const config = loadConfig({ env: { ...runtimeEnv, ROOMKEEPER_HOMESERVER_URL: 'http://synapse:8008', ROOMKEEPER_ACCESS_TOKEN: 'syt_x' }, cwd: '/app' });
    expect(config.dataDir).toBe('/data');
    expect(config.http).toEqual({ enabled: true, host: '0.0.0.0', port: 9464 });
  });

  it('exposes the port the health endpoint listens on', () => {
    const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.rest.split(/\s+/));
    expect(exposed).toContain(/:(\d+)$/.exec(runtimeEnv.ROOMKEEPER_HTTP_LISTEN ?? '')?.[1]);
  });

  it('starts the daemon with an exec-form ENTRYPOINT so that it receives SIGTERM itself', () => {
    const entrypoint = execForm(lastOf(runtime, 'ENTRYPOINT')!.rest);
    expect(entrypoint).toEqual(['node', posix.join(workdir(runtime), 'bin/roomkeeper.js')]);
    expect(execForm(lastOf(runtime, 'CMD')!.rest)).toEqual(['run']);
  });

  describe('HEALTHCHECK', () => {
    const healthcheck = lastOf(runtime, 'HEALTHCHECK')!;
    const command = execForm(healthcheck.rest.slice(healthcheck.rest.indexOf('CMD') + 3).trim());

    async function runHealthcheck(ok: boolean): Promise<number | null> {
      const log = createLogger({ level: 'silent' });
      const server = await startHttpServer({ host: '127.0.0.1', port: 0, health: () => ({ ok }), metrics: new Metrics({ processMetrics: false }), log });
      try {
        const port = new URL(server.url).port;
        const [file, ...args] = command!;
        // What Docker runs, with the image's environment pointed at this test's port.
        const env = { PATH: process.env.PATH, ...runtimeEnv, ROOMKEEPER_HTTP_LISTEN: `0.0.0.0:${port}` };
        const child = await promisify(execFile)(file === 'node' ? process.execPath : file!, args, { env, timeout: 10_000 }).then(
          () => 0,
          (err: { code?: number }) => err.code ?? null,
        );
        return child;
      } finally {
        await server.close();
      }
    }

    it('is an exec-form node command (no curl in the slim image)', () => {
      expect(command?.[0]).toBe('node');
    });

    it('exits 0 when /readyz answers 200', async () => {
      expect(await runHealthcheck(true)).toBe(0);
    });

    it('exits 1 when /readyz answers 503', async () => {
      expect(await runHealthcheck(false)).toBe(1);
    });
  });
});

describe('the image laid out from scratch', () => {
  // Each stage in a temp dir standing for its WORKDIR, filled by its COPYs alone. The build stage
  // borrows this repo's node_modules (same lockfile, dev dependencies included) instead of its own
  // `npm ci`, then runs `npm run build`; the runtime stage runs its real `npm ci`, which reaches
  // the npm registry once. This catches a build that needs a file the Dockerfile does not copy, a
  // runtime import of a devDependency, a lockfile out of step with package.json, and a native
  // module that needs its install script.
  const dirs = new Map<Stage, string>();
  const entrypoint = execForm(lastOf(runtime, 'ENTRYPOINT')!.rest)!;
  let app: string;

  function lay(stage: Stage): string {
    const dir = mkdtempSync(join(tmpdir(), `roomkeeper-${stage.name ?? stage.index}-`));
    dirs.set(stage, dir);
    for (const copy of copies(stage)) {
      const from = copy.from === undefined ? undefined : stageNamed(copy.from)!;
      const base = from === undefined ? root : dirs.get(from)!;
      for (const source of copy.sources) {
        const src = join(base, from === undefined ? source : posix.relative(workdir(from), source));
        const dest = posix.relative(workdir(stage), posix.resolve(workdir(stage), copy.dest));
        const target = copy.dest.endsWith('/') && !statSync(src).isDirectory() ? join(dir, dest, posix.basename(source)) : join(dir, dest);
        cpSync(src, target, { recursive: true });
      }
    }
    return dir;
  }

  beforeAll(async () => {
    const run = promisify(execFile);
    for (const stage of stages.slice(0, -1)) {
      const dir = lay(stage);
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      if (runs(stage).some((r) => /\bnpm run build\b/.test(r))) await run('npm', ['run', 'build'], { cwd: dir, timeout: 120_000 });
    }
    app = lay(runtime);
    const install = runs(runtime).find((r) => /\bnpm ci\b/.test(r))!.split('&&')[0]!.trim().split(/\s+/);
    expect(install.slice(0, 2)).toEqual(['npm', 'ci']);
    await run('npm', install.slice(1), { cwd: app, timeout: 240_000, env: { ...process.env, NODE_ENV: 'production' } });
  }, 400_000);

  afterAll(() => {
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  });

  function runImage(...args: string[]) {
    const script = join(app, posix.relative(workdir(runtime), entrypoint[1]!));
    // The image's environment, but with the data directory inside the copy and no listener.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...runtimeEnv,
      ROOMKEEPER_DATA_DIR: join(app, 'data'),
      ROOMKEEPER_HTTP_LISTEN: 'off',
    };
    return spawnSync(process.execPath, [script, ...args], { cwd: app, env, encoding: 'utf8', timeout: 30_000 });
  }

  it('has no development dependency installed', () => {
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/classic-level'))).toBe(true);
  });

  it('prints the package version for --version', () => {
    const res = runImage('--version');
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toBe(pkg.version);
  });

  it('prints the usage and exits 0 for --help', () => {
    const res = runImage('--help');
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('roomkeeper run');
  });

  it('loads the storage binding from the installed package without its install script', () => {
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('classic-level')"], { cwd: app, encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('exits 2 (an operator error, not a crash) when run without a homeserver or token', () => {
    // Loading `run` pulls in matrix-bot-sdk, whose crypto binding has no binary here.
    const res = runImage('run');
    expect(res.stderr).toMatch(/^roomkeeper: /);
    expect(res.stderr).not.toContain('unknown command');
    expect(res.status).toBe(2);
  });
});
