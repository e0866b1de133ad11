import { z } from 'zod';
import { envVars } from './env.js';
import { configSchema } from './schema.js';
import { describeOrigin, type Sources } from './sources.js';
import { closest, joinOr, renderPath, show, type Path } from './text.js';
import { lookup } from './tree.js';

const secretFields: ReadonlySet<PropertyKey> = new Set(['accessToken', 'password']);
const appserviceSecretFields: ReadonlySet<PropertyKey> = new Set(['hsToken', 'asToken']);

function showAt(path: Path, input: unknown): string {
  const [first, second] = path;
  const secret =
    (path.length === 1 && first !== undefined && secretFields.has(first)) ||
    (path.length === 2 && first === 'appservice' && second !== undefined && appserviceSecretFields.has(second));
  return secret ? 'the value' : show(lookup(input, path));
}

const typeNouns: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** One line per problem zod found, naming the path, the value (never a secret's) and where it came from. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], base: Path, input: unknown, sources: Sources): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const line = (at: Path, problem: string) => lines.push(`${renderPath(at)}: ${problem}${describeOrigin(at, sources)}`);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const guess = closest(key, fieldsAt(path));
          line([...path, key], `unknown field${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
        }
        break;
      case 'invalid_union': {
        // A branch that got past the type check holds the useful detail (`autoJoin.allow.users[0]`).
        const isTypeMiss = (i: z.core.$ZodIssue) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
        const progressed = issue.errors.filter((branch) => !branch.every(isTypeMiss));
        if (progressed.length === 1 && progressed[0] !== undefined) {
          lines.push(...describeIssues(progressed[0], path, input, sources));
        } else {
          line(path, `${showAt(path, input)} is not ${joinOr(issue.errors.flat().map(describeExpected))}`);
        }
        break;
      }
      case 'invalid_type': {
        const value = lookup(input, path);
        if (value === undefined) {
          const envName = Object.keys(envVars).find((name) => renderPath(envVars[name]?.path ?? []) === renderPath(path));
          line(path, `required; set it in the config file${envName === undefined ? '' : ` or ${envName}`}`);
        } else {
          line(path, `${showAt(path, input)} is not ${typeNouns[issue.expected] ?? issue.expected}`);
        }
        break;
      }
      case 'invalid_value':
        line(path, `${showAt(path, input)} is not ${joinOr(issue.values.map((v) => show(v)))}`);
        break;
      default:
        // Every other issue carries a message written in the schema (schema.ts).
        line(path, issue.message);
    }
  }
  return lines;
}

/** What a branch of a union wanted, from its type-check issue: `"all"`, `a mapping`. */
function describeExpected(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return issue.values.map((v) => show(v)).join(', ');
  if (issue.code === 'invalid_type') return typeNouns[issue.expected] ?? issue.expected;
  return issue.message;
}

/** The field names the schema accepts at `path`, for "did you mean". */
function fieldsAt(path: Path): string[] {
  let node: z.core.$ZodType | undefined = configSchema;
  for (const key of path) {
    const shape: Record<string, z.core.$ZodType> | undefined = objectIn(node)?.shape;
    node = typeof key === 'string' && shape !== undefined ? shape[key] : undefined;
  }
  return Object.keys(objectIn(node)?.shape ?? {});
}

function objectIn(schema: z.core.$ZodType | undefined): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) {
    return objectIn(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) return objectIn(schema.in);
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options) {
      const found = objectIn(option);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
