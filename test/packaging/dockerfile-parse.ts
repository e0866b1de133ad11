/**
 * Just enough of the Dockerfile and .dockerignore grammars to check roomkeeper's own files
 * without a Docker engine: line continuations, comments, global ARGs in FROM, JSON (exec) form,
 * `--flag=value` options, and .dockerignore's last-match-wins patterns with `!` exceptions.
 */

export interface Instruction {
  /** Upper-cased keyword: FROM, COPY, RUN, ... */
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  rest: string;
  /** 1-based line of the keyword, for messages. */
  line: number;
}

export interface Stage {
  name: string | undefined;
  index: number;
  /** The image after global ARG substitution, or an earlier stage's name. */
  base: string;
  instructions: Instruction[];
}

export interface CopyInstruction {
  from: string | undefined;
  sources: string[];
  dest: string;
  line: number;
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into instructions; comment lines vanish, even inside a continuation. */
export function instructionsOf(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) continue;
    if (trimmed === '' && pending === undefined) continue;
    const continues = trimmed.endsWith('\\');
    const body = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending === undefined) pending = { parts: [], line: i + 1 };
    if (body !== '') pending.parts.push(body);
    if (!continues) {
      const joined = pending.parts.join(' ');
      const m = /^(\S+)\s*(.*)$/.exec(joined);
      if (m !== null) out.push({ keyword: m[1]!.toUpperCase(), rest: m[2]!, line: pending.line });
      pending = undefined;
    }
  }
  if (pending !== undefined) throw new Error(`Dockerfile ends inside a line continuation (line ${pending.line})`);
  return out;
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const value = vars[name];
    if (value === undefined) throw new Error(`undefined build argument ${name}`);
    return value;
  });
}

/** Parses a Dockerfile into its global ARGs and stages. */
export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructionsOf(text)) {
    if (ins.keyword === 'FROM') {
      const parts = ins.rest.split(/\s+/).filter((p) => !p.startsWith('--platform='));
      const base = substitute(parts[0] ?? '', globalArgs);
      const name = parts[1]?.toUpperCase() === 'AS' ? parts[2] : undefined;
      stages.push({ name, index: stages.length, base, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [name, value] = ins.rest.split('=', 2);
      globalArgs[name!.trim()] = (value ?? '').trim();
      continue;
    }
    stage.instructions.push(ins);
  }
  return { globalArgs, stages };
}

/** The JSON array of an exec-form instruction, or undefined when it is in shell form. */
export function execForm(rest: string): string[] | undefined {
  if (!rest.trimStart().startsWith('[')) return undefined;
  const value: unknown = JSON.parse(rest);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not a JSON array of strings: ${rest}`);
  return value;
}

/** Reads a COPY instruction's options, sources and destination (shell or JSON form). */
export function parseCopy(ins: Instruction): CopyInstruction {
  const words = ins.rest.split(/\s+/).filter((w) => w !== '');
  let from: string | undefined;
  while (words[0]?.startsWith('--') === true) {
    const flag = words.shift()!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(flag);
    if (m?.[1] === 'from') from = m[2];
  }
  const args = execForm(words.join(' ')) ?? words;
  if (args.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  return { from, sources: args.slice(0, -1), dest: args.at(-1)!, line: ins.line };
}

/** KEY=value pairs of an ENV instruction (the old `ENV KEY value` form too). */
export function parseEnv(rest: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!rest.includes('=')) {
    const m = /^(\S+)\s+(.*)$/.exec(rest);
    if (m !== null) out[m[1]!] = m[2]!;
    return out;
  }
  for (const m of rest.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = m[2]!;
    out[m[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return out;
}

/** Every ENV of a stage, later ones overriding earlier ones. */
export function envOf(stage: Stage): Record<string, string> {
  return Object.assign({}, ...stage.instructions.filter((i) => i.keyword === 'ENV').map((i) => parseEnv(i.rest))) as Record<string, string>;
}

/** The last value of a keyword in a stage (WORKDIR, USER, ...). */
export function lastOf(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}

interface IgnorePattern {
  negate: boolean;
  regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of whole folders, zero included; a trailing `**` anything.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') throw new Error(`character classes are not supported here: ${pattern}`);
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The patterns of a .dockerignore, in order. */
export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.split('\n')) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trim();
    // Like Docker's filepath.Clean: no leading `/` or `./`, no trailing `/`.
    p = p.replace(/^\.?\//, '').replace(/\/+$/, '');
    patterns.push({ negate, regex: globToRegex(p) });
  }
  return patterns;
}

/**
 * Whether the build context leaves out `path` (relative, `/`-separated). As in Docker, a pattern
 * that matches a parent folder matches everything in it, and the last matching pattern decides.
 */
export function isIgnored(patterns: readonly IgnorePattern[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) {
    if (prefixes.some((prefix) => p.regex.test(prefix))) ignored = !p.negate;
  }
  return ignored;
}
