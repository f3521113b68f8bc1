// The delivery side of the outbox: which sinks exist, what each still owes, and the sinks'
// answers. A delivered row is deleted; a rejected one stays, marked, and never counts as
// delivered, so prune keeps its reading until someone decides about it.

import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import { readingColumnsSql, readingFromColumns, type ReadingColumns } from './rows.js';
import type { PendingDelivery, PendingOptions, PendingReading, SinkStatus } from './types.js';

/** reading id, run id, read time, meter id, job id, register id, value, unit code, text. */
type LeanRow = [number, number, number, number, number, number, string, number, string | null];

interface SinkRow {
  readonly id: number;
  readonly name: string;
  readonly enabled: 0 | 1;
}

interface PendingRow extends ReadingColumns {
  readonly readingId: number;
  readonly meter: string;
  readonly model: string;
  readonly serial: number | null;
  readonly job: string;
  readonly readAt: number;
}

/** Larger pages would hold a large backlog in memory at once; the caller pages with afterReadingId. */
export const MAX_PENDING_LIMIT = 10_000;

/**
 * Adds the configured sinks that the database does not know yet, and returns the id of each.
 * It does not touch the `enabled` flags: a `status` or `export` command opening the file next
 * to the daemon (perhaps with no sinks at all) must not change what the daemon delivers. The
 * flags follow the process that writes readings: see markEnabledSinks.
 */
export function registerSinks(db: Database, path: string, names: readonly string[]): number[] {
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '' || name !== name.trim()) {
      throw new StoreError('invalid-input', `sink name "${String(name)}" for ${path} must be a non-empty name without surrounding spaces.`, { path });
    }
  }
  const wanted = [...new Set(names)];
  const select = db.prepare<[], { id: number; name: string }>('SELECT id, name FROM sinks');
  const known = new Set(select.all().map((row) => row.name));
  // Write (and take the write lock) only when there is something new.
  if (wanted.some((name) => !known.has(name))) {
    db.transaction(() => {
      const insert = db.prepare('INSERT INTO sinks (name, enabled) VALUES (?, 1) ON CONFLICT (name) DO NOTHING');
      for (const name of wanted) insert.run(name);
    }).immediate();
  }
  const ids = new Map(select.all().map((row) => [row.name, row.id]));
  return wanted.map((name) => ids.get(name) ?? 0);
}

/**
 * Records which sinks get outbox rows for new readings: these, and no others. Called by the
 * writer inside its first job run's transaction, so `enabled` always describes the process
 * that last wrote readings; a sink dropped from its config shows as disabled with its backlog.
 */
export function markEnabledSinks(db: Database, sinkIds: readonly number[]): void {
  db.prepare(
    `UPDATE sinks SET enabled = (id IN (SELECT value FROM json_each(@ids)))
      WHERE enabled <> (id IN (SELECT value FROM json_each(@ids)))`,
  ).run({ ids: JSON.stringify(sinkIds) });
}

export class Outbox {
  private readonly sinkId: Statement<[string], { id: number }>;
  private readonly pending: Statement<[number, number, number], PendingRow>;
  private readonly deliver: Statement<[number, number]>;
  private readonly reject: Statement<[number, string, number, number]>;
  private readonly rejectAgain: Statement<[string, number, number, number]>;
  private readonly sinks: Statement<[], SinkRow>;
  private readonly count: Statement<[number, number], { count: number }>;
  private readonly oldestPending: Statement<[number], { readAt: number }>;
  private readonly deliverAll: (sinkId: number, readingIds: readonly number[]) => number;
  private readonly requeueRange: Statement<{ sinkId: number; from: number; to: number }>;
  private readonly pendingLean: Statement<[number, number, number], LeanRow>;
  private readonly meterRows: Statement<[], { id: number; name: string; model: string; serial: number | null }>;
  private readonly jobRows: Statement<[], { id: number; name: string }>;
  private readonly registerRows: Statement<[], { id: number; name: string | null }>;
  private meters = new Map<number, { name: string; model: string; serial: number | null }>();
  private jobs = new Map<number, string>();
  private registers = new Map<number, string | null>();
  private readonly countRange: Statement<[number, number, number], { count: number }>;
  private readonly deliverRange: Statement<[number, number, number]>;

  constructor(
    db: Database,
    private readonly path: string,
    private readonly now: () => Date,
  ) {
    this.sinkId = db.prepare('SELECT id FROM sinks WHERE name = ?');
    // The outbox key (sink_id, rejected, reading_id) hands out a sink's pending rows in reading
    // order straight from the B-tree: the cost is the page asked for, not the backlog.
    this.pending = db.prepare(
      `SELECT o.reading_id AS readingId, m.name AS meter, m.model AS model, m.serial AS serial, j.name AS job,
              ru.read_at AS readAt, ${readingColumnsSql}
         FROM outbox o
         JOIN readings r ON r.id = o.reading_id
         JOIN runs ru ON ru.id = r.run_id
         JOIN meters m ON m.id = ru.meter_id
         JOIN jobs j ON j.id = ru.job_id
         JOIN registers g ON g.id = r.register_id
         JOIN units u ON u.code = r.unit_code
        WHERE o.sink_id = ? AND o.rejected = 0 AND o.reading_id > ?
        ORDER BY o.reading_id
        LIMIT ?`,
    );
    this.deliver = db.prepare('DELETE FROM outbox WHERE sink_id = ? AND rejected = 0 AND reading_id = ?');
    // The delivery loop's query: only what a point needs, as arrays rather than objects, with
    // meter, job and register names from small caches: a third of the cost of pendingDeliveries.
    this.pendingLean = db
      .prepare<[number, number, number], LeanRow>(
        `SELECT o.reading_id, r.run_id, ru.read_at, ru.meter_id, ru.job_id, r.register_id, r.value, r.unit_code, r.text
           FROM outbox o
           JOIN readings r ON r.id = o.reading_id
           JOIN runs ru ON ru.id = r.run_id
          WHERE o.sink_id = ? AND o.rejected = 0 AND o.reading_id > ?
          ORDER BY o.reading_id
          LIMIT ?`,
      )
      .raw(true);
    this.meterRows = db.prepare('SELECT id, name, model, serial FROM meters');
    this.jobRows = db.prepare('SELECT id, name FROM jobs');
    this.registerRows = db.prepare('SELECT id, name FROM registers');
    this.countRange = db.prepare('SELECT count(*) AS count FROM outbox WHERE sink_id = ? AND rejected = 0 AND reading_id BETWEEN ? AND ?');
    this.deliverRange = db.prepare('DELETE FROM outbox WHERE sink_id = ? AND rejected = 0 AND reading_id BETWEEN ? AND ?');
    this.reject = db.prepare(
      `UPDATE outbox SET rejected = 1, rejected_at = ?, reason = ?
        WHERE sink_id = ? AND rejected = 0 AND reading_id = ?`,
    );
    // Rejected again (a retry after requeueing by hand, or a sink that answers twice): the newest reason wins.
    this.rejectAgain = db.prepare('UPDATE outbox SET reason = ?, rejected_at = ? WHERE sink_id = ? AND rejected = 1 AND reading_id = ?');
    this.sinks = db.prepare('SELECT id, name, enabled FROM sinks ORDER BY name');
    this.count = db.prepare('SELECT count(*) AS count FROM outbox WHERE sink_id = ? AND rejected = ?');
    // Backfill: every stored reading in the range goes to the sink again, except those already
    // waiting or parked as rejected (a rejected point would only be refused again).
    this.requeueRange = db.prepare(
      `INSERT OR IGNORE INTO outbox (sink_id, rejected, reading_id)
       SELECT @sinkId, 0, r.id FROM runs ru JOIN readings r ON r.run_id = ru.id
        WHERE ru.read_at >= @from AND ru.read_at < @to
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.reading_id = r.id AND o.sink_id = @sinkId)`,
    );
    // "Oldest" by reading id, the order readings were written in: one B-tree probe instead of
    // a join over the whole backlog. Runs are written when read, so this is the oldest read too
    // (up to the seconds a slow run of another meter may overlap it).
    this.oldestPending = db.prepare(
      `SELECT ru.read_at AS readAt
         FROM (SELECT reading_id FROM outbox WHERE sink_id = ? AND rejected = 0 ORDER BY reading_id LIMIT 1) o
         JOIN readings r ON r.id = o.reading_id
         JOIN runs ru ON ru.id = r.run_id`,
    );
    this.deliverAll = db.transaction((sinkId: number, readingIds: readonly number[]) => {
      // A batch is a contiguous run of the sink's pending rows: when the range holds exactly
      // these rows, one range delete does what one delete per reading would.
      const first = readingIds[0] ?? 0;
      const last = readingIds[readingIds.length - 1] ?? 0;
      if (strictlyAscending(readingIds) && this.countRange.get(sinkId, first, last)?.count === readingIds.length) {
        return this.deliverRange.run(sinkId, first, last).changes;
      }
      let deleted = 0;
      for (const readingId of readingIds) deleted += this.deliver.run(sinkId, readingId).changes;
      return deleted;
    }).immediate;
  }

  pendingDeliveries(sink: string, options: PendingOptions): PendingDelivery[] {
    const { limit } = options;
    const after = options.afterReadingId ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PENDING_LIMIT) {
      throw new StoreError('invalid-input', `pendingDeliveries(${sink}): limit must be an integer from 1 to ${MAX_PENDING_LIMIT}, not ${limit}.`, { path: this.path });
    }
    if (!Number.isInteger(after)) {
      throw new StoreError('invalid-input', `pendingDeliveries(${sink}): afterReadingId must be a reading id, not ${after}.`, { path: this.path });
    }
    return this.pending.all(this.idOf(sink), after, limit).map((row) => ({
      readingId: row.readingId,
      meter: row.meter,
      model: row.model,
      serial: row.serial,
      job: row.job,
      readAt: new Date(row.readAt),
      reading: readingFromColumns(row),
    }));
  }

  /** The oldest pending readings of a sink with just what a point needs; see pendingDeliveries. */
  pendingReadings(sink: string, options: PendingOptions): PendingReading[] {
    const after = options.afterReadingId ?? 0;
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_PENDING_LIMIT || !Number.isInteger(after)) {
      throw new StoreError('invalid-input', `pendingReadings(${sink}): limit 1 to ${MAX_PENDING_LIMIT} and a reading id to start after, not ${options.limit} and ${after}.`, { path: this.path });
    }
    const rows = this.pendingLean.all(this.idOf(sink), after, options.limit);
    // Names are read afresh per page (a handful of rows): a meter's serial may have been learned since.
    if (rows.length > 0) this.refreshNames();
    return rows.map(([readingId, runId, readAt, meterId, jobId, registerId, value, unitCode, text]) => {
      const meter = this.meters.get(meterId);
      const job = this.jobs.get(jobId);
      return {
        readingId,
        runId,
        readAt,
        meter: meter?.name ?? '',
        model: meter?.model ?? '',
        serial: meter?.serial ?? null,
        job: job ?? '',
        registerId,
        name: this.registers.get(registerId) ?? null,
        value,
        unitCode,
        text,
      };
    });
  }

  private refreshNames(): void {
    this.meters = new Map(this.meterRows.all().map((m) => [m.id, { name: m.name, model: m.model, serial: m.serial }]));
    this.jobs = new Map(this.jobRows.all().map((j) => [j.id, j.name]));
    this.registers = new Map(this.registerRows.all().map((r) => [r.id, r.name]));
  }

  /** Deletes the sink's pending rows of these readings; returns how many there were. Rejected rows stay rejected. */
  markDelivered(sink: string, readingIds: readonly number[]): number {
    const sinkId = this.idOf(sink);
    return readingIds.length === 0 ? 0 : this.deliverAll(sinkId, readingIds);
  }

  /** Queues the readings read in [from, to) for the sink again; returns how many were queued. */
  requeue(sink: string, from: Date | undefined, to: Date | undefined): number {
    const range = { sinkId: this.idOf(sink), from: from?.getTime() ?? Number.MIN_SAFE_INTEGER, to: to?.getTime() ?? Number.MAX_SAFE_INTEGER };
    return this.requeueRange.run(range).changes;
  }

  markRejected(sink: string, readingId: number, reason: string): void {
    const sinkId = this.idOf(sink);
    const at = this.now().getTime();
    if (this.reject.run(at, reason, sinkId, readingId).changes > 0) return;
    if (this.rejectAgain.run(reason, at, sinkId, readingId).changes > 0) return;
    throw new StoreError(
      'not-pending',
      `reading ${readingId} is not waiting for sink ${sink} in ${this.path} (delivered already, or never queued for it): nothing to reject.`,
      { path: this.path },
    );
  }

  status(): SinkStatus[] {
    return this.sinks.all().map((sink) => {
      const oldest = this.oldestPending.get(sink.id);
      return {
        name: sink.name,
        enabled: sink.enabled === 1,
        pending: this.count.get(sink.id, 0)?.count ?? 0,
        oldestPendingReadAt: oldest ? new Date(oldest.readAt) : null,
        rejected: this.count.get(sink.id, 1)?.count ?? 0,
      };
    });
  }

  private idOf(sink: string): number {
    const row = this.sinkId.get(sink);
    if (!row) {
      throw new StoreError('unknown-sink', `there is no sink "${sink}" in ${this.path}: sinks are registered when the store is opened with them.`, { path: this.path });
    }
    return row.id;
  }
}

/** Distinct and in order: then the ids between the first and the last are exactly a range's rows. */
function strictlyAscending(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if ((ids[i] as number) <= (ids[i - 1] as number)) return false;
  return true;
}
