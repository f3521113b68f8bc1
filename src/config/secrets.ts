// Secrets: the keys the schema marks as secret (schema.ts, secretKeys), whose values no message
// ever shows, and which the YAML may give from a file: `<key>_file: /run/secrets/x` sets <key> to
// the file's content, trailing newline trimmed.

import { valueFromFile } from './env.js';
import { isRecord, SECRET_FILE_SUFFIX, valueAt, type KeyPath } from './keys.js';

/** Whether a key path is one of the secret keys ('sinks.influxdb.token', 'meters.*.password'). */
export function isSecretPath(path: KeyPath, secretKeys: readonly string[]): boolean {
  return secretKeys.some((pattern) => {
    const segments = pattern.split('.');
    return segments.length === path.length && segments.every((segment, i) => segment === '*' || segment === String(path[i]));
  });
}

/** Whether a secret key lies below the path (sinks, sinks.influxdb): a value there may hold one. */
export function holdsSecret(path: KeyPath, secretKeys: readonly string[]): boolean {
  return secretKeys.some((pattern) => {
    const segments = pattern.split('.');
    return segments.length > path.length && path.every((segment, i) => segments[i] === '*' || segments[i] === String(segment));
  });
}

/**
 * Replaces every `<secret>_file` key found at a secret key's place by `<secret>` with the file's
 * content. `secretKeys` are dotted paths with `*` for any list index or mapping key
 * ('sinks.influxdb.token', 'meters.*.password'). Problems are reported at the `_file` key, with
 * the secret's own path (whose "missing" the problem already explains).
 */
export function applySecretFiles(
  root: unknown,
  secretKeys: readonly string[],
  readFile: (path: string) => string,
  report: (path: KeyPath, message: string, secretPath: KeyPath) => void,
): void {
  for (const pattern of secretKeys) {
    const segments = pattern.split('.');
    const key = segments.pop();
    if (key === undefined) continue;
    for (const { holder, path } of holders(root, segments, [])) {
      const fileKey = key + SECRET_FILE_SUFFIX;
      if (!(fileKey in holder)) continue;
      const file = holder[fileKey];
      const fail = (message: string): void => report([...path, fileKey], message, [...path, key]);
      if (key in holder) {
        fail(`give either ${key} or ${fileKey}, not both`);
      } else if (typeof file !== 'string' || file === '') {
        fail(`expected the path of a file holding the ${key}, not ${typeof file === 'string' ? 'an empty string' : JSON.stringify(file)}`);
      } else {
        const read = valueFromFile(readFile, file, [...path, key]);
        if ('problem' in read) fail(read.problem);
        else holder[key] = read.value;
      }
      Reflect.deleteProperty(holder, fileKey);
    }
  }
}

/** Drops the YAML's `<secret>_file` where the environment sets the secret: the environment wins. */
export function dropSecretFile(root: Record<string, unknown>, path: KeyPath, secretKeys: readonly string[]): void {
  if (!isSecretPath(path, secretKeys)) return;
  const holder = valueAt(root, path.slice(0, -1));
  if (isRecord(holder)) Reflect.deleteProperty(holder, `${String(path[path.length - 1])}${SECRET_FILE_SUFFIX}`);
}

function* holders(value: unknown, segments: readonly string[], path: KeyPath): Generator<{ holder: Record<string, unknown>; path: KeyPath }> {
  if (segments.length === 0) {
    if (isRecord(value)) yield { holder: value, path };
    return;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    if (head !== '*' && !/^\d+$/.test(head)) return;
    for (const [index, item] of value.entries()) if (head === '*' || Number(head) === index) yield* holders(item, rest, [...path, index]);
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) if (head === '*' || head === key) yield* holders(item, rest, [...path, key]);
  }
}
