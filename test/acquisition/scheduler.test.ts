// The scheduler on a simulated clock: the ticks it fires across both daylight-saving changes in
// Europe/Amsterdam, and what it does when the wall clock is stepped. No real waiting: the clock's
// timers run on simulated elapsed time, and its wall clock can be stepped apart from them.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MAX_SLEEP_MS, scheduleCron, type SchedulerClock } from '../../src/acquisition/scheduler.js';
import { createLogger } from '../../src/log/logger.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const AMSTERDAM = 'Europe/Amsterdam';
/** Far more timer events than any window here needs: a scheduler that spins fails instead of hanging. */
const MAX_TIMER_EVENTS = 200_000;

/** Elapsed time that only moves when told to, and a wall clock that can be stepped apart from it. */
class SimulatedClock implements SchedulerClock {
  elapsed = 0;
  private wallAtStart: number;
  private timers: { at: number; callback: () => void; live: boolean }[] = [];

  constructor(wall: string) {
    this.wallAtStart = Date.parse(wall);
  }

  now(): number {
    return this.wallAtStart + this.elapsed;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer = { at: this.elapsed + delayMs, callback, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  /** Steps the wall clock (NTP, a user) without any elapsed time. */
  step(ms: number): void {
    this.wallAtStart += ms;
  }

  /** Lets `ms` of elapsed time pass, firing the timers due on the way in order. */
  pass(ms: number): void {
    const end = this.elapsed + ms;
    for (let events = 0; ; events++) {
      assert.ok(events < MAX_TIMER_EVENTS, 'the scheduler set more timers than any window needs');
      this.timers = this.timers.filter((t) => t.live);
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.elapsed = Math.max(this.elapsed, due.at);
      due.callback();
    }
    this.elapsed = end;
  }

  get pendingTimers(): number {
    return this.timers.filter((t) => t.live).length;
  }
}

interface Fired {
  readonly tick: number;
  /** The wall clock when onTick was called. */
  readonly wall: number;
  /** The elapsed time when onTick was called. */
  readonly elapsed: number;
}

function logCapture(): { logger: ReturnType<typeof createLogger>; messages: string[] } {
  const messages: string[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      messages.push(String((JSON.parse(chunk.toString()) as { msg?: string }).msg));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', pretty: false, destination }), messages };
}

/** Runs `expression` from `start` for `ms` of elapsed time; the ticks it fired. */
function simulate(expression: string, start: string, ms: number): { fired: Fired[] } {
  const clock = new SimulatedClock(start);
  const fired: Fired[] = [];
  const task = scheduleCron(expression, 'job', logCapture().logger, (tick) => fired.push({ tick: tick.getTime(), wall: clock.now(), elapsed: clock.elapsed }), { clock, timeZone: AMSTERDAM });
  clock.pass(ms);
  void task.stop();
  return { fired };
}

const wallClock = new Intl.DateTimeFormat('en-GB', { timeZone: AMSTERDAM, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
/** "25/10/2026, 02:30:00 CEST", as a wall clock in Amsterdam shows the instant. */
const local = (ms: number): string => wallClock.format(ms).replace('GMT+1', 'CET').replace('GMT+2', 'CEST');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Every `stepMs` from `first` to `last`, both included. */
function every(stepMs: number, first: string, last: string): string[] {
  const instants: string[] = [];
  for (let t = Date.parse(first); t <= Date.parse(last); t += stepMs) instants.push(iso(t));
  return instants;
}

function gaps(fired: readonly Fired[]): number[] {
  return fired.slice(1).map((f, i) => f.elapsed - (fired[i]?.elapsed ?? 0));
}

// 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET. 22:00 CEST the day before to 06:00 CET.
const AUTUMN = { start: '2026-10-24T20:00:00Z', ms: 9 * HOUR, last: '2026-10-25T05:00:00Z' };
// 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST. 00:00 CET to 06:00 CEST.
const SPRING = { start: '2026-03-28T23:00:00Z', ms: 5 * HOUR, last: '2026-03-29T04:00:00Z' };

describe('the scheduler across the autumn change (Europe/Amsterdam)', () => {
  it('*/5 * * * * keeps ticking every 5 minutes through the repeated hour', () => {
    const { fired } = simulate('*/5 * * * *', AUTUMN.start, AUTUMN.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(5 * MINUTE, '2026-10-24T20:05:00Z', AUTUMN.last));
    const around = fired.filter((f) => f.tick >= Date.parse('2026-10-25T00:50:00Z') && f.tick <= Date.parse('2026-10-25T01:05:00Z')).map((f) => local(f.tick));
    assert.deepEqual(around, ['25/10/2026, 02:50:00 CEST', '25/10/2026, 02:55:00 CEST', '25/10/2026, 02:00:00 CET', '25/10/2026, 02:05:00 CET']);
  });

  it('30 2 * * * runs once, at the first 02:30 (CEST)', () => {
    const { fired } = simulate('30 2 * * *', AUTUMN.start, AUTUMN.ms);
    assert.deepEqual(fired.map((f) => local(f.tick)), ['25/10/2026, 02:30:00 CEST']);
    assert.deepEqual(fired.map((f) => iso(f.tick)), ['2026-10-25T00:30:00.000Z']);
  });

  it('0 * * * * runs at both 02:00s, an hour apart', () => {
    const { fired } = simulate('0 * * * *', AUTUMN.start, AUTUMN.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(HOUR, '2026-10-24T21:00:00Z', AUTUMN.last));
    assert.deepEqual(fired.slice(3, 6).map((f) => local(f.tick)), ['25/10/2026, 02:00:00 CEST', '25/10/2026, 02:00:00 CET', '25/10/2026, 03:00:00 CET']);
  });

  it('*/10 * * * * * (6 fields) ticks every 10 seconds throughout', () => {
    const { fired } = simulate('*/10 * * * * *', AUTUMN.start, AUTUMN.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(10_000, '2026-10-24T20:00:10Z', AUTUMN.last));
  });

  it('passes the scheduled instants, on time, with no gap longer than the interval in real time', () => {
    const { fired } = simulate('*/5 * * * *', AUTUMN.start, AUTUMN.ms);
    for (const f of fired) assert.equal(f.wall, f.tick);
    assert.ok(gaps(fired).every((gap) => gap === 5 * MINUTE), `gaps: ${gaps(fired).join(', ')}`);
  });
});

describe('the scheduler across the spring change (Europe/Amsterdam)', () => {
  it('*/5 * * * * goes from 01:55 CET to 03:00 CEST, 5 minutes later', () => {
    const { fired } = simulate('*/5 * * * *', SPRING.start, SPRING.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(5 * MINUTE, '2026-03-28T23:05:00Z', SPRING.last));
    const around = fired.filter((f) => f.tick >= Date.parse('2026-03-29T00:50:00Z') && f.tick <= Date.parse('2026-03-29T01:05:00Z')).map((f) => local(f.tick));
    assert.deepEqual(around, ['29/03/2026, 01:50:00 CET', '29/03/2026, 01:55:00 CET', '29/03/2026, 03:00:00 CEST', '29/03/2026, 03:05:00 CEST']);
  });

  it('30 2 * * *, a time that does not exist that day, runs once at 03:00 CEST', () => {
    const { fired } = simulate('30 2 * * *', SPRING.start, SPRING.ms);
    assert.deepEqual(fired.map((f) => local(f.tick)), ['29/03/2026, 03:00:00 CEST']);
    assert.deepEqual(fired.map((f) => iso(f.tick)), ['2026-03-29T01:00:00.000Z']);
  });

  it('0 * * * * runs every hour of real time, 02:00 being 03:00 CEST', () => {
    const { fired } = simulate('0 * * * *', SPRING.start, SPRING.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(HOUR, '2026-03-29T00:00:00Z', SPRING.last));
    assert.deepEqual(fired.slice(0, 3).map((f) => local(f.tick)), ['29/03/2026, 01:00:00 CET', '29/03/2026, 03:00:00 CEST', '29/03/2026, 04:00:00 CEST']);
  });

  it('*/10 * * * * * (6 fields) ticks every 10 seconds throughout', () => {
    const { fired } = simulate('*/10 * * * * *', SPRING.start, SPRING.ms);
    assert.deepEqual(fired.map((f) => iso(f.tick)), every(10_000, '2026-03-28T23:00:10Z', SPRING.last));
    for (const f of fired) assert.equal(f.wall, f.tick);
  });
});

/** Starts `expression` at `start`, lets `before` pass, steps the wall clock by `stepMs`, lets `after` pass. */
function withStep(expression: string, start: string, before: number, stepMs: number, after: number): { fired: Fired[]; messages: string[] } {
  const clock = new SimulatedClock(start);
  const { logger, messages } = logCapture();
  const fired: Fired[] = [];
  const task = scheduleCron(expression, 'job', logger, (tick) => fired.push({ tick: tick.getTime(), wall: clock.now(), elapsed: clock.elapsed }), { clock, timeZone: 'UTC' });
  clock.pass(before);
  clock.step(stepMs);
  clock.pass(after);
  void task.stop();
  return { fired, messages };
}

describe('the scheduler when the wall clock is stepped', () => {
  it('stepped forward an hour: one run for the latest tick due, no burst, a warning, then on schedule', () => {
    const { fired, messages } = withStep('*/5 * * * *', '2026-06-01T10:00:00Z', 6 * MINUTE, HOUR, 10 * MINUTE);
    assert.deepEqual(fired.map((f) => iso(f.tick)), ['2026-06-01T10:05:00.000Z', '2026-06-01T11:05:00.000Z', '2026-06-01T11:10:00.000Z', '2026-06-01T11:15:00.000Z']);
    // The catch-up run comes within the scheduler's longest sleep of the step.
    assert.ok((fired[1]?.elapsed ?? Infinity) - 6 * MINUTE <= MAX_SLEEP_MS);
    assert.deepEqual(messages.filter((m) => /skipped/.test(m)), [
      'job "job" skipped its ticks from 2026-06-01T10:10:00.000Z to before 2026-06-01T11:05:00.000Z (the clock jumped forward or the machine was suspended): running once, for 2026-06-01T11:05:00.000Z',
    ]);
  });

  it('stepped forward an hour with a tick every 10 seconds: one catch-up run, not 360', () => {
    const { fired } = withStep('*/10 * * * * *', '2026-06-01T10:00:00Z', 30_000, HOUR, 30_000);
    const after = fired.filter((f) => f.elapsed > 30_000);
    assert.equal(after.length, 3);
    assert.deepEqual(after.map((f) => iso(f.tick)), ['2026-06-01T11:00:40.000Z', '2026-06-01T11:00:50.000Z', '2026-06-01T11:01:00.000Z']);
  });

  it('stepped forward past a daily time: that run happens once, late, with a warning', () => {
    const { fired, messages } = withStep('30 2 * * *', '2026-06-01T02:00:00Z', 10 * MINUTE, HOUR, 10 * MINUTE);
    assert.deepEqual(fired.map((f) => iso(f.tick)), ['2026-06-01T02:30:00.000Z']);
    assert.ok((fired[0]?.wall ?? 0) - Date.parse('2026-06-01T03:10:00Z') <= MAX_SLEEP_MS);
    assert.ok(messages.some((m) => /starts 4\d min late, for 2026-06-01T02:30:00.000Z/.test(m)), messages.join('\n'));
  });

  it('stepped back an hour: carries on from the new time at once, no hour-long stall', () => {
    const { fired, messages } = withStep('*/5 * * * *', '2026-06-01T10:00:00Z', 6 * MINUTE, -HOUR, 10 * MINUTE);
    assert.deepEqual(fired.map((f) => iso(f.tick)), ['2026-06-01T10:05:00.000Z', '2026-06-01T09:10:00.000Z', '2026-06-01T09:15:00.000Z']);
    assert.ok(gaps(fired).every((gap) => gap <= 5 * MINUTE), `real-time gaps: ${gaps(fired).join(', ')}`);
    assert.ok(messages.some((m) => /^the clock went back 60 min/.test(m)), messages.join('\n'));
  });

  it('stops firing, and leaves no timer behind, once stopped', () => {
    const clock = new SimulatedClock('2026-06-01T10:00:00Z');
    const fired: number[] = [];
    const task = scheduleCron('*/10 * * * * *', 'job', logCapture().logger, (tick) => fired.push(tick.getTime()), { clock, timeZone: 'UTC' });
    clock.pass(25_000);
    void task.stop();
    clock.pass(60_000);
    assert.deepEqual(fired.map(iso), ['2026-06-01T10:00:10.000Z', '2026-06-01T10:00:20.000Z']);
    assert.equal(clock.pendingTimers, 0);
  });
});
