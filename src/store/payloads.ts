// Splitting stored payloads of consecutive runs (PendingPayloads) apart, by run: to fill a
// batch exactly, and to narrow a refused batch down to the run the server refuses.

import type { PendingPayloads } from './types.js';

/** The first `runs` runs (at least one) and the rest; the rest is undefined when nothing is left. */
export function splitPayloads(item: PendingPayloads, runs: number): [PendingPayloads, PendingPayloads | undefined] {
  if (runs >= item.runs) return [item, undefined];
  const head = Math.max(1, Math.floor(runs));
  const lines = item.runLines?.split(',').map(Number);
  const headLines = lines === undefined ? head : lines.slice(0, head).reduce((sum, n) => sum + n, 0);
  const textEnd = nthIndexOf(item.payload, '\n', headLines);
  const endsEnd = nthIndexOf(item.runEnds, ',', head);
  const headLast = Number(item.runEnds.slice(item.runEnds.lastIndexOf(',', endsEnd - 1) + 1, endsEnd));
  return [
    {
      firstReadingId: item.firstReadingId,
      lastReadingId: headLast,
      payload: item.payload.slice(0, textEnd),
      runs: head,
      runEnds: item.runEnds.slice(0, endsEnd),
      ...(lines !== undefined && { runLines: lines.slice(0, head).join(',') }),
    },
    {
      firstReadingId: headLast + 1,
      lastReadingId: item.lastReadingId,
      payload: item.payload.slice(textEnd + 1),
      runs: item.runs - head,
      runEnds: item.runEnds.slice(endsEnd + 1),
      ...(lines !== undefined && { runLines: lines.slice(head).join(',') }),
    },
  ];
}

/** Where the n-th (from 1) `separator` in `text` is. */
function nthIndexOf(text: string, separator: string, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) {
    at = text.indexOf(separator, at + 1);
    if (at < 0) throw new RangeError(`fewer than ${n} "${separator}" in a stored payload`);
  }
  return at;
}
