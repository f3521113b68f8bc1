// Cron scheduling over node-cron, kept behind a small interface so jobs can be tested with
// real ticks and the daemon does not care which library fires them.

import cron from 'node-cron';
import type { Logger } from '../log/logger.js';

export interface ScheduledTask {
  stop(): Promise<void>;
}

/** Calls `onTick` with the tick's scheduled time (shared by every reading of the run). */
export function scheduleCron(expression: string, name: string, logger: Logger, onTick: (tick: Date) => void): ScheduledTask {
  // node-cron's own notices (a tick missed while the machine was suspended) go to our log.
  const cronLogger = {
    info: (message: string) => logger.debug({ job: name }, message),
    warn: (message: string) => logger.warn({ job: name }, message),
    error: (message: string | Error) => logger.error({ job: name, err: message }, 'scheduler error'),
    debug: (message: string | Error) => logger.debug({ job: name }, String(message)),
  };
  const task = cron.createTask(expression, (context) => onTick(context.date), { name, logger: cronLogger });
  void task.start();
  return {
    stop: async () => {
      await task.stop();
      await task.destroy();
    },
  };
}
