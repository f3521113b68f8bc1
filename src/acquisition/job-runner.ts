// Runs one job on one meter: reads its registers in as few exchanges as the protocol allows,
// stamps every reading with the tick's time, and records the run — complete, partial or
// failed — in the store in one transaction. The daemon carries on whatever happens; each
// outcome is logged once, here, where it is decided.

import { MeterError } from '../meter/errors.js';
import type { Logger } from '../log/logger.js';
import type { RegisterReading } from '../registers/index.js';
import type { JobRunInput } from '../store/index.js';
import type { MeterSession } from './meter-session.js';

export interface JobDefinition {
  readonly name: string;
  readonly cron: string;
  readonly registerIds: readonly number[];
  readonly meters: readonly string[];
}

export interface JobRunRecorder {
  recordJobRun(run: JobRunInput): unknown;
}

export type JobRunOutcome = 'ok' | 'partial' | 'failed' | 'skipped';

/** Runs whose commit failed (disk full, database locked) wait here and are retried first. */
const MAX_UNCOMMITTED_RUNS = 5_000;

export class JobRunner {
  private readonly recorder: JobRunRecorder;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly running = new Map<string, Promise<JobRunOutcome>>();
  private readonly uncommitted: JobRunInput[] = [];
  private commitFailing = false;

  constructor(options: { recorder: JobRunRecorder; logger: Logger; now?: () => Date }) {
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
  }

  /** Starts a run unless the previous run of this job on this meter is still going. */
  run(job: JobDefinition, session: MeterSession, tick: Date): Promise<JobRunOutcome> {
    const key = `${job.name}\u0000${session.name}`;
    if (this.running.has(key)) {
      this.logger.warn({ meter: session.name, job: job.name, tick }, 'job skipped: its previous run on this meter is still going');
      return Promise.resolve('skipped');
    }
    const run = this.execute(job, session, tick).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Resolves once every run in flight has been recorded. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async execute(job: JobDefinition, session: MeterSession, tick: Date): Promise<JobRunOutcome> {
    const started = performance.now();
    let readings: ReadonlyMap<number, RegisterReading> = new Map();
    let missing: readonly number[] = [];
    let failure: MeterError | null = null;
    await session.exclusive(async () => {
      try {
        if (session.serial === null) session.serial = await session.client.getSerialNo();
        ({ readings, missing } = await session.client.readRegisters(job.registerIds));
      } catch (error) {
        if (!(error instanceof MeterError)) throw error;
        failure = error;
        if (error.partial) ({ readings, missing } = error.partial);
      }
    });
    if ((failure as MeterError | null)?.code === 'closed' && readings.size === 0) {
      this.logger.debug({ meter: session.name, job: job.name }, 'job not run: stopping');
      return 'skipped';
    }
    const outcome = failure === null ? 'ok' : readings.size > 0 ? 'partial' : 'failed';
    this.commit({
      meter: session.name,
      model: session.model,
      meterSerial: session.serial,
      job: job.name,
      readAt: tick,
      finishedAt: this.now(),
      outcome,
      error: (failure as MeterError | null)?.message ?? null,
      missing,
      readings: [...readings.values()],
    });
    const fields = { meter: session.name, job: job.name, readings: readings.size, ms: Math.round(performance.now() - started) };
    if (failure) this.logger.warn({ ...fields, err: failure }, `job run ${outcome}: ${(failure as MeterError).message}`);
    else if (missing.length > 0) this.logger.info({ ...fields, missing }, 'job run ok; the meter does not have some registers');
    else this.logger.info(fields, 'job run ok');
    return outcome;
  }

  /** Stores the run; if the store refuses, keeps it (bounded) and tries again with the next run. */
  private commit(run: JobRunInput): void {
    this.uncommitted.push(run);
    while (this.uncommitted.length > 0) {
      const next = this.uncommitted[0] as JobRunInput;
      try {
        this.recorder.recordJobRun(next);
      } catch (error) {
        if (!this.commitFailing) {
          this.logger.error({ err: error, waiting: this.uncommitted.length }, 'cannot store readings; keeping them in memory and retrying with the next run');
          this.commitFailing = true;
        }
        if (this.uncommitted.length > MAX_UNCOMMITTED_RUNS) {
          const dropped = this.uncommitted.shift() as JobRunInput;
          this.logger.error({ meter: dropped.meter, job: dropped.job, readAt: dropped.readAt }, 'dropped the oldest unstored job run: the store has refused writes for too long');
        }
        return;
      }
      this.uncommitted.shift();
      if (this.commitFailing) {
        this.logger.info({ stored: 1, waiting: this.uncommitted.length }, 'the store accepts readings again');
        this.commitFailing = false;
      }
    }
  }
}
