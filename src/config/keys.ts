// Key paths of the config: the tree of valid keys (read off the zod schema, so later sections
// extend it by themselves), how a path is written in messages (jobs[1].cron) and as an
// environment variable (KAMSTRUP_JOBS__1__CRON), and the nearest valid name to a typo.

import { z } from 'zod';

export type KeyPath = readonly (string | number)[];

export type KeyNode =
  | { readonly kind: 'object'; readonly keys: ReadonlyMap<string, KeyNode>; readonly description: string | undefined }
  | { readonly kind: 'array'; readonly element: KeyNode; readonly description: string | undefined }
  /** `text`: the value is a string (or a choice of strings), so an environment value is taken as written. */
  | { readonly kind: 'leaf'; readonly text: boolean; readonly description: string | undefined };

export const ENV_PREFIX = 'KAMSTRUP_';

/** The suffix of a secret's `<key>_file` twin (schema.ts, secretFileKey). */
export const SECRET_FILE_SUFFIX = '_file';

/**
 * Whether a key is the `<secret>_file` twin of a sibling: a spelling of the YAML, not a value of
 * its own. The environment says the same with KAMSTRUP_…__<SECRET>_FILE.
 */
export function isSecretFileTwin(key: string, siblings: ReadonlyMap<string, KeyNode>): boolean {
  return key.endsWith(SECRET_FILE_SUFFIX) && siblings.has(key.slice(0, -SECRET_FILE_SUFFIX.length));
}

export function keyTree(schema: z.core.$ZodType): KeyNode {
  let current: z.core.$ZodType = schema;
  let description = describe(current);
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodNullable) {
      current = current.unwrap();
      description ??= describe(current);
    } else break;
  }
  if (current instanceof z.ZodObject) {
    const keys = new Map<string, KeyNode>();
    for (const [key, value] of Object.entries(current.shape)) keys.set(key, keyTree(value));
    return { kind: 'object', keys, description };
  }
  if (current instanceof z.ZodArray) return { kind: 'array', element: keyTree(current.element), description };
  return { kind: 'leaf', text: current instanceof z.ZodString || current instanceof z.ZodEnum, description };
}

function describe(schema: z.core.$ZodType): string | undefined {
  return z.globalRegistry.get(schema)?.description;
}

/** The node a path leads to, or undefined when the path names no key. */
export function nodeAt(tree: KeyNode, path: KeyPath): KeyNode | undefined {
  let node: KeyNode | undefined = tree;
  for (const segment of path) {
    if (node === undefined) return undefined;
    if (node.kind === 'object') node = typeof segment === 'string' ? node.keys.get(segment) : undefined;
    else if (node.kind === 'array') node = typeof segment === 'number' ? node.element : undefined;
    else return undefined;
  }
  return node;
}

/** `jobs[1].cron`; the empty path is ''. */
export function formatKey(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

/** `KAMSTRUP_JOBS__1__CRON`. */
export function envName(path: KeyPath): string {
  return ENV_PREFIX + path.map((segment) => String(segment).toUpperCase()).join('__');
}

/** The candidate closest to the input by edit distance, if any is close enough to be a typo. */
export function nearest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const limit = Math.max(2, Math.floor(needle.length / 2));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// --- Walking plain data ------------------------------------------------------------------------

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(root: unknown, path: KeyPath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof segment === 'number') value = Array.isArray(value) ? value[segment] : undefined;
    else value = isRecord(value) ? value[segment] : undefined;
  }
  return value;
}

/** Sets a value, creating (or replacing, when they are of the wrong kind) the mappings and lists on the way. */
export function setAt(root: Record<string, unknown>, path: KeyPath, value: unknown): void {
  let container: Record<string, unknown> | unknown[] = root;
  path.forEach((segment, index) => {
    const last = index === path.length - 1;
    const nextIsIndex = typeof path[index + 1] === 'number';
    const read = (): unknown => (Array.isArray(container) ? container[segment as number] : container[segment as string]);
    const write = (v: unknown): void => {
      if (Array.isArray(container)) container[segment as number] = v;
      else container[segment as string] = v;
    };
    if (last) {
      write(value);
      return;
    }
    let next = read();
    if (nextIsIndex ? !Array.isArray(next) : !isRecord(next)) {
      next = nextIsIndex ? [] : {};
      write(next);
    }
    container = next as Record<string, unknown> | unknown[];
  });
}

export function comparePaths(a: KeyPath, b: KeyPath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

export function isPrefix(prefix: KeyPath, path: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);
}
