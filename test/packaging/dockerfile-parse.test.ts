import { describe, expect, it } from 'vitest';
import { execForm, instructionsOf, isIgnored, parseCopy, parseDockerfile, parseDockerignore, parseEnv } from './dockerfile-parse.js';

describe('packaging/dockerfile-parse', () => {
  it('joins continuations and drops comment lines inside them', () => {
    const ins = instructionsOf('FROM a AS b\nRUN one \\\n# note\n  && two\n');
    expect(ins).toEqual([
      { keyword: 'FROM', rest: 'a AS b', line: 1 },
      { keyword: 'RUN', rest: 'one && two', line: 2 },
    ]);
  });

  it('substitutes global ARGs in FROM and names stages', () => {
    const df = parseDockerfile('ARG V=22\nFROM node:${V}-slim AS build\nFROM build AS runtime\nUSER node\n');
    expect(df.stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:22-slim'],
      ['runtime', 'build'],
    ]);
    expect(df.stages[1]!.instructions.map((i) => i.keyword)).toEqual(['USER']);
  });

  it('reads COPY options, sources and destination in both forms', () => {
    const copy = (rest: string) => parseCopy({ keyword: 'COPY', rest, line: 1 });
    expect(copy('--from=build --chown=node:node /app/dist ./dist')).toEqual({ from: 'build', sources: ['/app/dist'], dest: './dist', line: 1 });
    expect(copy('["a b", "c", "./"]')).toEqual({ from: undefined, sources: ['a b', 'c'], dest: './', line: 1 });
  });

  it('reads ENV pairs, quoted values included', () => {
    expect(parseEnv('A=1 B="x y" C=/data')).toEqual({ A: '1', B: 'x y', C: '/data' });
    expect(parseEnv('A hello world')).toEqual({ A: 'hello world' });
  });

  it('tells exec form from shell form', () => {
    expect(execForm('["node", "x.js"]')).toEqual(['node', 'x.js']);
    expect(execForm('node x.js')).toBeUndefined();
  });

  it('applies .dockerignore patterns last-match-wins, parents included', () => {
    const patterns = parseDockerignore('# c\n*\n!src/\n!package.json\nsrc/**/*.test.ts\n**/*~\n');
    expect(isIgnored(patterns, 'src/a/b.ts')).toBe(false);
    expect(isIgnored(patterns, 'src/a/b.test.ts')).toBe(true);
    expect(isIgnored(patterns, 'src/a/b.ts~')).toBe(true);
    expect(isIgnored(patterns, 'package.json')).toBe(false);
    expect(isIgnored(patterns, 'node_modules/x/package.json')).toBe(true);
    expect(isIgnored(patterns, 'srcx/a.ts')).toBe(true);
  });

  it('matches * within one folder only', () => {
    const patterns = parseDockerignore('docs/*.md\n');
    expect(isIgnored(patterns, 'docs/a.md')).toBe(true);
    expect(isIgnored(patterns, 'docs/x/a.md')).toBe(false);
  });
});
