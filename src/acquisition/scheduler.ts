// Cron scheduling, kept behind a small interface so the daemon does not care what fires the
// ticks and tests can drive them on an injected clock.
//
// Ticks are the schedule's instants on the wall clock (see config/schedule.ts for the
// daylight-saving rules); the timer between them runs on elapsed time and never sleeps more
// than a minute, so a clock that is stepped is noticed soon:
// - stepped forward (or the machine slept) past some ticks: one run, for the latest tick due,
//   and a warning naming the ticks skipped; no burst of catch-up runs;
// - stepped back: the schedule follows the new time from its next tick, so it does not stall
//   for the size of the step (ticks already run under the wrong time run again).
// node-cron parses the expression and matches the days; its own timer is not used, because it
// skips the hour the clock repeats in autumn and the time the clock skips in spring.

import { CronTimes } from '../config/schedule.js';
import { Zone } from '../time/zone.js';
import type { Logger } from '../log/logger.js';

export interface ScheduledTask {
  stop(): Promise<void>;
}

/** The wall clock and an elapsed-time timer; tests pass a simulated one. */
export interface SchedulerClock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  /** Calls `callback` once `delayMs` of elapsed time have passed; returns its cancel. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

export interface ScheduleOptions {
  readonly clock?: SchedulerClock;
  /** An IANA zone such as "Europe/Amsterdam"; default the process's own (TZ). */
  readonly timeZone?: string;
}

const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

/** The longest sleep between looks at the wall clock. */
export const MAX_SLEEP_MS = 60_000;
/** How far the wall clock may drift from the timer before it counts as stepped. */
const CLOCK_STEP_TOLERANCE_MS = 2_000;
/** How late a run may start before the warning says so. */
const LATE_TOLERANCE_MS = 60_000;

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes >= 1 ? `${minutes} min` : `${Math.round(ms / 1000)} s`;
}

/** Calls `onTick` with the tick's scheduled instant (shared by every reading of the run). */
export function scheduleCron(expression: string, name: string, logger: Logger, onTick: (tick: Date) => void, options: ScheduleOptions = {}): ScheduledTask {
  const clock = options.clock ?? systemClock;
  const times = new CronTimes(expression, new Zone(options.timeZone));
  let next = times.next(clock.now());
  let cancel: (() => void) | undefined;
  let stopped = false;

  const arm = (): void => {
    if (stopped) return;
    const armedAt = clock.now();
    if (next === null) {
      logger.warn({ job: name }, `job "${name}": cron "${expression}" does not fire again within 28 years, so the job will not run; check its day, month and weekday fields`);
      return;
    }
    const delay = Math.max(0, Math.min(next - armedAt, MAX_SLEEP_MS));
    cancel = clock.setTimer(() => wake(armedAt + delay), delay);
  };

  const wake = (expectedNow: number): void => {
    if (stopped || next === null) return;
    const now = clock.now();
    if (now < expectedNow - CLOCK_STEP_TOLERANCE_MS) {
      const resumed = times.next(now);
      logger.warn(
        { job: name },
        `the clock went back ${duration(expectedNow - now)} (to ${isoOf(now)}): job "${name}" continues from the new time${resumed === null ? '' : `, next at ${isoOf(resumed)}`}`,
      );
    }
    if (now < next) {
      // Not due yet, or the clock went back: its next tick from the current time.
      next = times.next(now);
      arm();
      return;
    }
    const due = times.latestIn(next, now) ?? next;
    if (due > next) {
      logger.warn(
        { job: name },
        `job "${name}" skipped its ticks from ${isoOf(next)} to before ${isoOf(due)} (the clock jumped forward or the machine was suspended): running once, for ${isoOf(due)}`,
      );
    } else if (now - due > LATE_TOLERANCE_MS) {
      logger.warn({ job: name }, `job "${name}" starts ${duration(now - due)} late, for ${isoOf(due)} (the clock jumped forward or the machine was suspended)`);
    }
    next = times.next(Math.max(due, now));
    arm();
    try {
      onTick(new Date(due));
    } catch (error) {
      logger.error({ job: name, err: error }, `job "${name}": the tick at ${isoOf(due)} failed to start; the schedule goes on`);
    }
  };

  arm();
  return {
    stop: () => {
      stopped = true;
      cancel?.();
      times.dispose();
      return Promise.resolve();
    },
  };
}
