import { resolve } from 'node:path';
import type { EnvAssignment } from './env.js';
import type { Path } from './text.js';
import { lookup } from './tree.js';

/** What the config was merged from, to say where a bad value came from and what a relative path is relative to. */
export interface Sources {
  /** The config file as the operator named it, for messages. */
  fileLabel: string | undefined;
  fileDir: string | undefined;
  fileData: Record<string, unknown>;
  env: EnvAssignment[];
  cwd: string;
}

type Origin = { kind: 'env'; name: string } | { kind: 'file' } | { kind: 'default' };

function originOf(path: Path, sources: Sources): Origin {
  const assignment = sources.env.find((a) => a.path.every((key, i) => path[i] === key));
  if (assignment !== undefined) return { kind: 'env', name: assignment.name };
  if (sources.fileLabel !== undefined && lookup(sources.fileData, path) !== undefined) return { kind: 'file' };
  return { kind: 'default' };
}

/** ` (from env NAME)`, ` (from FILE)`, or nothing for a default: the tail of a problem line. */
export function describeOrigin(path: Path, sources: Sources): string {
  const origin = originOf(path, sources);
  if (origin.kind === 'env') return ` (from env ${origin.name})`;
  if (origin.kind === 'file') return ` (from ${sources.fileLabel})`;
  return '';
}

/** A relative path means: relative to the config file when written there, else to the working directory. */
export function resolvePath(path: Path, value: string, sources: Sources): string {
  const origin = originOf(path, sources);
  const base = origin.kind !== 'env' && sources.fileDir !== undefined ? sources.fileDir : sources.cwd;
  return resolve(base, value);
}
