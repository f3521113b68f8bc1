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

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets from UTC stay within ±14 hours, so a local day's instants lie within this of it. */
const MAX_OFFSET_MS = 14 * HOUR_MS;
/** Weekday and leap day line up again after 28 years: a valid schedule fires within them. */
const MAX_DAYS_AHEAD = 28 * 366;

/** A calendar day; `month` 1-12. */
export interface LocalDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export function dayAfter({ year, month, day }: LocalDay, days = 1): LocalDay {
  const date = new Date(Date.UTC(year, month - 1, day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** The zone's offsets from UTC (ms ahead) around a local day: one, or a change between two. */
export interface DayOffsets {
  readonly offsetBefore: number;
  readonly offsetAfter: number;
  /** The instant the clocks change; null when one offset holds all day. */
  readonly changeAt: number | null;
}

/** Wall-clock days and times of a time zone (the process's own, TZ, when none is given). */
export class Zone {
  private readonly offsetAt: (ms: number) => number;
  private readonly days = new Map<string, DayOffsets>();

  constructor(timeZone?: string) {
    this.offsetAt = offsetFunction(timeZone);
  }

  /** The local calendar day an instant falls on. */
  localDay(ms: number): LocalDay {
    const wall = new Date(ms + this.offsetAt(ms));
    return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
  }

  /** The first instant of a local day (after a change at midnight, the first that exists). */
  startOf(day: LocalDay): number {
    const midnight = Date.UTC(day.year, day.month - 1, day.day);
    return this.instantsOf(midnight, this.offsetsOn(day))[0] ?? midnight;
  }

  /**
   * The offsets over the local day and the hours either side of it (zones change at most twice
   * a year): what turning the day's wall-clock times into instants needs to know.
   */
  offsetsOn(day: LocalDay): DayOffsets {
    const key = `${day.year}-${day.month}-${day.day}`;
    let offsets = this.days.get(key);
    if (offsets === undefined) {
      offsets = this.findOffsets(day);
      if (this.days.size >= 32) this.days.clear();
      this.days.set(key, offsets);
    }
    return offsets;
  }

  private findOffsets(day: LocalDay): DayOffsets {
    let low = Date.UTC(day.year, day.month - 1, day.day) - MAX_OFFSET_MS;
    let high = Date.UTC(day.year, day.month - 1, day.day) + DAY_MS + MAX_OFFSET_MS;
    const offsetBefore = this.offsetAt(low);
    const offsetAfter = this.offsetAt(high);
    if (offsetBefore === offsetAfter) return { offsetBefore, offsetAfter, changeAt: null };
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.offsetAt(middle) === offsetBefore) low = middle;
      else high = middle;
    }
    return { offsetBefore, offsetAfter, changeAt: high };
  }

  /**
   * The instants a wall-clock time (written as UTC ms) of a day stands for: one; two when the
   * clock shows it twice; none when it does not exist, then the first instant after the skip.
   */
  instantsOf(wall: number, { offsetBefore, offsetAfter, changeAt }: DayOffsets): number[] {
    if (changeAt === null) return [wall - offsetBefore];
    if (wall < changeAt + Math.min(offsetBefore, offsetAfter)) return [wall - offsetBefore];
    if (wall >= changeAt + Math.max(offsetBefore, offsetAfter)) return [wall - offsetAfter];
    // Clocks going forward skip these wall-clock times; going back, they show them twice.
    return offsetAfter > offsetBefore ? [changeAt] : [wall - offsetBefore, wall - offsetAfter];
  }
}

function offsetFunction(timeZone: string | undefined): (ms: number) => number {
  // Date reads the process's zone (TZ) on every call, so a zone set after start-up counts.
  if (timeZone === undefined) return (ms) => -new Date(ms).getTimezoneOffset() * 60_000;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (ms) => {
    const parts = format.formatToParts(ms);
    const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
    const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
    return wall - Math.floor(ms / 1000) * 1000;
  };
}

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
