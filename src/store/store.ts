// The SQLite store: every reading as read, durably, before anything is delivered anywhere; and
// the outbox from which each sink drains what it has not yet taken. One Store per process and
// file; better-sqlite3 is synchronous, each call is short (a job run is one small transaction).

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { directoryError, StoreError, toStoreError } from './errors.js';
import { Exporter } from './export.js';
import { assertNotTooNew, defaultMigrationsDir, loadMigrations, migrate } from './migrations.js';
import { Outbox, registerPayloadFormats, registerSinks } from './outbox.js';
import { Pruner } from './prune.js';
import type { IdRange } from './ranges.js';
import { RunWriter } from './record.js';
import { StatusReader } from './status.js';
import type {
  ExportFilter,
  ExportRow,
  JobRunInput,
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
  ) {}

  /**
   * Opens (creating it and its directory if need be) and upgrades the database at `path`, and
   * registers the sinks enabled in the config. A database newer than this code is refused
   * before anything is written to it.
   *
   * `sinks` are the sinks this process queues new readings for; the database's record of which
   * sinks are enabled changes only when this process records its first job run, so `status`
   * and `export` may open the file with any list (even none) next to a running daemon.
   */
  static open(path: string, options: StoreOptions): Store {
    const now = options.now ?? ((): Date => new Date());
    const migrations = loadMigrations(options.migrationsDir ?? defaultMigrationsDir);
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
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // First read of the file: a file that is not a database fails here, and a too-new one is
      // refused while still untouched (journal_mode = WAL below would rewrite its header).
      assertNotTooNew(db, migrations, path);
      // WAL: the daemon writes while `status` and `export` read, without blocking each other,
      // and a commit appends to one file instead of rewriting pages twice (kinder to SD cards).
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode fsyncs at checkpoints, not at every commit. A killed process loses
      // nothing committed (the commit is in the OS's page cache); an OS crash or power cut can
      // roll back the last commits that the kernel had not yet written out (about 30 s of
      // dirty-page expiry, i.e. the last job run or so), never corrupt the file. FULL would
      // fsync the SD card at every job run and cap throughput at the card's fsync rate.
      db.pragma('synchronous = NORMAL');
      // 4 MB of page cache instead of better-sqlite3's 16: writes touch the tails of a few
      // B-trees and reads scan in id order, so more cache only holds pages that are not needed
      // again, and on a Raspberry Pi it is resident memory (a large drain: ~18 MB less).
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      migrate(db, { migrations, path, now });
      db.pragma('foreign_keys = ON');
      const sinkIds = registerSinks(db, path, options.sinks);
      const renderers = renderersById(options.renderers ?? {}, sinkIds, path);
      registerPayloadFormats(db, new Map([...renderers].map(([sinkId, renderer]) => [sinkId, renderer.format])));
      const outbox = new Outbox(db, path, now, new Set(renderers.keys()));
      return new Store(
        db,
        path,
        new RunWriter(db, path, [...sinkIds.values()], outbox, renderers),
        outbox,
        new Pruner(db, path),
        new StatusReader(db, outbox),
        new Exporter(db, path),
      );
    } catch (error) {
      db.close();
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

  /**
   * Readings by read time, then register id, as a lazy iterator over a SQLite cursor. While it
   * is open the connection is busy: finish (or break out of) the loop before other calls.
   */
  exportReadings(filter: ExportFilter = {}): IterableIterator<ExportRow> {
    return this.guard('exporting readings', () => this.exporter.rows(filter));
  }

  /** The oldest readings waiting for `sink`, oldest first, at most `limit`; page on with afterReadingId. */
  pendingDeliveries(sink: string, options: PendingOptions): PendingDelivery[] {
    return this.guard(`reading the backlog of sink ${sink}`, () => this.outbox.pendingDeliveries(sink, options));
  }

  /** The same backlog by run, as stored payloads or as readings to render: the delivery loop's query. */
  pendingRuns(sink: string, options: PendingOptions): PendingItem[] {
    return this.guard(`reading the backlog of sink ${sink}`, () => this.outbox.pendingRuns(sink, options));
  }

  /** The sink confirmed these readings (ranges of ids): they leave its backlog (in one transaction). Returns how many were pending. */
  markDelivered(sink: string, readings: readonly IdRange[]): number {
    return this.guard(`marking readings delivered to ${sink}`, () => this.outbox.markDelivered(sink, readings));
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
