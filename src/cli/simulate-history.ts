// `simulate --history DAYS --config FILE`: the command's side of src/app/simulate-history.ts —
// options, the progress line on a terminal, the summary, and exit codes.

import { SingleBar } from 'cli-progress';
import { HistoryError, MAX_HISTORY_DAYS, MAX_HISTORY_RUNS, recordHistory, type HistoryCadence, type MeterHistoryResult } from '../app/simulate-history.js';
import { createLogger } from '../log/logger.js';
import { localTime } from './status.js';
import { loadConfigOrExit } from './config-option.js';
import { CliError, ExitCode } from './exit-codes.js';

export interface HistoryCommandOptions {
  readonly history: number;
  readonly config: string;
  readonly configGiven: boolean;
  readonly meter?: string;
  readonly every: readonly string[];
  readonly force: boolean;
  readonly ifEmpty: boolean;
}

export const historyHelp = `
With --history DAYS, nothing is served: DAYS of simulated history ending now are recorded into
the config's store, as if the daemon had read the simulator all that time: each job of the
config on its cron schedule (local time, as the daemon's), every reading through the real codec,
each run queued for every configured sink (sent by the next \`kamstrup-logger run\`; this command
touches no network) and marked simulated (status says so). Each meter is simulated with its
sim:// URL's seed, serial and energy_unit (a real meter: a MULTICAL 402 with the serial the store
knows); its counters rise with the modelled use and end where the live simulator continues.

A job every 10 s over a year is 3 million runs: at most ${MAX_HISTORY_RUNS.toLocaleString('en')} runs are recorded in one go
(minutes on a small machine); --every 5m keeps of each job at most one run per 5 minutes of the local day (its
first), --every statistics=1h one job's own. DAYS is at most ${MAX_HISTORY_DAYS}.

It refuses (exit 2) a store with real readings of a meter unless --force, and a store the daemon
is running on. Run again over simulated history, it appends after the newest simulated run.
--if-empty records nothing for a meter the store holds any run of (for npm start and compose).

Examples:
  kamstrup-logger simulate --history 365 --config kamstrup-logger.yaml --every 5m --every statistics=1h
  kamstrup-logger simulate --history 30 --config config/demo.yaml --if-empty`;

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `--every 5m`, `--every statistics=1h`: one for every job, or one job's. */
export function parseCadence(values: readonly string[]): HistoryCadence {
  let all: number | null = null;
  const byJob = new Map<string, number>();
  for (const value of values) {
    const equals = value.lastIndexOf('=');
    const job = equals < 0 ? null : value.slice(0, equals);
    const duration = equals < 0 ? value : value.slice(equals + 1);
    const match = DURATION.exec(duration.trim());
    const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
    if (!(ms >= 1000 && ms <= 86_400_000) || job === '') {
      throw new CliError(ExitCode.usage, `--every takes a duration from 1s to 24h such as 30s, 5m or 1h, optionally for one job (statistics=1h), not "${value}"`);
    }
    if (job === null) all = ms;
    else byJob.set(job, ms);
  }
  return { all, byJob };
}

export async function simulateHistory(options: HistoryCommandOptions): Promise<void> {
  const cadence = parseCadence(options.every);
  const { config } = loadConfigOrExit(options.config, options.configGiven);
  const logger = createLogger({ level: 'error', pretty: true, destination: process.stderr });
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'history {bar} {percentage}% | {value}/{total} runs | {speed} runs/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true })
    : null;
  const started = performance.now();
  let results: readonly MeterHistoryResult[];
  try {
    results = await recordHistory({
      config,
      days: options.history,
      ...(options.meter !== undefined && { meter: options.meter }),
      cadence,
      force: options.force,
      ifEmpty: options.ifEmpty,
      now: new Date(),
      logger,
      onProgress: ({ done, total }) => {
        if (!bar) return;
        if (bar.getTotal() !== total) bar.start(total, 0, { speed: 0 });
        bar.update(done, { speed: Math.round(done / Math.max(0.001, (performance.now() - started) / 1000)) });
      },
    });
  } catch (error) {
    if (error instanceof HistoryError) throw new CliError(error.code === 'store-failed' ? ExitCode.failure : ExitCode.usage, error.message, { cause: error });
    throw error;
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  for (const result of results) process.stderr.write(`${summary(result, seconds)}\n`);
}

function summary(result: MeterHistoryResult, seconds: number): string {
  if (result.skipped !== null) return `history of ${result.meter}: nothing recorded: ${result.skipped}`;
  if (result.runs === 0 || result.from === null || result.to === null) return `history of ${result.meter}: nothing to record (no job tick since the newest simulated run)`;
  const days = (result.to.getTime() - result.from.getTime()) / 86_400_000;
  const incomplete = result.incomplete > 0 ? `; ${result.incomplete.toLocaleString('en')} runs incomplete (registers the simulated MULTICAL 402 does not have)` : '';
  return (
    `history of ${result.meter}: ${result.runs.toLocaleString('en')} runs, ${result.readings.toLocaleString('en')} readings over ${days.toFixed(1)} days ` +
    `(${localTime(result.from)} to ${localTime(result.to)}) in ${seconds.toFixed(1)} s, ${Math.round(result.runs / Math.max(seconds, 0.001)).toLocaleString('en')} runs/s; queued for every sink, marked simulated${incomplete}`
  );
}
