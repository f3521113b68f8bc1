// Secrets from files in the YAML: for a key the schema marks as secret (schema.ts, secretKeys),
// `<key>_file: /run/secrets/x` sets <key> to the file's content, trailing newline trimmed.

import { describeFsError, trimTrailingNewlines } from './env.js';
import { isRecord, type KeyPath } from './keys.js';

export const SECRET_FILE_SUFFIX = '_file';

/**
 * Replaces every `<secret>_file` key found at a secret key's place by `<secret>` with the file's
 * content. `secretKeys` are dotted paths with `*` for any list index or mapping key
 * ('sinks.influxdb.token', 'meters.*.password'). Problems are reported at the `_file` key.
 */
export function applySecretFiles(
  root: unknown,
  secretKeys: readonly string[],
  readFile: (path: string) => string,
  report: (path: KeyPath, message: string) => void,
): void {
  for (const pattern of secretKeys) {
    const segments = pattern.split('.');
    const key = segments.pop();
    if (key === undefined) continue;
    for (const { holder, path } of holders(root, segments, [])) {
      const fileKey = key + SECRET_FILE_SUFFIX;
      if (!(fileKey in holder)) continue;
      const file = holder[fileKey];
      if (key in holder) {
        report([...path, fileKey], `give either ${key} or ${fileKey}, not both`);
      } else if (typeof file !== 'string' || file === '') {
        report([...path, fileKey], `expected the path of a file holding the ${key}, not ${typeof file === 'string' ? 'an empty string' : JSON.stringify(file)}`);
      } else {
        try {
          holder[key] = trimTrailingNewlines(readFile(file));
        } catch (error) {
          report([...path, fileKey], `cannot read the ${key} from ${JSON.stringify(file)}: ${describeFsError(error)}`);
        }
      }
      Reflect.deleteProperty(holder, fileKey);
    }
  }
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
