// Sets of reading ids as sorted, disjoint ranges of integers [first, last], for a sink's
// backlog: a set of a million consecutive ids is one range.

import type { PendingItem } from './types.js';

/** first and last id, inclusive. */
export type IdRange = readonly [first: number, last: number];

/** The ranges sorted and joined where they overlap or touch: the same ids in the fewest ranges. */
export function union(ranges: readonly IdRange[]): IdRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [first, last] of sorted) {
    const previous = out[out.length - 1];
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else out.push([first, last]);
  }
  return out;
}

/** The ids of `ranges` that are not in `cuts`, as ranges. */
export function difference(ranges: readonly IdRange[], cuts: readonly IdRange[]): IdRange[] {
  const remove = union(cuts);
  const out: IdRange[] = [];
  for (const [first, last] of union(ranges)) {
    let from = first;
    for (const [cutFirst, cutLast] of remove) {
      if (cutLast < from) continue;
      if (cutFirst > last) break;
      if (cutFirst > from) out.push([from, cutFirst - 1]);
      from = cutLast + 1;
      if (from > last) break;
    }
    if (from <= last) out.push([from, last]);
  }
  return out;
}

/** How many ids two ranges share. */
export function overlap([first, last]: IdRange, [otherFirst, otherLast]: IdRange): number {
  return Math.max(0, Math.min(last, otherLast) - Math.max(first, otherFirst) + 1);
}

/** The readings a pending run carries, as ranges: what marking it delivered takes. */
export function readingRangesOf(item: PendingItem): IdRange[] {
  return 'payload' in item ? [[item.firstReadingId, item.lastReadingId]] : rangesOf(item.readings.map((reading) => reading.readingId));
}

/** A list of ids as ranges. A delivered batch is ascending and nearly always one range: one pass, no sort. */
export function rangesOf(ids: readonly number[]): IdRange[] {
  const out: IdRange[] = [];
  let first = ids[0];
  if (first === undefined) return out;
  let last = first;
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id === last + 1) last = id;
    else if (id > last) {
      out.push([first, last]);
      first = last = id;
    } else return union(ids.map((one) => [one, one]));
  }
  out.push([first, last]);
  return out;
}
