// A clock for the meter client that moves only when the test moves it, so a test can read the
// exact waits the client chose, and show that something happens without any timer firing.

import type { MeterClock } from '../../src/meter/client.js';

interface ManualTimer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

export class ManualClock implements MeterClock {
  private time = 0;
  private order = 0;
  private timers: ManualTimer[] = [];

  now(): number {
    return this.time;
  }

  startTimer(ms: number, callback: () => void): () => void {
    const timer = { at: this.time + Math.max(0, ms), order: this.order++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves the time to the earliest timer and fires it; false when no timer is pending. */
  fireNext(): boolean {
    const next = [...this.timers].sort((a, b) => a.at - b.at || a.order - b.order)[0];
    if (!next) return false;
    this.timers = this.timers.filter((t) => t !== next);
    this.time = next.at;
    next.callback();
    return true;
  }

  /**
   * Runs the client until `promise` settles: lets I/O and promise callbacks run, then jumps to
   * the next timer. Fails instead of hanging when nothing is left to wait for.
   */
  async runUntilSettled<T>(promise: Promise<T>, maxTimers = 100): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (let fired = 0; ; fired++) {
      for (let turn = 0; turn < 5 && !settled; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (settled) return watched;
      if (fired >= maxTimers) throw new Error(`still pending after ${maxTimers} timers`);
      if (!this.fireNext()) throw new Error('still pending with no timer left to fire');
    }
  }
}

/** Rejects when `promise` is still pending after `ms` of real time: a hang fails the test. */
export function failIfStillPending<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let guard: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(guard));
}

/** Waits (on real time, bounded) until `condition` holds. */
export async function waitUntil(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > ms) throw new Error(`${what}: not so after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
