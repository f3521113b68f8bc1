// Whether a storage path can hold a database file at all. Shared by the config's storage-path
// check and the store, which refuses such a path itself for callers that skip the config.

import { statfsSync, statSync } from 'node:fs';

/** Kernel pseudo file systems (statfs f_type): their files look regular but hold no data. */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x1cd1, 'devpts'],
]);

/**
 * Why `path` can never hold a database: an existing entry that is not a regular file (a
 * device such as /dev/null, a FIFO, a socket, a directory) or a file of a kernel pseudo file
 * system such as /proc. Null for a regular file and for a path that does not exist.
 */
export function notRegularFileReason(path: string): string | null {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return null;
  }
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  if (!stat.isFile()) return 'not a file';
  const pseudo = pseudoFileSystemOf(path);
  return pseudo === null ? null : `a file of the kernel's ${pseudo} file system`;
}

/** The name of the kernel pseudo file system holding the existing `path`, or null. */
export function pseudoFileSystemOf(path: string): string | null {
  try {
    return PSEUDO_FILE_SYSTEMS.get(statfsSync(path).type) ?? null;
  } catch {
    return null;
  }
}
