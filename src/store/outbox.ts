// The delivery side of the outbox: which sinks exist, what each still owes, and the sinks'
// answers. A sink's backlog is a few ranges of reading ids (migrations/0002_outbox_ranges.sql):
// queuing a run extends the newest range, delivering a batch cuts it off the front. A rejected
// reading leaves its range for the rejections table and never counts as delivered, so prune
// keeps it until someone decides about it. Beside a queued run may lie its payload, what the
// sink will send for it (migrations/0003_outbox_payloads.sql), used while the run is owed whole.
// A newest-per-key sink owes per key only the newest value instead (src/store/newest.ts); the
// calls below serve both kinds, so the delivery loop never asks which kind it drains.

import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import { NewestOutbox } from './newest.js';
import { difference, overlap, union, type IdRange } from './ranges.js';
import { readingColumnsSql, readingFromColumns, type ReadingColumns } from './rows.js';
import type { DeliveryMode, HeldEntry, KeyedPayload, PendingDelivery, PendingItem, PendingOptions, PendingRunReading, SinkStatus } from './types.js';

/** reading id, run id, register id, value, unit code, text. */
type LeanRow = [number, number, number, string, number, string | null];
/** run id, read time, meter id, job id. */
type LeanRun = [number, number, number, number];
/** first reading id, last reading id, payload. */
type PayloadRow = [number, number, string];
/** Payloads of consecutive runs: count, first reading id, last reading id, readings, whether one is empty, the payloads joined, the runs' ends, whether one has several lines, the runs' line counts. */
type JoinedPayloadsRow = [number, number | null, number | null, number | null, number | null, string | null, string | null, number | null, string | null];

interface SinkRow {
  readonly id: number;
  readonly name: string;
  readonly enabled: 0 | 1;
  readonly delivery: DeliveryMode;
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
 * Adds the configured sinks that the database does not know yet, and returns the id of each by name.
 * It does not touch the `enabled` flags: a `status` or `export` command opening the file next
 * to the daemon (perhaps with no sinks at all) must not change what the daemon delivers. The
 * flags follow the process that writes readings: see markEnabledSinks.
 */
export function registerSinks(db: Database, path: string, names: readonly string[], modes: ReadonlyMap<string, DeliveryMode>): Map<string, number> {
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '' || name !== name.trim()) {
      throw new StoreError('invalid-input', `sink name "${String(name)}" for ${path} must be a non-empty name without surrounding spaces.`, { path });
    }
  }
  const wanted = [...new Set(names)];
  const select = db.prepare<[], { id: number; name: string; delivery: DeliveryMode }>('SELECT id, name, delivery FROM sinks');
  const known = new Map(select.all().map((row) => [row.name, row.delivery]));
  // A sink given without a renderer keeps the mode the database knows (every-reading when new).
  const changed = wanted.filter((name) => !known.has(name) || (modes.has(name) && known.get(name) !== modes.get(name)));
  // Write (and take the write lock) only when there is something new.
  if (changed.length > 0) {
    db.transaction(() => {
      const insert = db.prepare('INSERT INTO sinks (name, enabled, delivery) VALUES (?, 1, ?) ON CONFLICT (name) DO UPDATE SET delivery = excluded.delivery');
      for (const name of changed) insert.run(name, modes.get(name) ?? 'every-reading');
    }).immediate();
  }
  const ids = new Map(select.all().map((row) => [row.name, row.id]));
  return new Map(wanted.map((name) => [name, ids.get(name) ?? 0]));
}

/**
 * Records which sinks new readings are queued for: these, and no others. Called by the
 * writer inside its first job run's transaction, so `enabled` always describes the process
 * that last wrote readings; a sink dropped from its config shows as disabled with its backlog.
 */
export function markEnabledSinks(db: Database, sinkIds: readonly number[]): void {
  db.prepare(
    `UPDATE sinks SET enabled = (id IN (SELECT value FROM json_each(@ids)))
      WHERE enabled <> (id IN (SELECT value FROM json_each(@ids)))`,
  ).run({ ids: JSON.stringify(sinkIds) });
}

/**
 * Records the format that each of these sinks renders its payloads in. A sink whose stored
 * payloads are in another format (an upgrade changed how it renders) loses them: their runs are
 * rendered from the readings when they are sent, as runs without a payload always are.
 */
export function registerPayloadFormats(db: Database, formats: ReadonlyMap<number, string>): void {
  // status and export render nothing: no query at their start.
  if (formats.size === 0) return;
  const stored = new Map(db.prepare<[], [number, string | null]>('SELECT id, payload_format FROM sinks').raw(true).all());
  const changed = [...formats].filter(([sinkId, format]) => stored.get(sinkId) !== format);
  if (changed.length === 0) return;
  const drop = db.prepare('DELETE FROM outbox_payloads WHERE sink_id = ?');
  // A newest-per-key sink's values exist only as payloads: they go, and its keys start afresh.
  const dropNewest = db.prepare('DELETE FROM outbox_newest WHERE sink_id = ?');
  const record = db.prepare('UPDATE sinks SET payload_format = ? WHERE id = ?');
  db.transaction(() => {
    for (const [sinkId, format] of changed) {
      drop.run(sinkId);
      dropNewest.run(sinkId);
      record.run(format, sinkId);
    }
  }).immediate();
}

export class Outbox {
  private readonly sinkId: Statement<[string], { id: number }>;
  private readonly rangesAfter: Statement<[number, number], IdRange>;
  private readonly rangesOverlapping: Statement<[number, number, number], IdRange>;
  private readonly insertRange: Statement<[number, number, number]>;
  private readonly extendRange: Statement<[number, number, number]>;
  private readonly deleteRange: Statement<[number, number]>;
  private readonly deleteRanges: Statement<[number]>;
  private readonly insertPayload: Statement<[number, number, number, string]>;
  private readonly payloadsBetween: Statement<[number, number, number], PayloadRow>;
  private readonly payloadsJoined: Statement<[number, number, number, number, number], JoinedPayloadsRow>;
  private readonly pending: Statement<[number, number, number], PendingRow>;
  private readonly pendingLean: Statement<[number, number, number], LeanRow>;
  private readonly runsBetween: Statement<[number, number], LeanRun>;
  private readonly readingCount: Statement<[number, number], number>;
  private readonly firstReadAt: Statement<[number, number], number>;
  private readonly runIntervals: Statement<[number, number], IdRange>;
  private readonly rejectedIds: Statement<[number], number>;
  private readonly rejectionCount: Statement<[number], number>;
  private readonly insertRejection: Statement<[number, number, number, string]>;
  private readonly updateRejection: Statement<[string, number, number, number]>;
  private readonly sinks: Statement<[], SinkRow>;
  private readonly meterRows: Statement<[], { id: number; name: string; model: string; serial: number | null }>;
  private readonly jobRows: Statement<[], { id: number; name: string }>;
  private readonly registerRows: Statement<[], { id: number; name: string | null }>;
  private meters = new Map<number, { name: string; model: string; serial: number | null }>();
  private jobs = new Map<number, string>();
  private registers = new Map<number, string | null>();
  private readonly newestBacklog: Statement<[number], [number, number | null]>;
  private readonly recordLatency: Statement<[{ sink: number; at: number; reading: number; count: number }]>;
  private readonly latencies: Statement<[], [number, number]>;
  private readonly deliverAll: (sinkId: number, delivered: readonly IdRange[], confirmedAt: number) => number;
  private readonly rejectOne: (sinkId: number, readingId: number, reason: string) => boolean;
  private readonly requeueAll: (sinkId: number, from: number, to: number) => number;
  private readonly newest: NewestOutbox;
  /** By sink id, as the database records it. */
  private readonly modes: ReadonlyMap<number, DeliveryMode>;

  constructor(
    db: Database,
    private readonly path: string,
    private readonly now: () => Date,
    /** The sinks whose payloads this process rendered, and so may send. */
    private readonly renderedSinkIds: ReadonlySet<number>,
  ) {
    this.sinkId = db.prepare('SELECT id FROM sinks WHERE name = ?');
    this.rangesAfter = db
      .prepare<[number, number], IdRange>('SELECT first_reading_id, last_reading_id FROM outbox_ranges WHERE sink_id = ? AND last_reading_id > ? ORDER BY first_reading_id')
      .raw(true);
    this.rangesOverlapping = db
      .prepare<[number, number, number], IdRange>(
        'SELECT first_reading_id, last_reading_id FROM outbox_ranges WHERE sink_id = ? AND first_reading_id <= ? AND last_reading_id >= ? ORDER BY first_reading_id',
      )
      .raw(true);
    this.insertRange = db.prepare('INSERT INTO outbox_ranges (sink_id, first_reading_id, last_reading_id) VALUES (?, ?, ?)');
    this.extendRange = db.prepare('UPDATE outbox_ranges SET last_reading_id = ? WHERE sink_id = ? AND last_reading_id = ?');
    this.deleteRange = db.prepare('DELETE FROM outbox_ranges WHERE sink_id = ? AND first_reading_id = ?');
    this.deleteRanges = db.prepare('DELETE FROM outbox_ranges WHERE sink_id = ?');
    this.insertPayload = db.prepare('INSERT INTO outbox_payloads (sink_id, first_reading_id, last_reading_id, payload) VALUES (?, ?, ?, ?)');
    this.payloadsBetween = db
      .prepare<[number, number, number], PayloadRow>(
        'SELECT first_reading_id, last_reading_id, payload FROM outbox_payloads WHERE sink_id = ? AND first_reading_id > ? AND first_reading_id <= ? ORDER BY first_reading_id',
      )
      .raw(true);
    // The same payloads as one text: SQLite joins them faster than JavaScript could read them one
    // by one, and the delivery loop sends the text as it is. group_concat joins rows in the order
    // they arrive, so they come from a subquery in primary-key order (its LIMIT, at least one
    // reading per run, keeps SQLite from flattening it away; the order needs no sort).
    this.payloadsJoined = db
      .prepare<[number, number, number, number, number], JoinedPayloadsRow>(
        `SELECT count(*), min(first_reading_id), max(last_reading_id), sum(last_reading_id - first_reading_id + 1), max(payload = ''),
                group_concat(payload, char(10)), group_concat(last_reading_id, ','),
                max(instr(payload, char(10))), group_concat(length(payload) - length(replace(payload, char(10), '')) + 1, ',')
           FROM (SELECT first_reading_id, last_reading_id, payload FROM outbox_payloads
                  WHERE sink_id = ? AND first_reading_id > ? AND first_reading_id <= ? AND last_reading_id <= ?
                  ORDER BY first_reading_id LIMIT ?)`,
      )
      .raw(true);
    // Within a range, readings come straight from the readings B-tree by id: the cost is the
    // page asked for, not the backlog.
    this.pending = db.prepare(
      `SELECT r.id AS readingId, m.name AS meter, m.model AS model, m.serial AS serial, j.name AS job,
              ru.read_at AS readAt, ${readingColumnsSql}
         FROM readings r
         JOIN runs ru ON ru.id = r.run_id
         JOIN meters m ON m.id = ru.meter_id
         JOIN jobs j ON j.id = ru.job_id
         JOIN registers g ON g.id = r.register_id
         JOIN units u ON u.code = r.unit_code
        WHERE r.id > ? AND r.id <= ?
        ORDER BY r.id
        LIMIT ?`,
    );
    // The delivery loop's queries: only what a point needs, as arrays rather than objects; the
    // runs of a page in a second query (they are few), names from small caches.
    this.pendingLean = db
      .prepare<[number, number, number], LeanRow>('SELECT id, run_id, register_id, value, unit_code, text FROM readings WHERE id > ? AND id <= ? ORDER BY id LIMIT ?')
      .raw(true);
    this.runsBetween = db.prepare<[number, number], LeanRun>('SELECT id, read_at, meter_id, job_id FROM runs WHERE id BETWEEN ? AND ? ORDER BY id').raw(true);
    this.meterRows = db.prepare('SELECT id, name, model, serial FROM meters');
    this.jobRows = db.prepare('SELECT id, name FROM jobs');
    this.registerRows = db.prepare('SELECT id, name FROM registers');
    this.readingCount = db.prepare<[number, number], number>('SELECT count(*) FROM readings WHERE id BETWEEN ? AND ?').pluck(true);
    this.firstReadAt = db
      .prepare<[number, number], number>('SELECT ru.read_at FROM readings r JOIN runs ru ON ru.id = r.run_id WHERE r.id BETWEEN ? AND ? ORDER BY r.id LIMIT 1')
      .pluck(true);
    // A run's readings were written together, so their ids are consecutive: one range per run.
    this.runIntervals = db
      .prepare<[number, number], IdRange>(
        `SELECT min(r.id), max(r.id) FROM runs ru JOIN readings r ON r.run_id = ru.id
          WHERE ru.read_at >= ? AND ru.read_at < ? GROUP BY ru.id`,
      )
      .raw(true);
    this.rejectedIds = db.prepare<[number], number>('SELECT reading_id FROM rejections WHERE sink_id = ?').pluck(true);
    this.rejectionCount = db.prepare<[number], number>('SELECT count(*) FROM rejections WHERE sink_id = ?').pluck(true);
    this.insertRejection = db.prepare('INSERT INTO rejections (sink_id, reading_id, rejected_at, reason) VALUES (?, ?, ?, ?)');
    // Rejected again (a retry after requeueing by hand, or a sink that answers twice): the newest reason wins.
    this.updateRejection = db.prepare('UPDATE rejections SET reason = ?, rejected_at = ? WHERE sink_id = ? AND reading_id = ?');
    this.sinks = db.prepare('SELECT id, name, enabled, delivery FROM sinks ORDER BY name');
    this.modes = new Map(this.sinks.all().map((sink) => [sink.id, sink.delivery]));
    this.newest = new NewestOutbox(db, now);
    this.newestBacklog = db.prepare<[number], [number, number | null]>("SELECT count(*), min(read_at) FROM outbox_newest WHERE sink_id = ? AND state = 'pending'").raw(true);
    // The latency of the delivery's newest run: its commit (finished_at, taken just before it)
    // to the confirmation. Only a newer run than the last one measured replaces the figure, so
    // a backfill of old runs does not pass for a slow delivery.
    this.recordLatency = db.prepare(
      `INSERT INTO sink_latency (sink_id, run_id, latency_ms, confirmed_at)
       SELECT @sink, ru.id, @at - ru.finished_at, @at FROM readings r JOIN runs ru ON ru.id = r.run_id WHERE r.id = @reading AND @count > 0
       ON CONFLICT (sink_id) DO UPDATE SET run_id = excluded.run_id, latency_ms = excluded.latency_ms, confirmed_at = excluded.confirmed_at
        WHERE excluded.run_id >= sink_latency.run_id`,
    );
    this.latencies = db.prepare<[], [number, number]>('SELECT sink_id, latency_ms FROM sink_latency').raw(true);

    this.deliverAll = db.transaction((sinkId: number, delivered: readonly IdRange[], confirmedAt: number) => {
      let count = 0;
      for (const range of delivered) count += this.cut(sinkId, range);
      const newest = delivered[delivered.length - 1];
      if (newest) this.recordLatency.run({ sink: sinkId, at: confirmedAt, reading: newest[1], count });
      return count;
    }).immediate;
    this.rejectOne = db.transaction((sinkId: number, readingId: number, reason: string): boolean => {
      const at = this.now().getTime();
      if (this.cut(sinkId, [readingId, readingId]) > 0) return this.insertRejection.run(sinkId, readingId, at, reason).changes > 0;
      return this.updateRejection.run(reason, at, sinkId, readingId).changes > 0;
    }).immediate;
    // Backfill: every stored reading in the range goes to the sink again, except those already
    // waiting or parked as rejected (a rejected point would only be refused again).
    this.requeueAll = db.transaction((sinkId: number, from: number, to: number): number => {
      const wanted = this.runIntervals.all(from, to);
      if (wanted.length === 0) return 0;
      const queued = this.rangesAfter.all(sinkId, 0);
      const added = difference(wanted, [...queued, ...this.rejectedIds.all(sinkId).map((id): IdRange => [id, id])]);
      if (added.length === 0) return 0;
      this.deleteRanges.run(sinkId);
      for (const [first, last] of union([...queued, ...added])) this.insertRange.run(sinkId, first, last);
      return added.reduce((sum, [first, last]) => sum + (this.readingCount.get(first, last) ?? 0), 0);
    }).immediate;
  }

  /**
   * Queues a run's readings (consecutive ids first…last) for a sink, with what the sink will send
   * for them when it rendered that already; the writer calls it inside the run's transaction.
   * Ids are handed out in order and never reused, so when the sink's newest range ends right
   * before the run, no reading lies between that the sink does not owe: the range grows.
   */
  queue(sinkId: number, first: number, last: number, payload: string | undefined): void {
    if (this.extendRange.run(last, sinkId, first - 1).changes === 0) this.insertRange.run(sinkId, first, last);
    if (payload !== undefined) this.insertPayload.run(sinkId, first, last, payload);
  }

  /**
   * Takes `range` out of the sink's backlog; returns how many of its readings were in it. The
   * payloads of its runs stay until prune: a payload is only read while its whole run lies in
   * a range, and deleting them here would write as much again while the server waits.
   */
  private cut(sinkId: number, range: IdRange): number {
    const [first, last] = range;
    const hit = this.rangesOverlapping.all(sinkId, last, first);
    if (hit.length === 0) return 0;
    for (const [start] of hit) this.deleteRange.run(sinkId, start);
    for (const [start, end] of difference(hit, [range])) this.insertRange.run(sinkId, start, end);
    return hit.reduce((sum, queued) => sum + overlap(queued, range), 0);
  }

  /**
   * Walks the sink's ranges after `after`, oldest first, handing `take` each stretch of owed ids
   * (after `from`, up to `to`) and how many readings are still wanted; `take` returns how many it
   * took. Within a range the ids are consecutive, so `limit` readings cost a page, not the backlog.
   */
  private walk(sinkId: number, after: number, limit: number, take: (from: number, to: number, wanted: number) => number): void {
    let wanted = limit;
    for (const [first, last] of this.rangesAfter.all(sinkId, after)) {
      wanted -= take(Math.max(after, first - 1), last, wanted);
      if (wanted <= 0) return;
    }
  }

  private checkPage(call: string, sink: string, options: PendingOptions): number {
    const after = options.afterReadingId ?? 0;
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_PENDING_LIMIT || !Number.isInteger(after)) {
      throw new StoreError('invalid-input', `${call}(${sink}): limit 1 to ${MAX_PENDING_LIMIT} and a reading id to start after, not ${options.limit} and ${after}.`, { path: this.path });
    }
    return after;
  }

  pendingDeliveries(sink: string, options: PendingOptions): PendingDelivery[] {
    const after = this.checkPage('pendingDeliveries', sink, options);
    const rows: PendingRow[] = [];
    this.walk(this.everyReadingSink(sink, 'owes no readings, only newest values'), after, options.limit, (from, to, wanted) => {
      const page = this.pending.all(from, to, wanted);
      rows.push(...page);
      return page.length;
    });
    return rows.map((row) => ({
      readingId: row.readingId,
      meter: row.meter,
      model: row.model,
      serial: row.serial,
      job: row.job,
      readAt: new Date(row.readAt),
      reading: readingFromColumns(row),
    }));
  }

  /**
   * The oldest pending runs of a sink, each as its stored payload when it has one and is owed
   * whole, else grouped from its readings with just what rendering needs; about `limit`
   * readings (whole payloads), see pendingDeliveries.
   */
  pendingRuns(sink: string, options: PendingOptions): PendingItem[] {
    const after = this.checkPage('pendingRuns', sink, options);
    const sinkId = this.idOf(sink);
    if (this.modes.get(sinkId) === 'newest-per-key') return this.newest.pending(sinkId, after, options.limit);
    const rendered = this.renderedSinkIds.has(sinkId);
    const items: PendingItem[] = [];
    let namesRead = false;
    this.walk(sinkId, after, options.limit, (from, to, wanted) => {
      let cursor = from;
      let left = wanted;
      /** The readings after the cursor up to `upTo` (and `left`), grouped by run. */
      const readings = (upTo: number): void => {
        const rows = this.pendingLean.all(cursor, upTo, left);
        if (rows.length === 0) return;
        // Names are read afresh per page (a handful of rows): a meter's serial may have been learned since.
        if (!namesRead) this.refreshNames();
        namesRead = true;
        this.groupByRun(rows, items);
        left -= rows.length;
      };
      if (rendered) {
        // The next `left` readings start no later than cursor + left: the runs starting there
        // are the page, the last one whole. Nearly always their payloads follow each other
        // without a gap and go as one text.
        const startsUpTo = Math.min(to, cursor + left);
        const [runs, first, last, count, empty, payload, runEnds, multiLine, runLines] = this.payloadsJoined.get(sinkId, cursor, startsUpTo, to, left) ?? [0, null, null, null, null, null, null, null, null];
        if (runs > 0 && first === cursor + 1 && last !== null && count === last - first + 1 && empty === 0 && payload !== null && runEnds !== null) {
          items.push({ firstReadingId: first, lastReadingId: last, payload, runs, runEnds, ...(multiLine !== null && multiLine > 0 && runLines !== null && { runLines }) });
          left -= count;
          cursor = last;
        } else {
          for (const [first, last, payload] of this.payloadsBetween.all(sinkId, cursor, startsUpTo)) {
            // The range ends inside its run (the rest was delivered or parked): what is still owed
            // of that run is read from its readings below.
            if (last > to) break;
            if (first > cursor + 1) readings(first - 1);
            if (left <= 0) break;
            items.push({ firstReadingId: first, lastReadingId: last, payload, runs: 1, runEnds: String(last) });
            left -= last - first + 1;
            cursor = last;
            if (left <= 0) break;
          }
        }
      }
      if (left > 0 && cursor < to) readings(to);
      return wanted - left;
    });
    return items;
  }

  /**
   * Appends the rows, grouped by run, to `items`. The rows are consecutive readings of one range,
   * so their runs are every run written from the first row's to the last row's: one query.
   */
  private groupByRun(rows: readonly LeanRow[], items: PendingItem[]): void {
    const runRows = this.runsBetween.all((rows[0] as LeanRow)[1], (rows[rows.length - 1] as LeanRow)[1]);
    let next = 0;
    // A run split by a gap in the backlog (a reading parked or delivered out of order) goes on.
    const last = items[items.length - 1];
    const previous = last && !('payload' in last) ? last : undefined;
    let runId = previous?.runId ?? 0;
    let readings = (previous?.readings ?? []) as PendingRunReading[];
    for (const [readingId, run, registerId, value, unitCode, text] of rows) {
      // A run's readings were written together, so they come one after another.
      if (run !== runId) {
        while (next < runRows.length && (runRows[next] as LeanRun)[0] < run) next++;
        const [, readAt, meterId, jobId] = runRows[next] ?? [run, 0, 0, 0];
        const meter = this.meters.get(meterId);
        runId = run;
        readings = [];
        items.push({ runId, readAt: new Date(readAt), meter: meter?.name ?? '', model: meter?.model ?? '', serial: meter?.serial ?? null, job: this.jobs.get(jobId) ?? '', readings });
      }
      readings.push({ readingId, registerId, name: this.registers.get(registerId) ?? null, value, unitCode, text });
    }
  }

  private refreshNames(): void {
    this.meters = new Map(this.meterRows.all().map((m) => [m.id, { name: m.name, model: m.model, serial: m.serial }]));
    this.jobs = new Map(this.jobRows.all().map((j) => [j.id, j.name]));
    this.registers = new Map(this.registerRows.all().map((r) => [r.id, r.name]));
  }

  /**
   * Takes these readings out of the sink's backlog (in one transaction); returns how many were
   * pending. Rejected ones stay rejected. An every-reading sink's latency is measured to
   * `confirmedAt`, when the sink confirmed them (now by default).
   */
  markDelivered(sink: string, readings: readonly IdRange[], confirmedAt?: Date): number {
    const sinkId = this.idOf(sink);
    if (readings.length === 0) return 0;
    if (this.modes.get(sinkId) === 'newest-per-key') return this.newest.markDelivered(sinkId, union(readings));
    return this.deliverAll(sinkId, union(readings), (confirmedAt ?? this.now()).getTime());
  }

  /**
   * What the sink owes now, cheaply enough for every run: a range's ids all exist (a run's
   * readings take consecutive ids, pending readings are never pruned, requeue adds only stored
   * runs' ids), so its size is last - first + 1, not a count over the backlog.
   */
  backlog(sinkId: number): { pending: number; oldestReadAt: number | null } {
    if (this.modes.get(sinkId) === 'newest-per-key') {
      const [pending, oldestReadAt] = this.newestBacklog.get(sinkId) ?? [0, null];
      return { pending, oldestReadAt };
    }
    const ranges = this.rangesAfter.all(sinkId, 0);
    const first = ranges[0];
    return {
      pending: ranges.reduce((sum, [start, end]) => sum + end - start + 1, 0),
      oldestReadAt: first ? (this.firstReadAt.get(first[0], first[1]) ?? null) : null,
    };
  }

  /** By sink id: the newest delivery's latency, for the sinks measured so far. */
  deliveryLatencies(): Map<number, number> {
    return new Map(this.latencies.all());
  }

  /** Queues the readings read in [from, to) for the sink again; returns how many were queued. */
  requeue(sink: string, from: Date | undefined, to: Date | undefined): number {
    const sinkId = this.everyReadingSink(sink, 'takes no history: it shows whatever it is sent as live, so it gets only the newest value of each key');
    return this.requeueAll(sinkId, from?.getTime() ?? Number.MIN_SAFE_INTEGER, to?.getTime() ?? Number.MAX_SAFE_INTEGER);
  }

  /**
   * The sink refused this reading for good (of a newest-per-key sink: the entry with this seq,
   * whose key is then not sent again until it changes; nothing when a newer value replaced it).
   */
  markRejected(sink: string, readingId: number, reason: string): void {
    const sinkId = this.idOf(sink);
    if (this.modes.get(sinkId) === 'newest-per-key') {
      this.newest.markRefused(sinkId, readingId, reason);
      return;
    }
    if (this.rejectOne(sinkId, readingId, reason)) return;
    throw new StoreError(
      'not-pending',
      `reading ${readingId} is not waiting for sink ${sink} in ${this.path} (delivered already, or never queued for it): nothing to reject.`,
      { path: this.path },
    );
  }

  /** Makes these payloads the newest of their keys for a newest-per-key sink; the writer calls it inside the run's transaction. */
  queueNewest(sinkId: number, payloads: readonly KeyedPayload[], readAt: Date): void {
    this.newest.queue(sinkId, payloads, readAt);
  }

  /** What a newest-per-key sink last confirmed for the key, or null. */
  sentPayload(sinkId: number, key: string): string | null {
    return this.newest.sent(sinkId, key);
  }

  /** A newest-per-key sink: queues again each key it was last sent longer than `olderThanMs` ago; returns how many. */
  refresh(sink: string, olderThanMs: number): number {
    return this.newest.refresh(this.newestValueSink(sink), olderThanMs);
  }

  /** A newest-per-key sink's keys that are held back or refused, with the reason. */
  heldEntries(sink: string): HeldEntry[] {
    return this.newest.heldEntries(this.newestValueSink(sink));
  }

  modeOf(sinkId: number): DeliveryMode {
    return this.modes.get(sinkId) ?? 'every-reading';
  }

  /** Drops a newest-per-key sink's entries of keys it no longer has. */
  retainKeys(db: Database, sinkId: number, keys: readonly string[]): void {
    this.newest.retain(db, sinkId, keys);
  }

  status(): SinkStatus[] {
    return this.sinks.all().map((sink) => {
      if (sink.delivery === 'newest-per-key') {
        const entries = this.newest.status(sink.id);
        const waiting = entries.filter((entry) => entry.state === 'pending');
        return {
          name: sink.name,
          enabled: sink.enabled === 1,
          delivery: sink.delivery,
          pending: waiting.length,
          oldestPendingReadAt: waiting.reduce<Date | null>((oldest, entry) => (oldest === null || entry.readAt < oldest ? entry.readAt : oldest), null),
          rejected: entries.filter((entry) => entry.state === 'refused').length,
          entries,
        };
      }
      const ranges = this.rangesAfter.all(sink.id, 0);
      let oldest: number | undefined;
      for (const [first, last] of ranges) {
        oldest = this.firstReadAt.get(first, last);
        if (oldest !== undefined) break;
      }
      return {
        name: sink.name,
        enabled: sink.enabled === 1,
        delivery: sink.delivery,
        pending: ranges.reduce((sum, [first, last]) => sum + (this.readingCount.get(first, last) ?? 0), 0),
        oldestPendingReadAt: oldest === undefined ? null : new Date(oldest),
        rejected: this.rejectionCount.get(sink.id) ?? 0,
        entries: [],
      };
    });
  }

  private everyReadingSink(sink: string, because: string): number {
    const sinkId = this.idOf(sink);
    if (this.modes.get(sinkId) === 'newest-per-key') throw new StoreError('invalid-input', `sink ${sink} ${because}.`, { path: this.path });
    return sinkId;
  }

  private newestValueSink(sink: string): number {
    const sinkId = this.idOf(sink);
    if (this.modes.get(sinkId) !== 'newest-per-key') throw new StoreError('invalid-input', `sink ${sink} takes every reading: it has no keys with newest values.`, { path: this.path });
    return sinkId;
  }

  private idOf(sink: string): number {
    const row = this.sinkId.get(sink);
    if (!row) {
      throw new StoreError('unknown-sink', `there is no sink "${sink}" in ${this.path}: sinks are registered when the store is opened with them.`, { path: this.path });
    }
    return row.id;
  }
}
