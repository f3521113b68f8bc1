// Retention: readings older than the configured age go once every sink has them. A reading a
// sink still owes (pending) or refused (rejected) is never deleted here; besides this code's
// check, a trigger and the rejections' foreign key make SQLite itself refuse such a delete.
// The same steps delete the stored payloads of runs that are no longer owed whole: delivery
// leaves them behind (see Outbox.cut).

import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { PruneOptions, PruneResult } from './types.js';

const DAY_MS = 86_400_000;
export const DEFAULT_PRUNE_CHUNK = 5000;

interface OldRun {
  readonly id: number;
  readonly meterId: number;
  readonly jobId: number;
  readonly readAt: number;
  readonly readingCount: number;
}

export class Pruner {
  private readonly oldRuns: Statement<[number, number, number, number], OldRun>;
  private readonly deleteDelivered: Statement<[number]>;
  private readonly remaining: Statement<[number], { count: number }>;
  private readonly newestRun: Statement<[number, number], { id: number }>;
  private readonly deleteRun: Statement<[number]>;
  private readonly stalePayloads: Statement<[number, number, number], [number, number]>;
  private readonly deletePayload: Statement<[number, number]>;

  constructor(
    private readonly db: Database,
    private readonly path: string,
  ) {
    // Keyset over (read_at, id) on runs_by_read_at (an index on read_at ends in the rowid).
    this.oldRuns = db.prepare(
      `SELECT id, meter_id AS meterId, job_id AS jobId, read_at AS readAt, reading_count AS readingCount
         FROM runs
        WHERE read_at < ? AND (read_at, id) > (?, ?)
        ORDER BY read_at, id
        LIMIT ?`,
    );
    // Sinks hold a handful of ranges; rejections_by_reading answers for parked readings in one probe.
    this.deleteDelivered = db.prepare(
      `DELETE FROM readings
        WHERE run_id = ?
          AND NOT EXISTS (SELECT 1 FROM outbox_ranges o WHERE readings.id BETWEEN o.first_reading_id AND o.last_reading_id)
          AND NOT EXISTS (SELECT 1 FROM rejections j WHERE j.reading_id = readings.id)`,
    );
    this.remaining = db.prepare('SELECT count(*) AS count FROM readings WHERE run_id = ?');
    this.newestRun = db.prepare('SELECT id FROM runs WHERE meter_id = ? AND job_id = ? ORDER BY read_at DESC, id DESC LIMIT 1');
    this.deleteRun = db.prepare('DELETE FROM runs WHERE id = ?');
    // Keyset over the payloads' key; a sink's few ranges answer for each payload in one probe.
    this.stalePayloads = db
      .prepare<[number, number, number], [number, number]>(
        `SELECT sink_id, first_reading_id FROM outbox_payloads p
          WHERE (sink_id, first_reading_id) > (?, ?)
            AND NOT EXISTS (SELECT 1 FROM outbox_ranges o
                             WHERE o.sink_id = p.sink_id AND o.first_reading_id <= p.first_reading_id AND o.last_reading_id >= p.last_reading_id)
          ORDER BY sink_id, first_reading_id
          LIMIT ?`,
      )
      .raw(true);
    this.deletePayload = db.prepare('DELETE FROM outbox_payloads WHERE sink_id = ? AND first_reading_id = ?');
  }

  /**
   * Checks the options at once, then prunes in steps: one transaction per step of about
   * `chunkSize` readings. Each step yields the running totals, so a caller on the daemon's
   * event loop can let other work in between steps (`for (const _ of store.pruneChunks(o))
   * await setImmediate()`); other processes wait at most one step for the write lock.
   */
  chunks(options: PruneOptions): Generator<PruneResult, PruneResult> {
    const chunkSize = options.chunkSize ?? DEFAULT_PRUNE_CHUNK;
    if (!Number.isFinite(options.olderThanDays) || options.olderThanDays < 0) {
      throw new StoreError('invalid-input', `prune: olderThanDays must be a number of days ≥ 0, not ${options.olderThanDays}.`, { path: this.path });
    }
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new StoreError('invalid-input', `prune: chunkSize must be a positive integer, not ${chunkSize}.`, { path: this.path });
    }
    if (!Number.isFinite(options.now.getTime())) {
      throw new StoreError('invalid-input', 'prune: now is not a valid date.', { path: this.path });
    }
    return this.steps(options.now.getTime() - options.olderThanDays * DAY_MS, chunkSize);
  }

  private *steps(cutoff: number, chunkSize: number): Generator<PruneResult, PruneResult> {
    const totals = { readings: 0, runs: 0, keptUndelivered: 0, payloads: 0 };
    let cursor = { readAt: Number.MIN_SAFE_INTEGER, id: 0 };
    const step = this.db.transaction((): boolean => {
      // A run holds at most a few dozen readings: chunkSize runs always cover chunkSize readings.
      const runs = this.oldRuns.all(cutoff, cursor.readAt, cursor.id, chunkSize);
      let readings = 0;
      for (const run of runs) {
        cursor = { readAt: run.readAt, id: run.id };
        totals.readings += this.deleteDelivered.run(run.id).changes;
        const left = this.remaining.get(run.id)?.count ?? 0;
        totals.keptUndelivered += left;
        // Status shows each meter's and job's last run, however old: that one stays.
        if (left === 0 && this.newestRun.get(run.meterId, run.jobId)?.id !== run.id) {
          totals.runs += this.deleteRun.run(run.id).changes;
        }
        readings += Math.max(run.readingCount, 1);
        if (readings >= chunkSize) break;
      }
      return runs.length > 0;
    }).immediate;
    while (step()) yield { ...totals };
    let payloadCursor: readonly [number, number] = [0, 0];
    const payloadStep = this.db.transaction((): boolean => {
      const stale = this.stalePayloads.all(payloadCursor[0], payloadCursor[1], chunkSize);
      for (const [sinkId, first] of stale) totals.payloads += this.deletePayload.run(sinkId, first).changes;
      payloadCursor = stale[stale.length - 1] ?? payloadCursor;
      return stale.length === chunkSize;
    }).immediate;
    while (payloadStep()) yield { ...totals };
    return { ...totals };
  }

  prune(options: PruneOptions): PruneResult {
    const steps = this.chunks(options);
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
    }
  }
}
