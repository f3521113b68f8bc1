// The acquisition daemon: the one place that knows every layer. Config in; meters, store,
// scheduler and retention wired together; a bounded stop on SIGTERM/SIGINT/SIGHUP (the runs in
// flight get a budget to finish, then the clients close, and every run read is stored or counted).

import { JobRunner } from '../acquisition/job-runner.js';
import { MeterSession } from '../acquisition/meter-session.js';
import { scheduleCron, type ScheduledTask } from '../acquisition/scheduler.js';
import type { AppConfig } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { lockDatabase } from '../store/index.js';
import { connectMeter } from './connect-meter.js';
import { createSinks, openRecordingStore } from './sinks.js';
import { Delivery } from '../delivery/delivery.js';

const DAY_MS = 86_400_000;
/** The whole stop stays under 5 s (systemd's and Docker's patience is longer, a user's is not). */
const RUN_STOP_BUDGET_MS = 3500;
/** Closing a client aborts its exchange in flight; its run is then recorded at once. */
const CLIENT_CLOSE_BUDGET_MS = 400;
const RECORD_AFTER_CLOSE_BUDGET_MS = 300;
const SINK_CLOSE_BUDGET_MS = 300;
/** Runs alongside the runs' budget: a write in flight gets a moment, its readings stay queued either way. */
const DELIVERY_STOP_GRACE_MS = 2000;

export interface DaemonOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Aborting stops the daemon; a string reason ("SIGTERM") names the stop in the records of runs it cuts short. */
  readonly signal: AbortSignal;
  /** Aborting while the daemon stops abandons what is left of the stop. */
  readonly force?: AbortSignal;
}

/** How the daemon ended; the command turns it into an exit code. */
export type DaemonExit =
  | { readonly kind: 'stopped' }
  /** Runs were read that the store did not take (a full disk, a damaged database). */
  | { readonly kind: 'failed' }
  /** A second signal cut the stop short. */
  | { readonly kind: 'forced'; readonly by: string };

export async function runDaemon({ config, logger, signal, force }: DaemonOptions): Promise<DaemonExit> {
  const sinks = createSinks(config);
  const store = openRecordingStore(config.storage.path, config, sinks);
  // One daemon per database, claimed once the file exists (the store creates it): a second one
  // would store every run twice and share the meters' lines. Readers (status, export) and
  // backfill, which reads no meter and shares the outbox by transactions, need no claim.
  let lock;
  try {
    lock = lockDatabase(config.storage.path);
  } catch (error) {
    store.close();
    throw error;
  }
  const sessions = new Map(
    config.meters.map((meter) => [
      meter.name,
      new MeterSession(
        meter.name,
        meter.model,
        connectMeter(meter.url, { responseTimeoutMs: meter.timeoutMs, retries: meter.retries }),
      ),
    ]),
  );
  // The parts log through a child that is silenced at the stop: nothing comes after "stopped",
  // not even a check or a write that answers late.
  const parts = logger.child({});
  let storeFailure: unknown = null;
  const storeFailed = new AbortController();
  const deliveries: Delivery[] = sinks.map((sink) => new Delivery({ sink, store, logger: parts }));
  let outOfOrderRuns = 0;
  const runner = new JobRunner({
    recorder: {
      // A committed run wakes the deliveries: new values leave at once, not at the next poll.
      recordJobRun: (run) => {
        const recorded = store.recordJobRun(run);
        for (const delivery of deliveries) delivery.wake();
        if (recorded.outOfOrder) {
          outOfOrderRuns++;
          parts.warn({ meter: run.meter, job: run.job, readAt: run.readAt, outOfOrderRuns }, 'a run read before the last one counted (the clock went back?): stored, but the consumption figures leave it out');
        }
        return recorded;
      },
    },
    logger: parts,
    onStoreFailure: (error) => {
      storeFailure = error;
      logger.fatal({ err: error }, storeFailureMessage(error));
      storeFailed.abort();
    },
  });
  const deliveryStop = new AbortController();
  const delivering = deliveries.map((delivery) => {
    const { sink } = delivery;
    sink.check().then(
      (problem) => {
        if (problem) parts.warn({ sink: sink.name }, `${problem}; readings are kept until it is fixed`);
        else parts.info({ sink: sink.name }, `${sink.description}: connection checked`);
      },
      (error: unknown) => {
        parts.warn({ sink: sink.name, err: error }, `${sink.description}: the connection check failed; readings are kept until it works`);
      },
    );
    return delivery.run(deliveryStop.signal);
  });
  const tasks: ScheduledTask[] = config.jobs.map((job) =>
    scheduleCron(
      job.cron,
      job.name,
      parts,
      (tick) => {
        for (const name of job.meters) {
          const session = sessions.get(name);
          if (session) void runner.run(job, session, tick);
        }
      },
      { timeZone: config.consumption.timeZone },
    ),
  );
  let stopping = false;
  // One transaction per step, yielding in between: better-sqlite3 is synchronous, and a long
  // prune must not hold up the job runs' commits.
  const prune = async (): Promise<void> => {
    try {
      const steps = store.pruneChunks({ olderThanDays: config.storage.retentionDays, now: new Date() });
      let step = steps.next();
      while (!step.done) {
        await new Promise((resolve) => setImmediate(resolve));
        if (stopping) return;
        step = steps.next();
      }
      const pruned = step.value;
      if (pruned.readings > 0) logger.info(pruned, `retention: pruned ${pruned.readings} delivered readings older than ${config.storage.retentionDays} days`);
      if (pruned.keptUndelivered > 0) {
        logger.warn(pruned, `retention: kept ${pruned.keptUndelivered} readings older than ${config.storage.retentionDays} days that a sink has not taken`);
      }
    } catch (error) {
      logger.error({ err: error }, 'retention: pruning failed; trying again in a day');
    }
  };
  let pruning = prune();
  const pruneTimer = setInterval(() => {
    pruning = prune();
  }, DAY_MS);
  const meterList = config.meters.map((m) => `${m.name} (${m.url})`).join(', ');
  const jobList = config.jobs.map((j) => `${j.name} "${j.cron}" ${j.registerIds.length} registers`).join(', ');
  logger.info({ storage: config.storage.path }, `kamstrup-logger running: meters ${meterList}; jobs ${jobList}`);

  await Promise.race([aborted(signal), aborted(storeFailed.signal)]);
  const by = storeFailed.signal.aborted ? 'the store failure' : typeof signal.reason === 'string' ? signal.reason : 'a stop request';

  logger.info('stopping: letting the exchanges in flight finish');
  stopping = true;
  runner.stopping(by);
  clearInterval(pruneTimer);
  deliveryStop.abort();
  const stop = async (): Promise<void> => {
    const deliveriesStopped = within(Promise.all(delivering), DELIVERY_STOP_GRACE_MS);
    await pruning;
    await Promise.all(tasks.map((task) => task.stop()));
    await within(runner.idle(), RUN_STOP_BUDGET_MS);
    // Closing a client aborts what is left of its run; the run is then recorded as cut short.
    await within(Promise.all([...sessions.values()].map((session) => session.client.close())), CLIENT_CLOSE_BUDGET_MS);
    await within(runner.idle(), RECORD_AFTER_CLOSE_BUDGET_MS);
    await deliveriesStopped;
    await within(Promise.all(sinks.map((sink) => sink.close())), SINK_CLOSE_BUDGET_MS);
  };
  const forced = force ? aborted(force).then(() => true) : new Promise<boolean>(() => undefined);
  const wasForced = await Promise.race([stop().then(() => false), forced]);
  if (wasForced) {
    const forcedBy = typeof force?.reason === 'string' ? force.reason : 'a second stop request';
    const inFlight = runner.inFlight;
    const { runs, readings } = runner.close();
    logger.error({ inFlight, unstored: runs, readings }, `stop forced by ${forcedBy}: abandoned ${jobRuns(inFlight)} in flight and ${jobRuns(runs)} (${readings} readings) not stored`);
    parts.level = 'silent';
    store.close();
    lock.release();
    return { kind: 'forced', by: forcedBy };
  }
  const stillReading = runner.inFlight;
  const unstored = runner.close();
  if (stillReading > 0) logger.warn({ inFlight: stillReading }, `${jobRuns(stillReading)} still reading when the stop's time ran out; what they read is not stored`);
  parts.level = 'silent';
  store.close();
  lock.release();
  if (unstored.runs > 0) {
    logger.error({ unstored: unstored.runs, readings: unstored.readings }, `${jobRuns(unstored.runs)} (${unstored.readings} readings) could not be stored and are lost: ${storeFailure === null ? 'the store still refused them at the stop' : 'the store failed'}`);
  }
  logger.info('stopped');
  if (unstored.runs > 0 || storeFailure !== null) return { kind: 'failed' };
  return { kind: 'stopped' };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Waits for `work`, at most `ms`; the timer never outlives the wait. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.then(() => undefined, () => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the daemon stops for a store that refuses runs for good; the store's message says what to do. */
function storeFailureMessage(error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  return `cannot store readings, stopping (retrying cannot help): ${detail}${/[.!]$/.test(detail) ? '' : '.'}`;
}

function jobRuns(count: number): string {
  return `${count} job run${count === 1 ? '' : 's'}`;
}

