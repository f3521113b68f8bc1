// The logger's own health (migrations/0007_health.sql): per meter and job the runs by outcome
// and cause, counted in each run's transaction. A failed run has no readings, so the outbox has
// nothing of its own to carry to a sink: the counts go out cumulatively with every run that has
// readings, and a dashboard takes their differences. One upsert per run, which also returns the
// counts as they stand with it.

import type { Database, Statement } from 'better-sqlite3';
import type { HealthStatus, JobRunCounts, JobRunInput, RunCause } from './types.js';

/** runs, ok, partial, failed, no_answer, corrupt_answer, line_noise, link_failure, other. */
type CountsRow = [number, number, number, number, number, number, number, number, number];

const CAUSE_COLUMN: Readonly<Record<RunCause, number>> = {
  'no-answer': 0,
  'corrupt-answer': 1,
  'line-noise': 2,
  'link-failure': 3,
  closed: 4,
  other: 4,
};

function countsOf([runs, ok, partial, failed, noAnswer, corruptAnswer, lineNoise, linkFailure, other]: CountsRow): JobRunCounts {
  return { runs, ok, partial, failed, noAnswer, corruptAnswer, lineNoise, linkFailure, other };
}

export class HealthCounter {
  private readonly upsert: Statement<number[], CountsRow>;
  private readonly jobRows: Statement<[], [string, string, ...CountsRow]>;
  private readonly latencyRows: Statement<[], [string, number, number]>;

  constructor(db: Database) {
    this.upsert = db
      .prepare<number[], CountsRow>(
        `INSERT INTO job_health (meter_id, job_id, runs, ok, partial, failed, no_answer, corrupt_answer, line_noise, link_failure, other)
         VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (meter_id, job_id) DO UPDATE SET
           runs = runs + 1, ok = ok + excluded.ok, partial = partial + excluded.partial, failed = failed + excluded.failed,
           no_answer = no_answer + excluded.no_answer, corrupt_answer = corrupt_answer + excluded.corrupt_answer,
           line_noise = line_noise + excluded.line_noise, link_failure = link_failure + excluded.link_failure, other = other + excluded.other
         RETURNING runs, ok, partial, failed, no_answer, corrupt_answer, line_noise, link_failure, other`,
      )
      .raw(true);
    this.jobRows = db
      .prepare<[], [string, string, ...CountsRow]>(
        `SELECT m.name, j.name, h.runs, h.ok, h.partial, h.failed, h.no_answer, h.corrupt_answer, h.line_noise, h.link_failure, h.other
           FROM job_health h JOIN meters m ON m.id = h.meter_id JOIN jobs j ON j.id = h.job_id ORDER BY m.name, j.name`,
      )
      .raw(true);
    this.latencyRows = db
      .prepare<[], [string, number, number]>('SELECT s.name, l.latency_ms, l.confirmed_at FROM sink_latency l JOIN sinks s ON s.id = l.sink_id ORDER BY s.name')
      .raw(true);
  }

  /** Counts the run (inside its transaction) and returns its meter's job's counts with it. */
  count(meterId: number, jobId: number, run: JobRunInput): JobRunCounts {
    const column = run.outcome === 'ok' ? -1 : CAUSE_COLUMN[run.cause ?? 'other'];
    const causes = [0, 1, 2, 3, 4].map((index) => (index === column ? 1 : 0));
    const row = this.upsert.get(meterId, jobId, run.outcome === 'ok' ? 1 : 0, run.outcome === 'partial' ? 1 : 0, run.outcome === 'failed' ? 1 : 0, ...causes) as CountsRow;
    return countsOf(row);
  }

  read(): HealthStatus {
    return {
      jobs: this.jobRows.all().map(([meter, job, ...counts]) => ({ meter, job, counts: countsOf(counts) })),
      sinks: this.latencyRows.all().map(([sink, latencyMs, confirmedAt]) => ({ sink, latencyMs, confirmedAt: new Date(confirmedAt) })),
    };
  }
}
