// When cron expressions fire, as instants (UTC epoch ms), across daylight-saving changes; and the
// longest a meter goes without a read.
//
// node-cron parses and validates the expression and decides which calendar days match (day of
// month, month, weekday, with its L, W and # forms). Turning a day's wall-clock times into
// instants is done here, because node-cron 4 gets the change days wrong for a logger: a time the
// clock shows twice fires only at its second occurrence (so `*/5 * * * *` goes 65 minutes without
// a run in autumn) and a time that does not exist is dropped (`30 2 * * *` does not run at all on
// the spring day). The rules here:
// - a time that does not exist that day (the hour the clock skips in spring) fires once, at the
//   first instant after the skip (02:30 → 03:00 in Europe), however many such times there are;
// - a time the clock shows twice (the hour it repeats in autumn) fires at its first occurrence;
//   an interval schedule (see `isIntervalSchedule`) fires at the second occurrence too, so it keeps
//   its interval in real time, while a fixed time of day (02:30) runs once, as it does every day.

import { createTask, validateDetailed, type ScheduledTask } from 'node-cron';
import { dayAfter, Zone, type LocalDay } from '../time/zone.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Weekday and leap day line up again after 28 years: a valid schedule fires within them. */
const MAX_DAYS_AHEAD = 28 * 366;

function numbers(values: readonly (number | string)[]): number[] {
  return [...new Set(values.filter((v): v is number => typeof v === 'number'))].sort((a, b) => a - b);
}

/** Values every n-th across the field's whole range: `*`, a step such as every 15, `0-23`, `0,20,40`. */
function evenlySpread(values: readonly number[], min: number, max: number): boolean {
  const [first, second] = values;
  const last = values[values.length - 1];
  if (first === undefined || second === undefined || last === undefined) return false;
  const step = second - first;
  return values.every((v, i) => i === 0 || v - (values[i - 1] ?? v) === step) && first - min < step && max - last < step;
}

/**
 * The index of the first tick after `ms` in ascending `ticks` (their length when none is): a
 * binary search, because the scheduler asks at every tick and a job with seconds fires 86 400
 * times a day.
 */
function firstIndexAfter(ticks: readonly number[], ms: number): number {
  let low = 0;
  let high = ticks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((ticks[middle] ?? Infinity) > ms) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The instants a cron expression fires in a zone. Holds a node-cron matcher until `dispose`. */
export class CronTimes {
  /**
   * Whether the schedule repeats through the day (its seconds, minutes or hours field takes
   * values every n-th across the field's whole range: `*`, a step, `0-23`, `0,30`): such a
   * schedule fires in both passes of the hour the clock repeats, a fixed time of day in the
   * first only.
   */
  readonly isIntervalSchedule: boolean;
  readonly zone: Zone;
  private readonly seconds: readonly number[];
  private readonly minutes: readonly number[];
  private readonly hours: readonly number[];
  /** Matched against a day's first fire time written as UTC, where every wall-clock time exists. */
  private readonly dayMatcher: ScheduledTask;
  private readonly days = new Map<string, readonly number[]>();

  constructor(expression: string, zone: Zone = new Zone()) {
    const parsed = validateDetailed(expression.trim());
    if (!parsed.valid || parsed.fields === undefined) throw new Error(`not a valid cron expression: ${expression}`);
    this.seconds = numbers(parsed.fields.second);
    this.minutes = numbers(parsed.fields.minute);
    this.hours = numbers(parsed.fields.hour);
    this.isIntervalSchedule = evenlySpread(this.seconds, 0, 59) || evenlySpread(this.minutes, 0, 59) || evenlySpread(this.hours, 0, 23);
    this.zone = zone;
    this.dayMatcher = createTask(expression.trim(), () => undefined, { timezone: 'UTC' });
  }

  dispose(): void {
    void this.dayMatcher.destroy();
  }

  /** The day's fire instants, ascending; all within the local day. */
  ticksOn(day: LocalDay): readonly number[] {
    const key = `${day.year}-${day.month}-${day.day}`;
    const cached = this.days.get(key);
    if (cached !== undefined) return cached;
    const ticks = this.computeTicksOn(day);
    if (this.days.size >= 8) this.days.clear();
    this.days.set(key, ticks);
    return ticks;
  }

  /** The first fire instant after `afterMs`; null when there is none within 28 years. */
  next(afterMs: number): number | null {
    let day = this.zone.localDay(afterMs);
    for (let i = 0; i < MAX_DAYS_AHEAD; i++, day = dayAfter(day)) {
      const ticks = this.ticksOn(day);
      const found = ticks[firstIndexAfter(ticks, afterMs)];
      if (found !== undefined) return found;
    }
    return null;
  }

  /** The last fire instant in [fromMs, toMs]; null when there is none. */
  latestIn(fromMs: number, toMs: number): number | null {
    const firstDay = this.zone.startOf(this.zone.localDay(fromMs));
    for (let day = this.zone.localDay(toMs); this.zone.startOf(day) >= firstDay; day = dayAfter(day, -1)) {
      const ticks = this.ticksOn(day);
      const tick = ticks[firstIndexAfter(ticks, toMs) - 1];
      if (tick !== undefined) return tick >= fromMs ? tick : null;
    }
    return null;
  }

  private computeTicksOn(day: LocalDay): readonly number[] {
    const [firstSecond, firstMinute, firstHour] = [this.seconds[0], this.minutes[0], this.hours[0]];
    if (firstSecond === undefined || firstMinute === undefined || firstHour === undefined) return [];
    const midnight = Date.UTC(day.year, day.month - 1, day.day);
    // The day's fields decide alone: if the day's first fire time matches, all of them do.
    if (!this.dayMatcher.match(new Date(midnight + firstHour * HOUR_MS + firstMinute * 60_000 + firstSecond * 1000))) return [];
    const offsets = this.zone.offsetsOn(day);
    const ticks: number[] = [];
    for (const hour of this.hours) {
      for (const minute of this.minutes) {
        for (const second of this.seconds) {
          const wall = midnight + hour * HOUR_MS + minute * 60_000 + second * 1000;
          if (offsets.changeAt === null) {
            ticks.push(wall - offsets.offsetBefore);
            continue;
          }
          const [first, repeat] = this.zone.instantsOf(wall, offsets);
          if (first !== undefined) ticks.push(first);
          if (repeat !== undefined && this.isIntervalSchedule) ticks.push(repeat);
        }
      }
    }
    // Wall-clock order is time order except on a change day: skipped times share an instant,
    // and the repeated hour's second pass comes after its first.
    return offsets.changeAt === null ? ticks : [...new Set(ticks)].sort((a, b) => a - b);
  }
}

/** The instants the zone's clocks change within `days` local days from `fromMs`. */
function clockChanges(zone: Zone, fromMs: number, days: number): number[] {
  const changes: number[] = [];
  let day = zone.localDay(fromMs);
  for (let i = 0; i < days; i++, day = dayAfter(day)) {
    // A day of other than 24 hours holds a change.
    if (zone.startOf(dayAfter(day)) - zone.startOf(day) === DAY_MS) continue;
    const { changeAt } = zone.offsetsOn(day);
    if (changeAt !== null) changes.push(changeAt);
  }
  return changes;
}

/** How long a meter goes without a read, in real elapsed time. */
export interface ReadGaps {
  /** Over the week from `now`'s local midnight, taken as repeating. */
  readonly weekMs: number;
  /** The longest across a daylight-saving change in the coming year, when longer than `weekMs`. */
  readonly acrossChange?: { readonly ms: number; readonly at: Date };
}

const DAYS_AHEAD_FOR_CHANGES = 366;

/**
 * The longest time without a fire of any of the expressions over the week from `now`'s local
 * midnight, the week taken as repeating (the gap from its last fire to the first fire of the
 * next week counts), and across each daylight-saving change in the coming year, so a schedule
 * that leaves a gap only when the clocks change is caught in July too. Null when none of them
 * fires in the week.
 */
export function readGaps(expressions: readonly string[], now: Date, zone: Zone = new Zone()): ReadGaps | null {
  const schedules = expressions.map((expression) => new CronTimes(expression, zone));
  try {
    const weekMs = gapOver(schedules, zone.localDay(now.getTime()), 7, { repeating: true });
    if (weekMs === null) return null;
    let acrossChange: ReadGaps['acrossChange'];
    for (const change of clockChanges(zone, now.getTime(), DAYS_AHEAD_FOR_CHANGES)) {
      // A gap the change makes spans it: the change's day and the days either side hold it.
      const ms = gapOver(schedules, dayAfter(zone.localDay(change), -1), 3, { repeating: false }) ?? 0;
      if (ms > Math.max(weekMs, acrossChange?.ms ?? 0)) acrossChange = { ms, at: new Date(change) };
    }
    return acrossChange === undefined ? { weekMs } : { weekMs, acrossChange };
  } finally {
    for (const schedule of schedules) schedule.dispose();
  }
}

/**
 * The longest gap (ms) between fires of any of the schedules over `days` local days from
 * `firstDay` (when `repeating`, the gap from the last fire round to the first counts too); null
 * when none fires. Day by day, so a schedule with seconds does not build a week-long list.
 */
function gapOver(schedules: readonly CronTimes[], firstDay: LocalDay, days: number, { repeating }: { repeating: boolean }): number | null {
  const zone = schedules[0]?.zone;
  if (zone === undefined) return null;
  let first: number | undefined;
  let previous: number | undefined;
  let gap = 0;
  for (let i = 0, day = firstDay; i < days; i++, day = dayAfter(day)) {
    // Ticks fall on whole seconds: marking them in one slot per second of the day merges the
    // schedules in time order without sorting (a job with seconds fires 86 400 times a day).
    const start = zone.startOf(day);
    const fired = new Uint8Array((zone.startOf(dayAfter(day)) - start) / 1000);
    for (const schedule of schedules) for (const tick of schedule.ticksOn(day)) fired[(tick - start) / 1000] = 1;
    for (let second = 0; second < fired.length; second++) {
      if (fired[second] === 0) continue;
      const tick = start + second * 1000;
      if (previous === undefined) first = tick;
      else gap = Math.max(gap, tick - previous);
      previous = tick;
    }
  }
  if (first === undefined || previous === undefined) return null;
  if (!repeating) return gap;
  return Math.max(gap, first - zone.startOf(firstDay) + (zone.startOf(dayAfter(firstDay, days)) - previous));
}
