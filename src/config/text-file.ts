// Reading the config file and the files that hold one value (secrets, KAMSTRUP_…_FILE): at most
// a given number of bytes, and strictly UTF-8. A wrong file (a 48 MB export, a Latin-1 file) is
// refused in plain words before it is parsed, instead of taking the heap or turning bytes into
// U+FFFD.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A config is a few KB; 1 MiB leaves room for any real one and parses in well under a second. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** A secret or a single value is one line. */
export const MAX_VALUE_FILE_BYTES = 64 * 1024;

export type TextFileProblem =
  | { readonly kind: 'too-large'; readonly limitBytes: number; readonly sizeBytes: number | null }
  | { readonly kind: 'not-utf8'; readonly line: number; readonly column: number; readonly byte: number };

export class TextFileError extends Error {
  override readonly name = 'TextFileError';
  readonly code = 'bad-text-file';

  constructor(readonly problem: TextFileProblem, options?: { cause?: unknown }) {
    super(describeTextFileProblem(problem), options);
  }
}

/** The problem in words, e.g. `it is not UTF-8 at line 3 (column 7, byte 0xE9): save it as UTF-8`. */
export function describeTextFileProblem(problem: TextFileProblem): string {
  if (problem.kind === 'too-large') return `it holds more than the ${formatKiB(problem.limitBytes)} read at most here: name the file that holds only the value`;
  return `it is not UTF-8 at line ${problem.line} (column ${problem.column}, byte ${hexByte(problem.byte)}): save it as UTF-8`;
}

export function hexByte(byte: number): string {
  return `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

function formatKiB(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/**
 * The file's text; a UTF-8 byte order mark is dropped. Throws the file system's error (ENOENT,
 * EISDIR, EACCES …) or a TextFileError. Reads at most `limitBytes + 1` bytes, so a device or a
 * pipe that never ends is refused too.
 */
export function readTextFile(path: string, limitBytes: number): string {
  const descriptor = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(limitBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(descriptor, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > limitBytes) throw new TextFileError({ kind: 'too-large', limitBytes, sizeBytes: sizeOrNull(descriptor) });
    }
    return decodeUtf8(buffer.subarray(0, length));
  } finally {
    closeSync(descriptor);
  }
}

/** A regular file's size; null for a device or a pipe, whose size is unknown. */
function sizeOrNull(descriptor: number): number | null {
  const stats = fstatSync(descriptor);
  return stats.isFile() ? stats.size : null;
}

/** Strict UTF-8; a byte order mark is dropped. Throws a TextFileError locating the first bad byte. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new TextFileError(locateBadByte(bytes), { cause: error });
  }
}

const BOM = [0xef, 0xbb, 0xbf];

function locateBadByte(bytes: Uint8Array): TextFileProblem {
  // The longest prefix that decodes; in stream mode a prefix may end inside a character, whose
  // bytes are held back, so the text decoded from it ends where the bad sequence starts.
  const decodes = (length: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let good = 0;
  let bad = bytes.length + 1;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (decodes(middle)) good = middle;
    else bad = middle;
  }
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, good), { stream: true });
  const bom = BOM.every((b, i) => bytes[i] === b) ? BOM.length : 0;
  const offset = bom + Buffer.byteLength(before, 'utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    kind: 'not-utf8',
    line: before.split('\n').length,
    column: [...before.slice(lineStart)].length + 1,
    byte: bytes[offset] ?? 0,
  };
}
