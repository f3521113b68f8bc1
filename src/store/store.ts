// The SQLite store: every reading as read, durably, before anything is delivered anywhere; and
// the outbox from which each sink drains what it has not yet taken. One Store per process and
// file; better-sqlite3 is synchronous, each call is short (a job run is one small transaction).

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { ConsumptionKeeper, readConsumption } from './consumption.js';
import { directoryError, errorCodeOf, StoreError, toStoreError } from './errors.js';
import { Exporter } from './export.js';
import { HealthCounter } from './health.js';
import { notRegularFileReason } from './storage-file.js';
import { assertCurrent, assertLoggerDatabase, assertNotTooNew, defaultMigrationsDir, loadMigrations, migrate, type Migration } from './migrations.js';
import { Outbox, registerPayloadFormats, registerSinks } from './outbox.js';
import { Pruner } from './prune.js';
import type { IdRange } from './ranges.js';
import { RunWriter } from './record.js';
import { StatusReader } from './status.js';
import type {
  ConsumptionFilter,
  ConsumptionRow,
  ExportFilter,
  ExportRow,
  HealthStatus,
  HeldEntry,
  JobRunInput,
  MeterHistory,
  PayloadRenderer,
  PendingDelivery,
  PendingItem,
  PendingOptions,
  PruneOptions,
  PruneResult,
  RecordedRun,
  StoreOptions,
  StoreStatus,
} from './types.js';

/**
 * How long a write waits for another process's lock (a `status` or `export` next to the
 * daemon, a prune step) before failing with 'busy'. WAL readers never block the writer; this
 * covers writer against writer and checkpoints.
 */
const PAGE_CACHE_KIB = 4096;
export const BUSY_TIMEOUT_MS = 5000;

export class Store {
  private closed = false;

  private constructor(
    private readonly db: Database,
    /** The database file as given to open(). */
    readonly path: string,
    private readonly writer: RunWriter,
    private readonly outbox: Outbox,
    private readonly pruner: Pruner,
    private readonly statusReader: StatusReader,
    private readonly exporter: Exporter,
    private readonly healthCounter: HealthCounter,
    /** Deletes what opening left behind (a reader's snapshot copy); runs after the connection closes. */
    private readonly release: () => void,
  ) {}

  /**
   * Opens (creating it and its directory if need be) and upgrades the database at `path`, and
   * registers the sinks enabled in the config; or, with `readOnly`, opens it only to read. A
   * path that is no regular file, another program's database and one newer than this code are
   * refused before anything is written to them.
   *
   * `sinks` are the sinks this process queues new readings for; the database's record of which
   * sinks are enabled changes only when this process records its first job run, so `status`
   * and `export` may open the file with any list (even none) next to a running daemon.
   */
  static open(path: string, options: StoreOptions): Store {
    const now = options.now ?? ((): Date => new Date());
    const migrations = loadMigrations(options.migrationsDir ?? defaultMigrationsDir);
    const notRegular = notRegularFileReason(path);
    if (notRegular !== null) {
      throw new StoreError('not-a-regular-file', `${path} is not a regular file (it is ${notRegular}): a database cannot live there. Point storage.path at a file such as ./data/kamstrup.sqlite.`, { path });
    }
    const { db, release } = options.readOnly === true ? openReadOnly(path, options, migrations) : { db: openReadWrite(path, migrations), release: (): void => undefined };
    try {
      // 4 MB of page cache instead of better-sqlite3's 16: writes touch the tails of a few
      // B-trees and reads scan in id order, so more cache only holds pages that are not needed
      // again, and on a Raspberry Pi it is resident memory (a large drain: ~18 MB less).
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      if (options.readOnly !== true) migrate(db, { migrations, path, now });
      db.pragma('foreign_keys = ON');
      const modes = new Map(Object.entries(options.renderers ?? {}).map(([name, renderer]) => [name, renderer.delivery ?? 'every-reading']));
      const sinkIds = registerSinks(db, path, options.sinks, modes);
      const renderers = renderersById(options.renderers ?? {}, sinkIds, path);
      registerPayloadFormats(db, new Map([...renderers].map(([sinkId, renderer]) => [sinkId, renderer.format])));
      const outbox = new Outbox(db, path, now, new Set(renderers.keys()));
      for (const [name, sinkId] of sinkIds) {
        const renderer = renderers.get(sinkId);
        if (renderer?.delivery === 'newest-per-key') outbox.retainKeys(db, sinkId, renderer.keys);
        else if (outbox.modeOf(sinkId) === 'newest-per-key') {
          throw new StoreError('invalid-input', `sink ${name} keeps only the newest value of each key, rendered as a run is written: open ${path} with its renderer.`, { path });
        }
      }
      const consumption = new ConsumptionKeeper(db, options.consumption);
      if (options.readOnly !== true) consumption.ensureCurrent();
      const healthCounter = new HealthCounter(db);
      return new Store(
        db,
        path,
        new RunWriter(db, path, sinkIds, outbox, renderers, consumption, healthCounter),
        outbox,
        new Pruner(db, path),
        new StatusReader(db, outbox),
        new Exporter(db, path),
        healthCounter,
        release,
      );
    } catch (error) {
      db.close();
      release();
      throw toStoreError(error, path, 'opening it');
    }
  }

  /**
   * Writes a job run, its readings and their place in each enabled sink's backlog in one
   * transaction: all of it, or (on any error) none of it. A failed run without readings is
   * recorded too: status reports it.
   */
  recordJobRun(run: JobRunInput): RecordedRun {
    return this.guard('recording a job run', () => this.writer.record(run));
  }

  /**
   * recordJobRun for many runs in one transaction, all or none: `simulate --history` records a
   * year at once, which a commit per run would hold to the pace of the disk.
   */
  recordJobRuns(runs: readonly JobRunInput[]): RecordedRun[] {
    return this.guard('recording job runs', () => this.db.transaction(() => runs.map((run) => this.writer.record(run))).immediate());
  }

  /** Deletes delivered readings older than the age; see PruneResult. Runs to completion in bounded steps. */
  prune(options: PruneOptions): PruneResult {
    return this.guard('pruning', () => this.pruner.prune(options));
  }

  /** prune() one step (one transaction) at a time, for a caller that wants to yield in between. */
  pruneChunks(options: PruneOptions): Generator<PruneResult, PruneResult, undefined> {
    const steps = this.guard('pruning', () => this.pruner.chunks(options));
    const guarded = function* (store: Store): Generator<PruneResult, PruneResult, undefined> {
      for (;;) {
        const next = store.guard('pruning', () => steps.next());
        if (next.done) return next.value;
        yield next.value;
      }
    };
    return guarded(this);
  }

  status(): StoreStatus {
    return this.guard('reading the status', () => this.statusReader.read());
  }

  /** How many real and simulated runs the store holds of a meter, and its newest simulated one. */
  meterHistory(meter: string): MeterHistory {
    return this.guard(`reading the runs of meter ${meter}`, () => this.statusReader.meterHistory(meter));
  }

  /**
   * Readings by read time, then register id, as a lazy iterator over a SQLite cursor. While it
   * is open the connection is busy: finish (or break out of) the loop before other calls.
   */
  exportReadings(filter: ExportFilter = {}): IterableIterator<ExportRow> {
    return this.guard('exporting readings', () => this.exporter.rows(filter));
  }

  /** The consumption figures of one kind of period, by meter and period start. */
  consumption(filter: ConsumptionFilter): ConsumptionRow[] {
    return this.guard('reading the consumption figures', () => readConsumption(this.db, filter));
  }

  /** The oldest readings waiting for `sink`, oldest first, at most `limit`; page on with afterReadingId. */
  pendingDeliveries(sink: string, options: PendingOptions): PendingDelivery[] {
    return this.guard(`reading the backlog of sink ${sink}`, () => this.outbox.pendingDeliveries(sink, options));
  }

  /** The same backlog by run, as stored payloads or as readings to render: the delivery loop's query. */
  pendingRuns(sink: string, options: PendingOptions): PendingItem[] {
    return this.guard(`reading the backlog of sink ${sink}`, () => this.outbox.pendingRuns(sink, options));
  }

  /**
   * The sink confirmed these readings (ranges of ids) at `confirmedAt` (now by default): they
   * leave its backlog (in one transaction), and the delivery's latency is kept. Returns how many were pending.
   */
  markDelivered(sink: string, readings: readonly IdRange[], confirmedAt?: Date): number {
    return this.guard(`marking readings delivered to ${sink}`, () => this.outbox.markDelivered(sink, readings, confirmedAt));
  }

  /** The health counters per meter and job, and each sink's newest delivery latency. */
  health(): HealthStatus {
    return this.guard('reading the health counters', () => this.healthCounter.read());
  }

  /** A newest-per-key sink: queues again each key it was last sent longer than `olderThanMs` ago (its target would mark it timed out); returns how many. */
  refresh(sink: string, olderThanMs: number): number {
    return this.guard(`queueing the newest values for ${sink} again`, () => this.outbox.refresh(sink, olderThanMs));
  }

  /** A newest-per-key sink's keys that are held back or refused, with the reason. */
  heldEntries(sink: string): HeldEntry[] {
    return this.guard(`reading what is held for ${sink}`, () => this.outbox.heldEntries(sink));
  }

  /** Queues the stored readings read in [from, to) for the sink again (backfill). */
  requeue(sink: string, range: { from?: Date; to?: Date } = {}): number {
    return this.guard(`queueing history for ${sink}`, () => this.outbox.requeue(sink, range.from, range.to));
  }

  /** The sink refused this reading for good (not a retryable failure): kept as rejected with the reason. */
  markRejected(sink: string, readingId: number, reason: string): void {
    this.guard(`marking reading ${readingId} rejected by ${sink}`, () => this.outbox.markRejected(sink, readingId, reason));
  }

  /** Closes the database (SQLite checkpoints the WAL into the main file). Closing twice is harmless. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch (error) {
      throw toStoreError(error, this.path, 'closing it');
    } finally {
      this.release();
    }
  }

  private guard<T>(doing: string, fn: () => T): T {
    if (this.closed) throw new StoreError('closed', `the store ${this.path} is closed (while ${doing}).`, { path: this.path });
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error, this.path, doing);
    }
  }
}

/**
 * The daemon's connection: creates the file and its directory if need be, refuses a file that
 * is not the logger's while still untouched, then switches to WAL.
 */
function openReadWrite(path: string, migrations: readonly Migration[]): Database {
  const directory = dirname(resolve(path));
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw directoryError(error, path, directory);
  }
  let db: Database;
  try {
    db = new BetterSqlite3(path);
  } catch (error) {
    throw toStoreError(error, path, 'opening it');
  }
  try {
    // First reads of the file: a file that is not a database fails here, and another
    // program's database or a too-new one is refused while still untouched (journal_mode =
    // WAL below would rewrite its header, the migrations would add tables).
    checkOpened(db, migrations, path);
    // WAL: the daemon writes while `status` and `export` read, without blocking each other,
    // and a commit appends to one file instead of rewriting pages twice (kinder to SD cards).
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode fsyncs at checkpoints, not at every commit. A killed process loses
    // nothing committed (the commit is in the OS's page cache); an OS crash or power cut can
    // roll back the last commits that the kernel had not yet written out (about 30 s of
    // dirty-page expiry, i.e. the last job run or so), never corrupt the file. FULL would
    // fsync the SD card at every job run and cap throughput at the card's fsync rate.
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw toStoreError(error, path, 'opening it');
  }
}

/** Sets the busy timeout, then refuses a file that is no database, another program's, or a too-new one. */
function checkOpened(db: Database, migrations: readonly Migration[], path: string): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  assertLoggerDatabase(db, path);
  assertNotTooNew(db, migrations, path);
}

/** A read-only connection, and what to delete once it is closed. */
interface ReaderConnection {
  readonly db: Database;
  readonly release: () => void;
}

/**
 * A reader's connection (`status`, `export`): SQLite opens the file read-only, so nothing in
 * it can change (no migration, no journal mode switch), and a file the user may not write, in
 * a read-only directory or file system, opens all the same. Only an existing database.
 */
function openReadOnly(path: string, options: StoreOptions, migrations: readonly Migration[]): ReaderConnection {
  if (options.sinks.length > 0 || options.renderers !== undefined) {
    throw new StoreError('invalid-input', `a store opened read-only queues nothing: open ${path} without sinks and renderers.`, { path });
  }
  try {
    return { db: openReader(path, path, migrations), release: (): void => undefined };
  } catch (error) {
    // A WAL database needs its -shm index, which this user cannot create here (a read-only
    // directory or file system). Without a -wal no writer has the file open (a writer keeps
    // one until it closes), so a copy of the file is the whole database: read that instead.
    if (!(error instanceof StoreError) || error.code !== 'cannot-share-log' || existsSync(`${path}-wal`)) throw error;
    return openSnapshot(path, migrations);
  }
}

function openReader(file: string, path: string, migrations: readonly Migration[]): Database {
  let db: Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw toStoreError(error, path, 'opening it');
  }
  try {
    checkOpened(db, migrations, path);
    assertCurrent(db, migrations, path);
    return db;
  } catch (error) {
    db.close();
    const code = errorCodeOf(error) ?? '';
    if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY_CANTINIT') {
      throw new StoreError(
        'cannot-share-log',
        `cannot read ${path}: SQLite needs its -shm file next to it, and this user cannot create it there (${code}), while a -wal file says a writer has the database open or stopped without closing it. ` +
          'Run this command as the user the daemon runs as, or let the daemon start and stop once so that it closes the database cleanly.',
        { cause: error, path },
      );
    }
    throw toStoreError(error, path, 'opening it');
  }
}

/** The database copied into a private temp folder and opened there; the folder goes when the store closes. */
function openSnapshot(path: string, migrations: readonly Migration[]): ReaderConnection {
  let folder: string;
  try {
    folder = mkdtempSync(join(tmpdir(), 'kamstrup-logger-read-'));
  } catch (error) {
    throw directoryError(error, path, tmpdir());
  }
  const release = (): void => rmSync(folder, { recursive: true, force: true });
  try {
    const copy = join(folder, basename(path));
    copyFileSync(path, copy);
    return { db: openReader(copy, path, migrations), release };
  } catch (error) {
    release();
    throw toStoreError(error, path, 'copying it to read it');
  }
}

/** The renderers by sink id; each must render for one of the sinks the store is opened with. */
function renderersById(byName: Readonly<Record<string, PayloadRenderer>>, sinkIds: ReadonlyMap<string, number>, path: string): Map<number, PayloadRenderer> {
  const renderers = new Map<number, PayloadRenderer>();
  for (const [name, renderer] of Object.entries(byName)) {
    const sinkId = sinkIds.get(name);
    if (sinkId === undefined) throw new StoreError('invalid-input', `a payload renderer for "${name}", which is not one of the sinks opened with ${path} (${[...sinkIds.keys()].join(', ') || 'none'}).`, { path });
    renderers.set(sinkId, renderer);
  }
  return renderers;
}
