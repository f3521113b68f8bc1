// Runs one job on one meter: reads its registers in as few exchanges as the protocol allows,
// stamps every reading with the tick's time, and records the run — complete, partial or
// failed — in the store in one transaction. The daemon carries on whatever happens; each
// outcome is logged once, here, where it is decided.

import { MeterError } from '../meter/errors.js';
import type { Logger } from '../log/logger.js';
import { registerById, shownValue, type RegisterReading } from '../registers/index.js';
import { StoreError, type JobRunInput, type RunCause } from '../store/index.js';
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
export const MAX_UNCOMMITTED_RUNS = 5_000;

/** What the store did not take: runs (and their readings) still waiting in memory. */
export interface UnstoredRuns {
  readonly runs: number;
  readonly readings: number;
}

export interface JobRunnerOptions {
  readonly recorder: JobRunRecorder;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** How many refused runs wait in memory before the oldest is dropped. */
  readonly maxUncommittedRuns?: number;
  /**
   * Called once when the store refuses a run for good (a damaged or read-only database):
   * retrying cannot help, so the daemon stops instead of reading into memory forever.
   */
  readonly onStoreFailure?: (error: unknown) => void;
}

/** 'unstorable': the store failed for good; the run is kept only to be counted at the stop. */
type CommitResult = 'stored' | 'waiting' | 'unstorable' | 'dropped';

export class JobRunner {
  private readonly recorder: JobRunRecorder;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly maxUncommittedRuns: number;
  private readonly onStoreFailure: (error: unknown) => void;
  private readonly running = new Map<string, Promise<JobRunOutcome>>();
  private readonly uncommitted: JobRunInput[] = [];
  /** Runs the store refused as such (a row it can never hold): dropped, not retried. */
  private readonly dropped = new WeakSet<JobRunInput>();
  private commitFailing = false;
  private storeFailed = false;
  /** Set by stopping(): what cut the runs in flight short, for their records. */
  private stoppedBy: string | null = null;
  /** After close() nothing is stored or logged any more: the store is gone. */
  private closed = false;

  constructor(options: JobRunnerOptions) {
    this.recorder = options.recorder;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    this.maxUncommittedRuns = options.maxUncommittedRuns ?? MAX_UNCOMMITTED_RUNS;
    this.onStoreFailure = options.onStoreFailure ?? (() => undefined);
  }

  /** Starts a run unless the previous run of this job on this meter is still going. */
  run(job: JobDefinition, session: MeterSession, tick: Date): Promise<JobRunOutcome> {
    if (this.stoppedBy !== null || this.closed) return Promise.resolve('skipped');
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

  /** Runs in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Runs read but not stored, waiting in memory for the store. */
  get unstored(): UnstoredRuns {
    return { runs: this.uncommitted.length, readings: this.uncommitted.reduce((sum, run) => sum + run.readings.length, 0) };
  }

  /**
   * The daemon is stopping (`by` names why: "SIGTERM"): no new run starts, and a run whose
   * client is closed under it is recorded as cut short by the stop, not as a meter failure.
   */
  stopping(by: string): void {
    this.stoppedBy = by;
  }

  /** Tries once more to store the runs that wait, then stores and logs nothing more; returns what is left. */
  close(): UnstoredRuns {
    if (!this.closed && this.uncommitted.length > 0 && !this.storeFailed) this.flush();
    this.closed = true;
    return this.unstored;
  }

  private async execute(job: JobDefinition, session: MeterSession, tick: Date): Promise<JobRunOutcome> {
    const started = performance.now();
    let readings: ReadonlyMap<number, RegisterReading> = new Map();
    let missing: readonly number[] = [];
    let unread: readonly number[] = [];
    let failure: MeterError | null = null;
    let begun = true;
    await session.exclusive(async () => {
      // A run that waited for its meter while the daemon began to stop does not start.
      if (this.stoppedBy !== null) {
        begun = false;
        return;
      }
      try {
        if (session.serial === null) session.serial = await session.client.getSerialNo();
        ({ readings, missing } = await session.client.readRegisters(job.registerIds));
      } catch (error) {
        if (!(error instanceof MeterError)) throw error;
        failure = error;
        if (error.partial) ({ readings, missing, unread } = error.partial);
      }
    });
    if (this.closed || !begun) return 'skipped';
    const meterFailure = failure as MeterError | null;
    const cutByStop = meterFailure?.code === 'closed' && this.stoppedBy !== null;
    if (cutByStop && readings.size === 0) {
      this.logger.debug({ meter: session.name, job: job.name }, 'job not run: stopping');
      return 'skipped';
    }
    const noneAnswered = meterFailure === null && readings.size === 0 && missing.length > 0;
    const outcome = cutByStop ? 'partial' : noneAnswered ? 'failed' : meterFailure === null ? 'ok' : readings.size > 0 ? 'partial' : 'failed';
    const error = cutByStop
      ? `stopped by ${this.stoppedBy ?? 'the stop'} before reading ${registerList(unread)}; the next run reads them`
      : noneAnswered
        ? `the meter has none of the job's registers (${registerList(missing)}): check the meter's model and the job's registers`
        : (meterFailure?.message ?? null);
    // Decided with the outcome: a run cut short by the stop is 'closed', one the meter answered
    // with none of its registers 'other', a failed read the client's code.
    const cause: RunCause | null = outcome === 'ok' ? null : cutByStop ? 'closed' : (meterFailure?.code ?? 'other');
    const committed = this.commit({
      meter: session.name,
      model: session.model,
      meterSerial: session.serial,
      job: job.name,
      readAt: tick,
      finishedAt: this.now(),
      outcome,
      error,
      cause,
      missing,
      readings: [...readings.values()],
    });
    const fields = { meter: session.name, job: job.name, readings: readings.size, ms: Math.round(performance.now() - started), ...(readings.size > 0 && { values: loggedValues(readings.values()) }) };
    const notStored = committed === 'stored' ? {} : { stored: false, waiting: this.uncommitted.length };
    const unstoredNote = committed === 'stored' ? '' : committed === 'waiting' ? ', not yet stored' : ', not stored';
    if (cutByStop) this.logger.info({ ...fields, ...notStored, unread }, `job run cut short by the stop${unstoredNote}: ${error ?? ''}`);
    else if (error !== null) this.logger.warn({ ...fields, ...notStored, ...(meterFailure ? { err: meterFailure } : { missing }) }, `job run ${outcome}${unstoredNote}: ${error}`);
    else if (committed !== 'stored') this.logger.warn({ ...fields, ...notStored }, `job run read${unstoredNote}`);
    else if (missing.length > 0) this.logger.info({ ...fields, missing }, 'job run ok; the meter does not have some registers');
    else this.logger.info(fields, 'job run ok');
    return outcome;
  }

  /** Stores the run; if the store refuses, keeps it (bounded) and tries again with the next run. */
  private commit(run: JobRunInput): CommitResult {
    this.uncommitted.push(run);
    if (this.storeFailed) return 'unstorable';
    this.flush();
    if (!this.uncommitted.includes(run)) return this.dropped.delete(run) ? 'dropped' : 'stored';
    if (this.storeFailed) return 'unstorable';
    if (this.uncommitted.length > this.maxUncommittedRuns) {
      const oldest = this.uncommitted.shift() as JobRunInput;
      this.logger.error(
        { meter: oldest.meter, job: oldest.job, readAt: oldest.readAt, readings: oldest.readings.length, waiting: this.uncommitted.length },
        `dropped the oldest unstored job run: the store has refused writes for too long (more than ${this.maxUncommittedRuns} runs wait)`,
      );
      if (oldest === run) return 'dropped';
    }
    return 'waiting';
  }

  /** Stores the waiting runs, oldest first, until the store refuses one. */
  private flush(): void {
    let stored = 0;
    while (this.uncommitted.length > 0) {
      const next = this.uncommitted[0] as JobRunInput;
      try {
        this.recorder.recordJobRun(next);
        this.uncommitted.shift();
        stored++;
      } catch (error) {
        if (error instanceof StoreError && (error.code === 'constraint' || error.code === 'invalid-input')) {
          // This run can never be stored; the ones behind it can.
          this.uncommitted.shift();
          this.dropped.add(next);
          this.logger.error({ err: error, meter: next.meter, job: next.job, readAt: next.readAt, readings: next.readings.length }, `the store refused a job run; its readings are lost: ${error.message}`);
          continue;
        }
        if (!(error instanceof StoreError) || !error.retryable) {
          this.storeFailed = true;
          this.onStoreFailure(error);
          return;
        }
        if (!this.commitFailing) {
          this.logger.error({ err: error, waiting: this.uncommitted.length }, 'cannot store readings; keeping them in memory and retrying with the next run');
          this.commitFailing = true;
        }
        return;
      }
    }
    if (this.commitFailing) {
      this.logger.info({ stored }, `the store accepts readings again: stored ${stored} job runs, those that waited first`);
      this.commitFailing = false;
    }
  }
}

/**
 * A run's values for its log line, in the order read, by register name: "74.561 MWh", "2.6 kW",
 * dates as dates ("2026-11-17"). A terminal shows the first of them in the line's message.
 */
export function loggedValues(readings: Iterable<RegisterReading>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const reading of readings) {
    values[reading.name ?? `register_${reading.registerId}`] = shownValue(reading);
  }
  return values;
}

/** Register ids as names where the catalogue knows them: "heat_energy, power, register 9999". */
function registerList(ids: readonly number[]): string {
  return ids.map((id) => registerById(id)?.name ?? `register ${id}`).join(', ');
}
