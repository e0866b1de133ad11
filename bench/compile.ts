import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Transpiles a TypeScript entry point and every local module it imports into plain ESM under
 * `outDir`, so that the benchmark's child processes run without a TypeScript loader: tsx's
 * loader lives on its own thread with its own V8 heap (~35 MB of RSS), which would otherwise be
 * billed to the store in the RSS figures. One file at a time (isolatedModules), no type check:
 * `npm run typecheck` does that. Returns the path of the entry's output.
 */
export async function transpileTree(entry: string, root: string, outDir: string): Promise<string> {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    sourceMap: false,
  };
  const pending = [resolve(entry)];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
      if (fileName.startsWith('.') && fileName.endsWith('.js')) pending.push(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
    }
    const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName: file });
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  // Bare imports (zod, classic-level, …) resolve through the project's node_modules.
  await symlink(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return join(outDir, relative(root, resolve(entry))).replace(/\.ts$/, '.js');
}
