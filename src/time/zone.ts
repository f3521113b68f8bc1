// Wall-clock days of a time zone as instants (UTC epoch ms), across daylight-saving changes: what
// the scheduler needs to fire at local times and what consumption figures need to cut local
// days, weeks, months and years. Pure: Intl and Date arithmetic only.

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets from UTC stay within ±14 hours, so a local day's instants lie within this of it. */
const MAX_OFFSET_MS = 14 * HOUR_MS;

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
