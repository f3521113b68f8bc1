// Environment overrides: KAMSTRUP_ + the key path in upper case, levels joined by __, list
// indices as numbers (KAMSTRUP_METERS__0__URL, KAMSTRUP_JOBS__1__CRON). Values are read as YAML
// scalars or flow collections ("[heat_energy, power]", 5, true); a key that takes text takes the
// value as written. With the suffix _FILE the value is the content of the named file (trailing
// newline trimmed), as Docker secrets are, for every key: KAMSTRUP_SINKS__INFLUXDB__TOKEN_FILE is
// the token read from a file, exactly as the YAML's token_file. A KAMSTRUP_ variable that names no
// key is a problem, and so is a _FILE variable whose file cannot be read or is empty.

import { isCollection, isScalar, parseDocument } from 'yaml';
import { ENV_PREFIX, comparePaths, envName, formatKey, isSecretFileTwin, nearest, type KeyNode, type KeyPath } from './keys.js';
import { describeTextFileProblem, TextFileError } from './text-file.js';

/** Variables of the same prefix that belong to others: the one-shot CLI's meter, the config path. */
export const RESERVED_ENV = ['KAMSTRUP_METER', 'KAMSTRUP_CONFIG'] as const;

const FILE_SUFFIX = '_FILE';

export interface EnvOverride {
  readonly name: string;
  readonly path: KeyPath;
  readonly value: unknown;
}

export interface EnvProblem {
  readonly name: string;
  readonly message: string;
  /** The key the variable names, when it names one (its file could not be read). */
  readonly path?: KeyPath;
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
    const rest = name.slice(ENV_PREFIX.length);
    // _FILE first: KAMSTRUP_SINKS__INFLUXDB__TOKEN_FILE names the token, read from a file.
    const fromFile = rest.endsWith(FILE_SUFFIX) ? lookupEnvName(rest.slice(0, -FILE_SUFFIX.length), tree) : null;
    if (fromFile !== null && 'path' in fromFile) {
      const read = valueFromFile(readFile, text, fromFile.path);
      if ('problem' in read) problems.push({ name, message: read.problem, path: fromFile.path });
      else overrides.push({ name, path: fromFile.path, value: envValue(read.value, fromFile.node) });
      continue;
    }
    const lookup = lookupEnvName(rest, tree);
    if ('problem' in lookup) problems.push({ name, message: lookup.problem });
    else overrides.push({ name, path: lookup.path, value: envValue(text, lookup.node) });
  }
  overrides.sort((a, b) => comparePaths(a.path, b.path));
  return { overrides, problems };
}

/**
 * The value a file holds, trailing newlines trimmed, or why it cannot be the value of the key at
 * `path`: a KAMSTRUP_…_FILE variable and a secret's `<key>_file` in the YAML say the same words.
 */
export function valueFromFile(readFile: (path: string) => string, file: string, path: KeyPath): { value: string } | { problem: string } {
  const last = path[path.length - 1];
  const what = typeof last === 'string' ? last : formatKey(path);
  let text: string;
  try {
    text = trimTrailingNewlines(readFile(file));
  } catch (error) {
    return { problem: `cannot read the ${what} from ${JSON.stringify(file)}: ${describeFsError(error)}` };
  }
  if (text === '') return { problem: `cannot read the ${what} from ${JSON.stringify(file)}: the file is empty; write the ${what} in it` };
  return { value: text };
}

function lookupEnvName(rest: string, tree: KeyNode): Lookup {
  const segments = rest.split('__');
  const path: (string | number)[] = [];
  let node = tree;
  for (const [index, segment] of segments.entries()) {
    const remaining = segments.slice(index + 1);
    if (node.kind === 'object') {
      const key = segment.toLowerCase();
      const siblings = node.keys;
      const valid = [...siblings.keys()].filter((k) => !isSecretFileTwin(k, siblings));
      const next = valid.includes(key) ? siblings.get(key) : undefined;
      if (next === undefined) {
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
      if (error instanceof TextFileError) return describeTextFileProblem(error.problem);
      return error instanceof Error ? error.message : String(error);
  }
}
