// `simulate --history`: days of the simulator's model recorded into the store as if the daemon
// had read them. Each configured job's cron ticks in the past, in the time zone the schedules
// use (the process's), each read from the simulator's in-process link through the real codec
// and recorded by the daemon's JobRunner into the daemon's kind of store (queued and rendered
// for every configured sink), marked simulated. The sinks only render: no network is touched.

import { JobRunner } from '../acquisition/job-runner.js';
import { MeterSession } from '../acquisition/meter-session.js';
import type { AppConfig, JobConfig, MeterConfig } from '../config/index.js';
import { CronTimes } from '../config/schedule.js';
import { dayAfter, Zone } from '../time/zone.js';
import type { Logger } from '../log/logger.js';
import { MeterClient } from '../meter/client.js';
import { buildSimulator, SimulatorOptionError } from '../simulator/options.js';
import { SimulatedLink } from '../simulator/simulated-link.js';
import { lockDatabase, type JobRunInput, type MeterHistory, type Store } from '../store/index.js';
import { createSinks, openRecordingStore } from './sinks.js';

const DAY_MS = 86_400_000;
/** Minutes of recording on a small machine; a job every 10 s over a year would be 3.2 million. */
export const MAX_HISTORY_RUNS = 1_000_000;
/** The counters of the model go back a year before the current one: far enough for a year of history. */
export const MAX_HISTORY_DAYS = 366;
/** Runs per transaction, and between looks at the event loop (a signal, the progress line). */
const RUNS_PER_SLICE = 500;

export type HistoryErrorCode = 'real-readings' | 'too-many-runs' | 'unknown-meter' | 'unknown-job' | 'bad-simulator-option' | 'store-failed';

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  readonly code: HistoryErrorCode;

  constructor(code: HistoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** `--every`: per job (or for every job without its own), at most one run in each such slot of the local day. */
export interface HistoryCadence {
  readonly all: number | null;
  readonly byJob: ReadonlyMap<string, number>;
}

export interface HistoryProgress {
  readonly done: number;
  readonly total: number;
  readonly readings: number;
}

export interface MeterHistoryResult {
  readonly meter: string;
  readonly runs: number;
  readonly readings: number;
  /** Runs the simulator did not answer in full (registers its model lacks). */
  readonly incomplete: number;
  /** The history recorded: after `from`, up to `to`; null when nothing was recorded. */
  readonly from: Date | null;
  readonly to: Date | null;
  /** Why nothing was recorded for this meter; null when it was. */
  readonly skipped: string | null;
}

export interface HistoryOptions {
  readonly config: Pick<AppConfig, 'meters' | 'jobs' | 'storage' | 'sinks' | 'consumption'>;
  readonly days: number;
  /** Only this meter; every configured meter when absent. */
  readonly meter?: string;
  readonly cadence: HistoryCadence;
  /** Record even where the store holds real readings of the meter. */
  readonly force: boolean;
  /** Record nothing for a meter the store holds any run of (`npm start`, the compose demo). */
  readonly ifEmpty: boolean;
  readonly now: Date;
  /** Logs what the runs log at warn and above; a run's own "job run ok" is not wanted 100 000 times. */
  readonly logger: Logger;
  readonly onProgress?: (progress: HistoryProgress) => void;
}

interface PlannedMeter {
  readonly meter: MeterConfig;
  readonly jobs: readonly JobConfig[];
  /** Exclusive. */
  readonly fromMs: number;
  readonly serial: number | null;
}

export async function recordHistory(options: HistoryOptions): Promise<readonly MeterHistoryResult[]> {
  const { config, now } = options;
  const meters = selectMeters(config.meters, options.meter);
  checkCadence(options.cadence, config.jobs);
  const sinks = createSinks(config);
  const store = openRecordingStore(config.storage.path, config, sinks);
  try {
    // The daemon's claim: a daemon writing the store now would interleave live runs with these.
    const lock = lockDatabase(config.storage.path);
    try {
      // The schedules' zone, as the daemon's scheduler uses it (time_zone, TZ by default).
      const zone = new Zone(config.consumption.timeZone);
      const results: MeterHistoryResult[] = [];
      const planned: PlannedMeter[] = [];
      for (const meter of meters) {
        const held = store.meterHistory(meter.name);
        const skipped = skipReason(meter.name, held, options);
        const jobs = config.jobs.filter((job) => job.meters.includes(meter.name));
        const fromMs = Math.max(now.getTime() - options.days * DAY_MS, held.newestSimulatedReadAt?.getTime() ?? -Infinity);
        if (skipped !== null) results.push({ meter: meter.name, runs: 0, readings: 0, incomplete: 0, from: null, to: null, skipped });
        else planned.push({ meter, jobs, fromMs, serial: held.serial });
      }
      const total = planned.reduce((sum, plan) => sum + countTicks(plan, now.getTime(), options.cadence, zone), 0);
      if (total > MAX_HISTORY_RUNS) {
        throw new HistoryError(
          'too-many-runs',
          `${options.days} days of the configured schedules are ${total.toLocaleString('en')} job runs, more than ${MAX_HISTORY_RUNS.toLocaleString('en')}: ` +
            'give the history a coarser cadence, e.g. --every 5m (a job at most every 5 minutes; --every statistics=1h for one job), or fewer days',
        );
      }
      let done = 0;
      let readings = 0;
      for (const plan of planned) {
        const result = await recordMeter(plan, store, zone, options, total, () => ({ done, readings }), (runs, read) => {
          done += runs;
          readings += read;
        });
        results.push(result);
      }
      options.onProgress?.({ done, total, readings });
      return results;
    } finally {
      lock.release();
    }
  } finally {
    store.close();
    await Promise.all(sinks.map((sink) => sink.close()));
  }
}

function selectMeters(meters: readonly MeterConfig[], name: string | undefined): readonly MeterConfig[] {
  if (name === undefined) return meters;
  const meter = meters.find((m) => m.name === name);
  if (!meter) throw new HistoryError('unknown-meter', `no meter "${name}" in the config (configured: ${meters.map((m) => m.name).join(', ')})`);
  return [meter];
}

function checkCadence(cadence: HistoryCadence, jobs: readonly JobConfig[]): void {
  for (const name of cadence.byJob.keys()) {
    if (!jobs.some((job) => job.name === name)) throw new HistoryError('unknown-job', `--every ${name}=…: no job "${name}" in the config (configured: ${jobs.map((j) => j.name).join(', ')})`);
  }
}

function skipReason(meter: string, held: MeterHistory, options: HistoryOptions): string | null {
  const stored = held.realRuns + held.simulatedRuns;
  if (options.ifEmpty && stored > 0) return `the store holds ${runsText(stored)} of meter ${meter} already (--if-empty)`;
  if (held.realRuns > 0 && !options.force) {
    throw new HistoryError(
      'real-readings',
      `the store ${options.config.storage.path} holds ${runsText(held.realRuns)} read from meter ${meter}: simulated history would be mixed into real data ` +
        '(consumption, statistics and InfluxDB series would show made-up values beside the meter\'s). ' +
        'Point storage.path at a new file for a demo, or give --force to add the history all the same (its runs are marked simulated).',
    );
  }
  return null;
}

function runsText(count: number): string {
  return `${count.toLocaleString('en')} job run${count === 1 ? '' : 's'}`;
}

/** Each job's ticks on a local day within (fromMs, toMs], thinned to the cadence, merged in time order (config order within a tick). */
function ticksOfDay(jobs: readonly { job: JobConfig; times: CronTimes; everyMs: number | null }[], day: Parameters<Zone['startOf']>[0], fromMs: number, toMs: number, zone: Zone): { tick: number; job: JobConfig }[] {
  const dayStart = zone.startOf(day);
  const ticks: { tick: number; job: JobConfig; order: number }[] = [];
  jobs.forEach(({ job, times, everyMs }, order) => {
    let lastSlot = -1;
    for (const tick of times.ticksOn(day)) {
      if (tick <= fromMs || tick > toMs) continue;
      if (everyMs !== null) {
        const slot = Math.floor((tick - dayStart) / everyMs);
        if (slot === lastSlot) continue;
        lastSlot = slot;
      }
      ticks.push({ tick, job, order });
    }
  });
  return ticks.sort((a, b) => a.tick - b.tick || a.order - b.order);
}

function* historyTicks(plan: PlannedMeter, toMs: number, cadence: HistoryCadence, zone: Zone): Generator<{ tick: number; job: JobConfig }[]> {
  const jobs = plan.jobs.map((job) => ({ job, times: new CronTimes(job.cron, zone), everyMs: cadence.byJob.get(job.name) ?? cadence.all }));
  try {
    if (jobs.length === 0 || plan.fromMs >= toMs) return;
    for (let day = zone.localDay(plan.fromMs); zone.startOf(day) <= toMs; day = dayAfter(day)) yield ticksOfDay(jobs, day, plan.fromMs, toMs, zone);
  } finally {
    for (const { times } of jobs) times.dispose();
  }
}

function countTicks(plan: PlannedMeter, toMs: number, cadence: HistoryCadence, zone: Zone): number {
  let count = 0;
  for (const ticks of historyTicks(plan, toMs, cadence, zone)) count += ticks.length;
  return count;
}

async function recordMeter(
  plan: PlannedMeter,
  store: Store,
  zone: Zone,
  options: HistoryOptions,
  total: number,
  sofar: () => { done: number; readings: number },
  add: (runs: number, readings: number) => void,
): Promise<MeterHistoryResult> {
  const { meter } = plan;
  const nowMs = options.now.getTime();
  // The simulator's clock is the tick being read; its counters rise from the history's start
  // and meet, at this year's start, those a simulator started now has.
  let simulatedNow = plan.fromMs;
  const url = meter.link.kind === 'sim' ? meter.link : null;
  // A real meter given --force keeps its own serial number in the history's series.
  const serialNumber = url?.serialNumber ?? plan.serial;
  let simulator;
  try {
    simulator = buildSimulator(
      {
        // A clean line: faults, pacing and turnaround are for the live simulator.
        echo: false,
        pace: false,
        faults: [],
        ...(url?.seed !== undefined && { seed: url.seed }),
        ...(url?.energyUnit !== undefined && { energyUnit: url.energyUnit }),
        ...(serialNumber !== null && { serialNumber }),
      },
      { now: () => simulatedNow, baseYearOf: nowMs },
    );
  } catch (error) {
    if (error instanceof SimulatorOptionError) throw new HistoryError('bad-simulator-option', `meter ${meter.name}: ${error.message}`, { cause: error });
    throw error;
  }
  const client = new MeterClient(new SimulatedLink(simulator.meter, simulator.line, `the simulated ${meter.model} of meter ${meter.name}`));
  const session = new MeterSession(meter.name, meter.model, client);
  let runs = 0;
  let readings = 0;
  let incomplete = 0;
  let first: number | null = null;
  let last: number | null = null;
  // A slice of runs per transaction: recorded as the daemon records each, without a commit each.
  let slice: JobRunInput[] = [];
  const flush = (): void => {
    if (slice.length === 0) return;
    const runsOfSlice = slice;
    slice = [];
    let recorded;
    try {
      recorded = store.recordJobRuns(runsOfSlice);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const at = runsOfSlice[0]?.readAt.toISOString() ?? '';
      throw new HistoryError('store-failed', `the store refused the runs of meter ${meter.name} from ${at} on, so the history stops there (${runs.toLocaleString('en')} runs before them are recorded): ${detail}`, { cause: error });
    }
    const read = recorded.reduce((sum, run) => sum + run.readings, 0);
    runs += recorded.length;
    readings += read;
    add(recorded.length, read);
  };
  const runner = new JobRunner({
    recorder: { recordJobRun: (run) => slice.push({ ...run, simulated: true }) },
    logger: options.logger,
    now: () => new Date(simulatedNow),
  });
  try {
    for (const ticks of historyTicks(plan, nowMs, options.cadence, zone)) {
      for (const { tick, job } of ticks) {
        simulatedNow = tick;
        const outcome = await runner.run(job, session, new Date(tick));
        if (outcome !== 'ok') incomplete++;
        first ??= tick;
        last = tick;
        if (slice.length === RUNS_PER_SLICE) {
          flush();
          const progress = sofar();
          options.onProgress?.({ done: progress.done, total, readings: progress.readings });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    flush();
  } finally {
    runner.close();
    await client.close();
  }
  return { meter: meter.name, runs, readings, incomplete, from: first === null ? null : new Date(plan.fromMs), to: last === null ? null : new Date(last), skipped: null };
}
