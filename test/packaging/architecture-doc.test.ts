import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
  .filter((d) => d.isFile() && d.name.endsWith('.ts'))
  .map((d) => relative(join(root, 'src'), join(d.parentPath, d.name)).split(sep).join('/'))
  .sort();

describe('docs/architecture.md', () => {
  // The module map describes src/ as it is: a new module gets a line, a removed one loses it.
  it('names every module of src/ in its module map', () => {
    const missing = sources.filter((file) => !doc.includes(`\`${file}\``));
    expect(missing).toEqual([]);
  });

  it('names no module that does not exist', () => {
    const named = [...doc.matchAll(/`((?:[a-z-]+\/)?[a-z-]+\.ts)`/g)].map((m) => m[1]!);
    expect(named.filter((file) => !sources.includes(file))).toEqual([]);
  });

  it('lists every namespace the store creates', () => {
    const level = readFileSync(join(root, 'src/store/level.ts'), 'utf8');
    const namespaces = [...level.matchAll(/db\.sublevel\('([^']+)'\)/g)].map((m) => m[1]!);
    expect(namespaces.length).toBeGreaterThan(0);
    for (const ns of namespaces) expect(doc).toContain(`| \`${ns}\` |`);
  });
});
