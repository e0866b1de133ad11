import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { errorCode } from './text.js';
import { isRecord } from './tree.js';

/** The file's top-level mapping, or the lines that say why there is none. */
export type FileRead = { ok: true; data: Record<string, unknown> } | { ok: false; problems: string[]; cause?: unknown };

/** Reads and parses a YAML config file; `label` is the path as the operator gave it, for messages. */
export function readConfigFile(label: string, path: string): FileRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    const problem = code === 'ENOENT' ? `config file ${label} does not exist` : `cannot read config file ${label}: ${code}`;
    return { ok: false, problems: [problem], cause: err };
  }
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending source line, which may hold a secret.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: firstPerLine(doc.errors.map((err) => ({ ...lineCounter.linePos(err.pos[0]), message: err.message }))).map(
        ({ line, col, message }) => `${label}:${line}:${col}: invalid YAML: ${message}`,
      ),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // Unresolved aliases and alias bombs surface only here.
    return { ok: false, problems: [`${label}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`], cause: err };
  }
  if (data === null || data === undefined) return { ok: true, data: {} };
  if (!isRecord(data)) {
    return { ok: false, problems: [`${label}: the top level must be a mapping of field names to values`] };
  }
  return { ok: true, data };
}

/** One syntax error makes the parser report more at the same place; the first of each line says what is wrong. */
function firstPerLine<T extends { line: number }>(errors: readonly T[]): T[] {
  const seen = new Set<number>();
  return errors.filter((err) => !seen.has(err.line) && seen.add(err.line));
}
