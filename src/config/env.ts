// Environment overrides: KAMSTRUP_ + the key path in upper case, levels joined by __, list
// indices as numbers (KAMSTRUP_METERS__0__URL, KAMSTRUP_JOBS__1__CRON). Values are read as YAML
// scalars or flow collections ("[heat_energy, power]", 5, true); a key that takes text takes the
// value as written. With the suffix _FILE the value is the content of the named file (trailing
// newline trimmed), as Docker secrets are. A KAMSTRUP_ variable that names no key is a problem.

import { isCollection, isScalar, parseDocument } from 'yaml';
import { ENV_PREFIX, comparePaths, envName, nearest, type KeyNode, type KeyPath } from './keys.js';

/** Variables of the same prefix that belong to others: the one-shot CLI's meter, the config path. */
export const RESERVED_ENV = ['KAMSTRUP_METER', 'KAMSTRUP_CONFIG'] as const;

export interface EnvOverride {
  readonly name: string;
  readonly path: KeyPath;
  readonly value: unknown;
}

export interface EnvProblem {
  readonly name: string;
  readonly message: string;
}

type Lookup = { readonly path: KeyPath; readonly node: KeyNode } | { readonly problem: string };

export function readEnvOverrides(
  env: Readonly<Record<string, string | undefined>>,
  tree: KeyNode,
  readFile: (path: string) => string,
): { overrides: EnvOverride[]; problems: EnvProblem[] } {
  const overrides: EnvOverride[] = [];
  const problems: EnvProblem[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.startsWith(ENV_PREFIX) || (RESERVED_ENV as readonly string[]).includes(name)) continue;
    let lookup = lookupEnvName(name.slice(ENV_PREFIX.length), tree);
    let fromFile = false;
    if ('problem' in lookup && name.endsWith('_FILE')) {
      const target = lookupEnvName(name.slice(ENV_PREFIX.length, -'_FILE'.length), tree);
      if ('path' in target) {
        lookup = target;
        fromFile = true;
      }
    }
    if ('problem' in lookup) {
      problems.push({ name, message: lookup.problem });
      continue;
    }
    let raw = text;
    if (fromFile) {
      try {
        raw = trimTrailingNewlines(readFile(text));
      } catch (error) {
        problems.push({ name, message: `cannot read ${JSON.stringify(text)}: ${describeFsError(error)}` });
        continue;
      }
    }
    overrides.push({ name, path: lookup.path, value: envValue(raw, lookup.node) });
  }
  overrides.sort((a, b) => comparePaths(a.path, b.path));
  return { overrides, problems };
}

function lookupEnvName(rest: string, tree: KeyNode): Lookup {
  const segments = rest.split('__');
  const path: (string | number)[] = [];
  let node = tree;
  for (const [index, segment] of segments.entries()) {
    const remaining = segments.slice(index + 1);
    if (node.kind === 'object') {
      const key = segment.toLowerCase();
      const next = node.keys.get(key);
      if (next === undefined) {
        const valid = [...node.keys.keys()];
        if (valid.length === 0) return { problem: `names no configuration key: ${envName(path)} takes no keys yet` };
        const guess = nearest(key, valid);
        const hint = guess !== undefined
          ? `did you mean ${envName([...path, guess, ...remaining])}?`
          : `valid after ${path.length === 0 ? ENV_PREFIX : envName(path) + '__'}: ${valid.map((k) => k.toUpperCase()).join(', ')}`;
        return { problem: `names no configuration key; ${hint}` };
      }
      path.push(key);
      node = next;
    } else if (node.kind === 'array') {
      if (!/^\d{1,4}$/.test(segment)) return { problem: `names no configuration key; ${envName(path)} is a list: follow it with an index, e.g. ${envName([...path, 0, ...remaining])}` };
      path.push(Number(segment));
      node = node.element;
    } else {
      return { problem: `names no configuration key; ${envName(path)} is a single value, with nothing below it` };
    }
  }
  return { path, node };
}

/** An environment value as YAML: a scalar or a flow collection; text as written where the key takes text. */
export function envValue(text: string, node: KeyNode): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return text;
  const contents = doc.contents;
  if (isScalar(contents)) {
    const value: unknown = contents.value;
    if (node.kind === 'leaf' && node.text && typeof value !== 'string') return text;
    return value;
  }
  if (isCollection(contents) && contents.flow === true) return doc.toJS();
  return text;
}

export function trimTrailingNewlines(text: string): string {
  return text.replace(/(\r?\n)+$/, '');
}

export function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
