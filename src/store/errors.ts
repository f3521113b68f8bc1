// Errors of the SQLite store. Every failure has a discriminating `code`, names the database
// file, says what to do about it, and keeps the SQLite or file-system error as `cause`.

export type StoreErrorCode =
  | 'cannot-open' // the file or its directory cannot be created or opened (ENOTDIR, EACCES, EROFS, a directory, …)
  | 'not-a-database' // the file exists but is no SQLite database (or is encrypted)
  | 'not-a-regular-file' // a device (/dev/null), a FIFO, a directory, a /proc file: nothing a database can live in
  | 'foreign-database' // a SQLite database of another program: tables, and none of the logger's schema history
  | 'needs-upgrade' // opened read-only at an older schema version: only a writer may migrate it
  | 'cannot-share-log' // a reader cannot create the -shm index of a WAL database (read-only directory or file system)
  | 'corrupt' // a SQLite database whose pages are damaged
  | 'database-too-new' // written by a newer kamstrup-logger: its schema version is beyond our newest migration
  | 'bad-migrations' // the migrations folder is missing, unreadable, or its files are misnumbered
  | 'migration-failed' // a migration's SQL failed; its transaction was rolled back
  | 'disk-full' // SQLITE_FULL or ENOSPC
  | 'read-only' // the file or its file system refuses writes
  | 'locked' // another kamstrup-logger daemon (a live pid in <database>.lock) writes this database
  | 'busy' // another process held the database locked longer than the busy timeout
  | 'io' // any other I/O failure (a failing SD card, a vanished USB disk)
  | 'constraint' // a row the schema refuses (a register twice in one run, an exponent beyond ±63)
  | 'invalid-input' // a value the store refuses before it reaches SQLite (an invalid Date, a bad sink name)
  | 'unknown-sink' // a delivery call names a sink this database does not know
  | 'not-pending' // markRejected on a reading the sink has no undelivered row for
  | 'closed' // the store was closed
  | 'sqlite'; // any other SQLite failure

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The database file, where one is involved. */
  readonly path: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; path?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }

  /**
   * Worth trying the same write again later: a lock held by another process, a full disk that
   * someone may clear, a flaky card. The daemon keeps the run's readings for the next attempt
   * or logs them; anything else is a bug or a configuration problem to report once.
   */
  get retryable(): boolean {
    return this.code === 'busy' || this.code === 'disk-full' || this.code === 'io';
  }

  /**
   * The storage path names a file that is not, and cannot become, this logger's database (not
   * a database file, another program's, another daemon's): a mistake in the config (exit
   * status 2), not a failure of the disk.
   */
  get wrongFile(): boolean {
    return this.code === 'not-a-regular-file' || this.code === 'foreign-database' || this.code === 'not-a-database' || this.code === 'locked';
  }
}

/** The string `code` of a SQLite or Node error (SQLITE_FULL, ENOTDIR, …), if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why the operating system refused a path, in words, for ENOTDIR, EACCES and their kin. */
function fileSystemReason(errno: string | undefined, detail: string): string {
  switch (errno) {
    case 'ENOTDIR':
    case 'EEXIST': // mkdir -p of a directory that exists as a file
      return 'a part of the path is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOENT':
      return 'a directory on the path does not exist';
    case 'EISDIR':
      return 'the path is a directory';
    default:
      return detail;
  }
}

/** A failure to create the database's directory, as a StoreError. */
export function directoryError(error: unknown, path: string, directory: string): StoreError {
  const errno = errorCodeOf(error);
  if (errno === 'ENOSPC') {
    return new StoreError('disk-full', `cannot create ${directory} for the database ${path}: the disk is full. Free some space.`, { cause: error, path });
  }
  return new StoreError(
    'cannot-open',
    `cannot create the directory ${directory} for the database ${path}: ${fileSystemReason(errno, messageOf(error))}. ` +
      'Choose a storage path in a writable directory, or create it with the right owner.',
    { cause: error, path },
  );
}

/**
 * Any error from better-sqlite3 (or the file system under it) as a StoreError: classified by
 * its SQLite result code, the message naming the file, what was being done and the fix.
 * A StoreError passes through unchanged.
 */
export function toStoreError(error: unknown, path: string, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = errorCodeOf(error) ?? '';
  const detail = messageOf(error);
  const make = (storeCode: StoreErrorCode, message: string): StoreError => new StoreError(storeCode, message, { cause: error, path });
  if (code === 'SQLITE_NOTADB') {
    return make('not-a-database', `${path} is not a SQLite database (${detail}). Point the storage path at the logger's database or at a new file; move this file away if it is in the way.`);
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return make(
      'corrupt',
      `the database ${path} is damaged (${detail}) while ${doing}; nothing more can be stored in it. Stop the logger, then restore a backup, ` +
        `or rescue what it holds: sqlite3 ${path} ".recover" | sqlite3 recovered.sqlite, then move recovered.sqlite into its place (or point storage.path at it) and start again.`,
    );
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_NOSPC') {
    return make('disk-full', `the disk holding ${path} is full while ${doing}. Free some space or shorten the retention; nothing was half-written.`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOTDIR' || code === 'EACCES' || code === 'EISDIR') {
    return make('cannot-open', `cannot open the database ${path} (${fileSystemReason(code, detail)}). Check that the path names a file in a directory this user may write.`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') {
    return make('read-only', `the database ${path} cannot be written (${detail}) while ${doing}. Check the permissions of the file, its -wal and -shm files and its directory, and that the file system is mounted read-write.`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return make('busy', `the database ${path} stayed locked by another process while ${doing} (${detail}). Is a second logger writing to it?`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return make('io', `an I/O error on ${path} while ${doing} (${detail}). Check the disk or SD card (dmesg shows its errors).`);
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return make('constraint', `the database ${path} refused a row while ${doing}: ${detail}. Nothing of it was written.`);
  }
  if (error instanceof TypeError && /database connection is not open/.test(detail)) {
    return make('closed', `the store ${path} is closed (while ${doing}).`);
  }
  return make('sqlite', `SQLite failed on ${path} while ${doing}: ${detail}`);
}
