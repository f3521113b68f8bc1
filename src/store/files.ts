// The files that make up a database on disk, and which of them two paths name: export must
// never write over one of them.

import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** What SQLite keeps next to the database file: the write-ahead log, its index, the rollback journal. */
export const DATABASE_SIDE_FILES: readonly { readonly suffix: string; readonly what: string }[] = [
  { suffix: '-wal', what: 'the write-ahead log' },
  { suffix: '-shm', what: 'the write-ahead log index' },
  { suffix: '-journal', what: 'the rollback journal' },
];

/**
 * The database file and every file SQLite may create for it, under the name given and under its
 * real name (SQLite follows a symbolic link to the database and keeps the side files next to
 * the real file).
 */
export function databaseFiles(path: string): string[] {
  const names = [resolve(path), resolve(followLinks(path))];
  return [...new Set(names.flatMap((name) => [name, ...DATABASE_SIDE_FILES.map(({ suffix }) => `${name}${suffix}`)]))];
}

/**
 * Who a path is on disk: the device and inode of an existing file (through links, hard links
 * included), else the directory it would be created in (by device and inode) and its name.
 * Two paths with the same identity write to the same file.
 */
export function fileIdentity(path: string): string {
  try {
    const stat = statSync(path);
    return `file ${stat.dev}:${stat.ino}`;
  } catch {
    // Not there yet, or a link to nothing: a writer would create the link's target.
  }
  const target = followLinks(path);
  try {
    const directory = statSync(dirname(target));
    return `entry ${directory.dev}:${directory.ino}/${basename(target)}`;
  } catch {
    return `path ${target}`;
  }
}

/** The path with its symbolic links followed as far as they lead (to a target that may not exist). */
function followLinks(path: string): string {
  let target = resolve(path);
  // 40 hops, as the kernel's own limit: a loop of links ends here.
  for (let hop = 0; hop < 40; hop++) {
    try {
      if (!lstatSync(target).isSymbolicLink()) break;
      target = resolve(dirname(target), readlinkSync(target));
    } catch {
      break;
    }
  }
  return target;
}
