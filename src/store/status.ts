// What `kamstrup-logger status` shows: per meter its newest values, per meter and job the last
// run, per sink its backlog. Runs are found by probing runs_by_meter_job and the backlog is
// counted over its ranges of reading ids, so the cost follows the number of meters, jobs and
// undelivered readings, never the years of history in the file.

import type { Database, Statement } from 'better-sqlite3';
import type { Outbox } from './outbox.js';
import { readingColumnsSql, readingFromColumns, type ReadingColumns } from './rows.js';
import type { JobStatus, LatestValue, MeterHistory, MeterStatus, RunOutcome, RunSummary, StoreStatus } from './types.js';

interface MeterRow {
  readonly id: number;
  readonly name: string;
  readonly model: string;
  readonly serial: number | null;
}

interface RunRow {
  readonly id: number;
  readonly readAt: number;
  readonly finishedAt: number;
  readonly outcome: RunOutcome;
  readonly error: string | null;
  readonly missing: string | null;
  readonly readingCount: number;
  readonly simulated: 0 | 1;
}

/**
 * How many runs of one meter and job status walks back to find a value for each register.
 * A partial run lacks some registers: their values are in an earlier run, normally the one
 * before. The walk stops at the first complete ('ok') run; this bounds it when none is near.
 */
const MAX_RUNS_WALKED = 24;

const runColumns = `id, read_at AS readAt, finished_at AS finishedAt, outcome, error, missing, reading_count AS readingCount, simulated`;

export class StatusReader {
  private readonly meters: Statement<[], MeterRow>;
  private readonly jobs: Statement<[], { id: number; name: string }>;
  private readonly lastRun: Statement<[number, number], RunRow>;
  private readonly runsWithReadings: Statement<[number, number, number], RunRow>;
  private readonly readingsOfRun: Statement<[number], ReadingColumns>;
  private readonly history: Statement<[string], { realRuns: number | null; simulatedRuns: number | null; newestSimulated: number | null; serial: number | null }>;

  constructor(
    db: Database,
    private readonly outbox: Outbox,
  ) {
    this.meters = db.prepare('SELECT id, name, model, serial FROM meters ORDER BY name');
    this.jobs = db.prepare('SELECT id, name FROM jobs ORDER BY name');
    this.lastRun = db.prepare(`SELECT ${runColumns} FROM runs WHERE meter_id = ? AND job_id = ? ORDER BY read_at DESC, id DESC LIMIT 1`);
    this.runsWithReadings = db.prepare(
      `SELECT ${runColumns} FROM runs WHERE meter_id = ? AND job_id = ? AND reading_count > 0 ORDER BY read_at DESC, id DESC LIMIT ?`,
    );
    this.readingsOfRun = db.prepare(
      `SELECT ${readingColumnsSql}
         FROM readings r
         JOIN registers g ON g.id = r.register_id
         JOIN units u ON u.code = r.unit_code
        WHERE r.run_id = ?
        ORDER BY r.register_id`,
    );
    this.history = db.prepare(
      `SELECT sum(r.simulated = 0 AND r.reading_count > 0) AS realRuns, sum(r.simulated) AS simulatedRuns,
              max(CASE WHEN r.simulated = 1 THEN r.read_at END) AS newestSimulated, m.serial AS serial
         FROM meters m LEFT JOIN runs r ON r.meter_id = m.id
        WHERE m.name = ?
        GROUP BY m.id`,
    );
  }

  meterHistory(meter: string): MeterHistory {
    const row = this.history.get(meter);
    return {
      realRuns: row?.realRuns ?? 0,
      simulatedRuns: row?.simulatedRuns ?? 0,
      newestSimulatedReadAt: row?.newestSimulated == null ? null : new Date(row.newestSimulated),
      serial: row?.serial ?? null,
    };
  }

  read(): StoreStatus {
    const jobs = this.jobs.all();
    const meterStatuses: MeterStatus[] = [];
    const jobStatuses: JobStatus[] = [];
    for (const meter of this.meters.all()) {
      const latest = new Map<number, LatestValue>();
      for (const job of jobs) {
        const last = this.lastRun.get(meter.id, job.id);
        if (!last) continue; // this job never ran on this meter
        jobStatuses.push({ meter: meter.name, job: job.name, lastRun: summary(last) });
        this.collectLatest(meter.id, job.name, job.id, latest);
      }
      const values = [...latest.values()].sort((a, b) => a.registerId - b.registerId);
      const lastReadAt = values.reduce<Date | null>((newest, v) => (newest === null || v.readAt > newest ? v.readAt : newest), null);
      meterStatuses.push({ name: meter.name, model: meter.model, serial: meter.serial, lastReadAt, values });
    }
    return { meters: meterStatuses, jobs: jobStatuses, sinks: this.outbox.status() };
  }

  /** Adds this job's newest value of each register where no newer one (of another job) is known. */
  private collectLatest(meterId: number, jobName: string, jobId: number, latest: Map<number, LatestValue>): void {
    const seen = new Set<number>();
    for (const run of this.runsWithReadings.all(meterId, jobId, MAX_RUNS_WALKED)) {
      const readAt = new Date(run.readAt);
      for (const row of this.readingsOfRun.all(run.id)) {
        if (seen.has(row.registerId)) continue;
        seen.add(row.registerId);
        const known = latest.get(row.registerId);
        if (known && known.readAt >= readAt) continue;
        const { registerId, name, value, unit, unitCode, text } = readingFromColumns(row);
        latest.set(registerId, { registerId, name, value, unit, unitCode, ...(text === undefined ? {} : { text }), readAt, job: jobName, simulated: run.simulated === 1 });
      }
      if (run.outcome === 'ok' && seen.size > 0) break;
    }
  }
}

function summary(run: RunRow): RunSummary {
  return {
    runId: run.id,
    readAt: new Date(run.readAt),
    finishedAt: new Date(run.finishedAt),
    outcome: run.outcome,
    error: run.error,
    readingCount: run.readingCount,
    missing: run.missing === null ? [] : (JSON.parse(run.missing) as number[]),
    simulated: run.simulated === 1,
  };
}
