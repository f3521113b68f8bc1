// Writing a job run: the run row, its readings and their place in each enabled sink's backlog in
// one transaction, so a crash or a refused row leaves either the whole run or nothing.

import type { Database, Statement } from 'better-sqlite3';
import type { RegisterReading } from '../registers/index.js';
import type { ConsumptionKeeper } from './consumption.js';
import { StoreError } from './errors.js';
import type { HealthCounter } from './health.js';
import { markEnabledSinks, type Outbox } from './outbox.js';
import { mantissaParameter } from './rows.js';
import type { EveryReadingRenderer, JobRunCounts, JobRunInput, KeyedPayload, NewestValueRenderer, PayloadRenderer, PayloadRun, RecordedRun, RunHealth } from './types.js';

const outcomes: ReadonlySet<string> = new Set(['ok', 'partial', 'failed']);

function assertValidRun(run: JobRunInput, path: string): void {
  const problems: string[] = [];
  if (run.meter === '') problems.push('the meter name is empty');
  if (run.job === '') problems.push('the job name is empty');
  if (!Number.isFinite(run.readAt.getTime())) problems.push('readAt is not a valid date');
  if (!Number.isFinite(run.finishedAt.getTime())) problems.push('finishedAt is not a valid date');
  if (!outcomes.has(run.outcome)) problems.push(`outcome "${run.outcome}" is not ok, partial or failed`);
  if (!run.missing.every((id) => Number.isInteger(id))) problems.push('missing holds a register id that is not an integer');
  if (run.outcome === 'ok' && run.cause != null) problems.push(`an ok run has no cause of failure, not "${run.cause}"`);
  if (problems.length > 0) {
    throw new StoreError('invalid-input', `job run ${run.job} on ${run.meter} not recorded in ${path}: ${problems.join('; ')}.`, { path });
  }
}

interface MeterRow {
  readonly id: number;
  readonly model: string;
  readonly serial: number | null;
}

export class RunWriter {
  private readonly insertRun: Statement;
  private readonly insertReading: Statement;
  private readonly upsertMeter: Statement<[string, string, number | null], MeterRow>;
  private readonly upsertJob: Statement<[string], { id: number }>;
  private readonly upsertRegister: Statement<[number, string | null], { name: string | null }>;
  private readonly upsertUnit: Statement;
  // Lookup rows already in the database, so a run normally costs no lookup-table writes.
  // Cleared when a transaction rolls back: it may have inserted rows that are gone again.
  private readonly meters = new Map<string, MeterRow>();
  private readonly jobs = new Map<string, number>();
  private readonly registerNames = new Map<number, string | null>();
  private readonly unitSymbols = new Map<number, string>();
  private readonly write: (run: JobRunInput) => RecordedRun;
  /** Whether the sinks' enabled flags describe this process yet (set once its first run committed). */
  private sinksMarked = false;
  /** The sinks this process delivers to, from its own config (not the database's flags, which another process may have set). */
  private readonly enabledSinkIds: readonly number[];
  private readonly sinkNames: ReadonlyMap<number, string>;
  /** Whether a renderer sends every run, and so the health that goes with it. */
  private readonly rendersHealth: boolean;

  constructor(
    private readonly db: Database,
    private readonly path: string,
    /** The sinks this process delivers to, by name. */
    enabledSinks: ReadonlyMap<string, number>,
    private readonly outbox: Pick<Outbox, 'queue' | 'queueNewest' | 'sentPayload' | 'backlog' | 'deliveryLatencies'>,
    /** By sink id: the sinks whose payloads are rendered as their runs are written. */
    private readonly renderers: ReadonlyMap<number, PayloadRenderer>,
    /** Adds each run to the consumption figures, in the run's transaction. */
    private readonly consumption: ConsumptionKeeper,
    /** Counts each run by outcome and cause, in the run's transaction. */
    private readonly healthCounter: HealthCounter,
  ) {
    this.enabledSinkIds = [...enabledSinks.values()];
    this.sinkNames = new Map([...enabledSinks].map(([name, id]) => [id, name]));
    this.rendersHealth = [...renderers.values()].some((renderer) => renderer.delivery !== 'newest-per-key');
    this.insertRun = db.prepare(
      `INSERT INTO runs (meter_id, job_id, read_at, finished_at, outcome, error, missing, reading_count, simulated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertReading = db.prepare(
      `INSERT INTO readings (run_id, register_id, value, unit_code, mantissa, exponent, negative, text)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertMeter = db.prepare(
      `INSERT INTO meters (name, model, serial) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET model = excluded.model, serial = coalesce(excluded.serial, serial)
       RETURNING id, model, serial`,
    );
    this.upsertJob = db.prepare('INSERT INTO jobs (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id');
    this.upsertRegister = db.prepare(
      'INSERT INTO registers (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = coalesce(excluded.name, name) RETURNING name',
    );
    this.upsertUnit = db.prepare('INSERT INTO units (code, symbol) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET symbol = excluded.symbol');
    this.write = db.transaction((run: JobRunInput) => this.writeRun(run)).immediate;
  }

  record(run: JobRunInput): RecordedRun {
    assertValidRun(run, this.path);
    try {
      const recorded = this.write(run);
      this.sinksMarked = true;
      return recorded;
    } catch (error) {
      this.meters.clear();
      this.jobs.clear();
      this.registerNames.clear();
      this.unitSymbols.clear();
      this.consumption.forget();
      throw error;
    }
  }

  private writeRun(run: JobRunInput): RecordedRun {
    if (!this.sinksMarked) markEnabledSinks(this.db, this.enabledSinkIds);
    const meter = this.meter(run);
    const jobId = this.jobId(run.job);
    const runId = Number(
      this.insertRun.run(
        meter.id,
        jobId,
        run.readAt.getTime(),
        run.finishedAt.getTime(),
        run.outcome,
        run.error,
        run.missing.length > 0 ? JSON.stringify(run.missing) : null,
        run.readings.length,
        run.simulated === true ? 1 : 0,
      ).lastInsertRowid,
    );
    let first = 0;
    let last = 0;
    for (const reading of run.readings) {
      this.ensureLookups(reading);
      last = Number(
        this.insertReading.run(
        runId,
        reading.registerId,
        reading.value,
        reading.unitCode,
        mantissaParameter(reading.raw.mantissa),
        reading.raw.exponent,
        reading.raw.negative ? 1 : 0,
        // Only date and time units may carry text; the table's CHECK refuses it elsewhere.
        reading.text ?? null,
        ).lastInsertRowid,
      );
      if (first === 0) first = last;
    }
    const consumption = this.consumption.record(meter.id, run);
    const counts = this.healthCounter.count(meter.id, jobId, run);
    // One transaction hands out consecutive ids, so the run's readings are the range first…last.
    if (run.readings.length > 0) {
      const rendered: PayloadRun = {
        meter: run.meter,
        model: run.model,
        serial: meter.serial,
        job: run.job,
        readAt: run.readAt,
        readings: run.readings,
        ...(consumption.figures.length > 0 && { consumption: consumption.figures }),
        // Before this run is queued: a sink that keeps up shows a backlog of 0.
        ...(this.rendersHealth && { health: this.health(run, counts) }),
      };
      for (const sinkId of this.enabledSinkIds) {
        const renderer = this.renderers.get(sinkId);
        if (renderer?.delivery === 'newest-per-key') this.outbox.queueNewest(sinkId, this.keyedPayloads(sinkId, renderer, rendered), run.readAt);
        else this.outbox.queue(sinkId, first, last, this.payload(renderer, rendered));
      }
    }
    return { runId, readings: run.readings.length, queued: run.readings.length * this.enabledSinkIds.length, outOfOrder: consumption.outOfOrder };
  }

  /** What the run carries of the logger's health: the counts, and each sink's backlog and newest latency. */
  private health(run: JobRunInput, counts: JobRunCounts): RunHealth {
    const latencies = this.outbox.deliveryLatencies();
    return {
      counts,
      durationMs: run.finishedAt.getTime() - run.readAt.getTime(),
      sinks: this.enabledSinkIds.map((sinkId) => {
        const { pending, oldestReadAt } = this.outbox.backlog(sinkId);
        return { sink: this.sinkNames.get(sinkId) ?? '', pending, oldestPendingReadAt: oldestReadAt === null ? null : new Date(oldestReadAt), latencyMs: latencies.get(sinkId) ?? null };
      }),
    };
  }

  private meter(run: JobRunInput): MeterRow {
    const known = this.meters.get(run.meter);
    // A serial of null means "not read this time", not "no serial": keep the one we know.
    if (known && known.model === run.model && (run.meterSerial === null || run.meterSerial === known.serial)) return known;
    const row = this.upsertMeter.get(run.meter, run.model, run.meterSerial) as MeterRow;
    this.meters.set(run.meter, row);
    return row;
  }

  /** What an every-reading sink will send for the run, '' for nothing; undefined when it renders at delivery. */
  private payload(renderer: EveryReadingRenderer | undefined, run: PayloadRun): string | undefined {
    if (!renderer) return undefined;
    try {
      return renderer.render(run) ?? '';
    } catch {
      // The run is recorded all the same. Delivery renders it again from the readings, and
      // reports there what fails.
      return undefined;
    }
  }

  /**
   * What a newest-per-key sink will send for the keys the run updates. A renderer that throws
   * (a bug: it holds what it cannot send) costs those keys this run's value, never the run.
   */
  private keyedPayloads(sinkId: number, renderer: NewestValueRenderer, run: PayloadRun): readonly KeyedPayload[] {
    try {
      return renderer.renderEntries(run, (key) => this.outbox.sentPayload(sinkId, key));
    } catch {
      return [];
    }
  }

  private jobId(job: string): number {
    const known = this.jobs.get(job);
    if (known !== undefined) return known;
    const { id } = this.upsertJob.get(job) as { id: number };
    this.jobs.set(job, id);
    return id;
  }

  private ensureLookups(reading: RegisterReading): void {
    const name = this.registerNames.get(reading.registerId);
    if (name === undefined || (reading.name !== null && reading.name !== name)) {
      const row = this.upsertRegister.get(reading.registerId, reading.name) as { name: string | null };
      this.registerNames.set(reading.registerId, row.name);
    }
    if (this.unitSymbols.get(reading.unitCode) !== reading.unit) {
      this.upsertUnit.run(reading.unitCode, reading.unit);
      this.unitSymbols.set(reading.unitCode, reading.unit);
    }
  }
}
