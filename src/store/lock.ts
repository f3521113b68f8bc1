// The daemon's claim on a database: `<database>.lock` next to it, holding the pid and host of
// the daemon that writes it. Two daemons on one database would store every run twice and, with
// a real optical head, talk over each other on the serial line.

import { linkSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreError, errorCodeOf } from './errors.js';

export interface DatabaseLock {
  /** The lock file's path. */
  readonly path: string;
  /** Removes the lock file, if it is still ours; safe to call twice. */
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
}

/** Attempts at claiming the lock; each lost one means another process changed it in between. */
const CLAIM_ATTEMPTS = 5;

/**
 * Claims the lock of the existing database `databasePath` (its real path, so a symbolic link to
 * it shares the lock). A lock whose process is gone (a SIGKILLed daemon) or that holds no pid is
 * taken over; one held by a live process is refused with a StoreError 'locked'.
 */
export function lockDatabase(databasePath: string): DatabaseLock {
  const path = `${realpathSync(databasePath)}.lock`;
  try {
    return claim(path, databasePath);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError('cannot-open', `cannot write the lock ${path} next to the database: ${error instanceof Error ? error.message : String(error)}. The daemon needs to write in the database's directory.`, {
      cause: error,
      path: databasePath,
    });
  }
}

function claim(path: string, databasePath: string): DatabaseLock {
  const content = `${process.pid}\n${hostname()}\n`;
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    if (createExclusive(path, content)) return ownLock(path, content);
    const stale = readContent(path);
    if (stale === null) continue; // released in between: try to create it again
    const holder = parseHolder(stale);
    if (holder !== null && holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new StoreError(
        'locked',
        `another kamstrup-logger (pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}) is using the database ${databasePath}: ` +
          `stop it first (systemctl stop kamstrup-logger, or its own way of running), or give this one its own storage.path. (Its lock is ${path}.)`,
        { path: databasePath },
      );
    }
    removeStale(path, stale);
  }
  throw new StoreError('locked', `cannot claim the lock ${path} of the database ${databasePath}: other processes keep changing it. Is a second kamstrup-logger starting over and over?`, {
    path: databasePath,
  });
}

/**
 * Creates the lock with its content in one step (a reader never sees it empty): a temp file
 * hard-linked into place, which fails if the lock exists, as O_EXCL does. A file system
 * without hard links (FAT) gets O_EXCL itself.
 */
function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (errorCodeOf(error) === 'EEXIST') return false;
    return createWithExclusiveFlag(path, content);
  } finally {
    unlinkSync(temp);
  }
}

function createWithExclusiveFlag(path: string, content: string): boolean {
  try {
    writeFileSync(path, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if (errorCodeOf(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a stale lock without removing a fresh one another process created in between: the
 * lock is moved aside (only one process can move it), and put back if it is no longer the one
 * judged stale. Then the next attempt's exclusive create decides who wins.
 */
function removeStale(path: string, stale: string): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCodeOf(error) === 'ENOENT') return; // another process moved it first
    throw error;
  }
  if (readContent(aside) !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      // A third process created the lock meanwhile: it holds it now.
    }
  }
  unlinkSync(aside);
}

function ownLock(path: string, content: string): DatabaseLock {
  let held = true;
  return {
    path,
    release(): void {
      if (!held) return;
      held = false;
      // Another process took it over (it judged this one dead): it is theirs now.
      if (readContent(path) === content) unlinkSync(path);
    },
  };
}

function readContent(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCodeOf(error) === 'ENOENT') return null;
    throw error;
  }
}

function parseHolder(content: string): Holder | null {
  const [pidText = '', host = ''] = content.split('\n');
  if (!/^[1-9]\d{0,9}$/.test(pidText)) return null;
  return { pid: Number(pidText), host };
}

/** Signal 0 checks that the process exists; EPERM means it does, under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCodeOf(error) === 'EPERM';
  }
}
