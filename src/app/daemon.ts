// The acquisition daemon: the one place that knows every layer. Config in; meters, store,
// scheduler and retention wired together; a clean stop on SIGTERM/SIGINT (the exchange in
// flight finishes, its run is committed, ports close).

import { JobRunner } from '../acquisition/job-runner.js';
import { MeterSession } from '../acquisition/meter-session.js';
import { scheduleCron, type ScheduledTask } from '../acquisition/scheduler.js';
import type { AppConfig } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import { Store } from '../store/index.js';
import { connectMeter } from './connect-meter.js';
import { createSinks } from './sinks.js';
import { Delivery } from '../delivery/delivery.js';

const DAY_MS = 86_400_000;
const DELIVERY_STOP_GRACE_MS = 2000;

export interface DaemonOptions {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Aborting stops the daemon. */
  readonly signal: AbortSignal;
}

export async function runDaemon({ config, logger, signal }: DaemonOptions): Promise<void> {
  const sinks = createSinks(config.sinks);
  // Each sink renders a run as it is recorded, so a backlog is stored ready to send.
  const store = Store.open(config.storage.path, { sinks: sinks.map((sink) => sink.name), renderers: Object.fromEntries(sinks.map((sink) => [sink.name, sink])) });
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
  const runner = new JobRunner({ recorder: store, logger });
  const deliveryStop = new AbortController();
  const deliveries = sinks.map((sink) => {
    void sink.check().then((problem) => {
      if (problem) logger.warn({ sink: sink.name }, `${problem}; readings are kept until it is fixed`);
      else logger.info({ sink: sink.name }, `${sink.description}: connection checked`);
    });
    return new Delivery({ sink, store, logger }).run(deliveryStop.signal);
  });
  const tasks: ScheduledTask[] = config.jobs.map((job) =>
    scheduleCron(job.cron, job.name, logger, (tick) => {
      for (const name of job.meters) {
        const session = sessions.get(name);
        if (session) void runner.run(job, session, tick);
      }
    }),
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

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

  logger.info('stopping: letting the exchanges in flight finish');
  stopping = true;
  clearInterval(pruneTimer);
  await pruning;
  await Promise.all(tasks.map((task) => task.stop()));
  await Promise.all([...sessions.values()].map((session) => session.client.close()));
  await runner.idle();
  // A write in flight gets a moment to finish; its readings stay in the outbox either way.
  deliveryStop.abort();
  await Promise.race([Promise.all(deliveries), new Promise((resolve) => setTimeout(resolve, DELIVERY_STOP_GRACE_MS))]);
  await Promise.all(sinks.map((sink) => sink.close()));
  store.close();
  logger.info('stopped');
}
