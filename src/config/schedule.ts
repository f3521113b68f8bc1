// When cron expressions fire over a week, and the longest a meter goes without a read.
// node-cron decides which days match (day of month, month, weekday, in local time, as the
// scheduler will); within a matching day every combination of the parsed hours, minutes and
// seconds fires. A week is 604 800 seconds: one byte per second marks the fire times.

import { createTask, validateDetailed } from 'node-cron';

function numbers(values: readonly (number | string)[]): number[] {
  return values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
}

export interface Week {
  readonly start: Date;
  readonly end: Date;
}

/** Local midnight of the day `now` falls on, to local midnight 7 days later. */
export function weekFrom(now: Date): Week {
  return {
    start: new Date(now.getFullYear(), now.getMonth(), now.getDate()),
    end: new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7),
  };
}

/** One byte per second of the week: 1 where the expression fires. */
export function fireSeconds(expression: string, week: Week): Uint8Array {
  const startMs = week.start.getTime();
  const marks = new Uint8Array(Math.round((week.end.getTime() - startMs) / 1000));
  const parsed = validateDetailed(expression.trim());
  if (!parsed.valid || parsed.fields === undefined) throw new Error(`not a valid cron expression: ${expression}`);
  const seconds = numbers(parsed.fields.second);
  const minutes = numbers(parsed.fields.minute);
  const hours = numbers(parsed.fields.hour);
  const [firstSecond, firstMinute, firstHour] = [seconds[0], minutes[0], hours[0]];
  if (firstSecond === undefined || firstMinute === undefined || firstHour === undefined) return marks;
  const task = createTask(expression.trim(), () => undefined);
  try {
    for (let day = 0; day < 7; day++) {
      const [y, m, d] = [week.start.getFullYear(), week.start.getMonth(), week.start.getDate() + day];
      // The day's fields decide alone: if the day's first fire time matches, all of them do.
      if (!task.match(new Date(y, m, d, firstHour, firstMinute, firstSecond))) continue;
      for (const hour of hours) {
        for (const minute of minutes) {
          const base = (new Date(y, m, d, hour, minute, 0).getTime() - startMs) / 1000;
          for (const second of seconds) {
            const index = base + second;
            if (index >= 0 && index < marks.length) marks[index] = 1;
          }
        }
      }
    }
  } finally {
    void task.destroy();
  }
  return marks;
}

/**
 * The longest time (ms) without a fire of any of the expressions over the week from `now`'s
 * local midnight, the week taken as repeating (the gap from its last fire to the first fire of
 * the next week counts); null when none of them fires in the week.
 */
export function longestGapMs(expressions: readonly string[], now: Date, cache = new Map<string, Uint8Array>()): number | null {
  const week = weekFrom(now);
  let all: Uint8Array | undefined;
  for (const expression of expressions) {
    let marks = cache.get(expression);
    if (marks === undefined) {
      marks = fireSeconds(expression, week);
      cache.set(expression, marks);
    }
    if (all === undefined) all = Uint8Array.from(marks);
    else for (let i = 0; i < marks.length; i++) all[i] = (all[i] ?? 0) | (marks[i] ?? 0);
  }
  if (all === undefined) return null;
  let first = -1;
  let previous = -1;
  let gap = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i] === 0) continue;
    if (first < 0) first = i;
    else gap = Math.max(gap, i - previous);
    previous = i;
  }
  if (first < 0) return null;
  gap = Math.max(gap, first + all.length - previous);
  return gap * 1000;
}
