// Payloads in the outbox: what a sink will send for a run, rendered as the run is recorded and
// handed to the delivery loop while the sink owes the run whole; otherwise the run comes as its
// readings, to be rendered then. Either way nothing is lost or sent twice.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { rangesOf, readingRangesOf, splitPayloads, Store, type PayloadRenderer, type PayloadRun, type PendingItem } from '../../src/store/index.js';
import { assertStoreError, count, jobRun, liveReadings, rawDatabase, readingRuns, statisticsReadings, tempStore } from './helpers.js';

const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 12, 10, minute));

/** A recognisable rendering: meter, job, read time, serial and values. */
function renderer(format = 'test-line/1'): PayloadRenderer & { calls: number } {
  const rendering = {
    format,
    calls: 0,
    render(run: PayloadRun): string {
      rendering.calls++;
      return `${run.meter}/${run.job}/${run.serial ?? '-'} ${run.readings.map((r) => r.value).join(',')} ${run.readAt.getTime()}`;
    },
  };
  return rendering;
}

/** The reading ids of a page, whichever way each run comes. */
function idsOf(items: readonly PendingItem[]): number[] {
  return items.flatMap(readingRangesOf).flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, i) => first + i));
}

const PAYLOADS = 'outbox_payloads';

describe('payloads', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t.cleanup());

  it('are rendered for the sinks that render, stored beside the run, and handed over while the run is owed whole', () => {
    const lines = renderer();
    t = tempStore({ sinks: ['influxdb', 'domoticz'], renderers: { influxdb: lines } });
    for (let i = 0; i < 3; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    assert.equal(count(t.path, PAYLOADS), 3, 'one per run, for influxdb only');
    const perRun = liveReadings().length;
    const items = t.store.pendingRuns('influxdb', { limit: 100 });
    assert.deepEqual(items, [
      {
        firstReadingId: 1,
        lastReadingId: 3 * perRun,
        payload: [0, 1, 2].map((i) => `home/live/70000402 ${liveReadings(i).map((r) => r.value).join(',')} ${at(5 * i).getTime()}`).join('\n'),
        runs: 3,
        runEnds: `${perRun},${2 * perRun},${3 * perRun}`,
      },
    ], 'consecutive runs come as one text');
    assert.deepEqual(idsOf(t.store.pendingRuns('influxdb', { limit: 10 })), Array.from({ length: 2 * perRun }, (_, i) => i + 1), 'whole runs: a page may hold a few readings more than asked');
    assert.deepEqual(readingRuns(t.store.pendingRuns('domoticz', { limit: 100 })).map((run) => run.readings.length), [perRun, perRun, perRun]);
  });

  it('are not used once a run is delivered, rejected or owed only in part: it comes as its readings, and prune deletes them', () => {
    t = tempStore({ renderers: { influxdb: renderer() } });
    for (let i = 0; i < 3; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    const ids = idsOf(t.store.pendingRuns('influxdb', { limit: 100 }));
    t.store.markDelivered('influxdb', rangesOf(ids.slice(0, 4)));
    t.store.markRejected('influxdb', ids[22] ?? 0, 'HTTP 400: field type conflict');
    assert.equal(count(t.path, PAYLOADS), 3, 'delivery leaves them to prune');
    const [first, middle, last] = t.store.pendingRuns('influxdb', { limit: 100 });
    assert.ok(first && !('payload' in first) && first.readings.length === 5);
    assert.ok(middle && 'payload' in middle);
    assert.ok(last && !('payload' in last));
    assert.deepEqual(last.readings.map((r) => r.readingId), [...ids.slice(18, 22), ...ids.slice(23)]);
    assert.equal(t.store.prune({ olderThanDays: 1, now: at(0) }).payloads, 2);
    assert.equal(count(t.path, PAYLOADS), 1, 'only the middle run is still owed whole');
    t.store.markDelivered('influxdb', rangesOf(idsOf(t.store.pendingRuns('influxdb', { limit: 100 }))));
    assert.equal(t.store.status().sinks[0]?.pending, 0);
    assert.equal(t.store.prune({ olderThanDays: 1, now: at(0) }).payloads, 1);
    assert.equal(count(t.path, PAYLOADS), 0);
  });

  it('and runs queued again without one come in reading id order, whatever the page size', () => {
    t = tempStore({ renderers: { influxdb: renderer() } });
    for (let i = 0; i < 4; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: i % 2 === 0 ? liveReadings(i) : statisticsReadings() }));
    const all = idsOf(t.store.pendingRuns('influxdb', { limit: 100 }));
    // Delivered, then queued again by backfill: runs 0 and 2 without payloads between 1 and 3 with theirs.
    t.store.markDelivered('influxdb', rangesOf(all));
    for (let i = 4; i < 6; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    const withLines = idsOf(t.store.pendingRuns('influxdb', { limit: 100 }));
    t.store.markDelivered('influxdb', rangesOf(withLines));
    t.store.prune({ olderThanDays: 1, now: at(0) });
    assert.ok(t.store.requeue('influxdb') > 0);
    const expected = [...all, ...withLines];
    assert.equal(count(t.path, PAYLOADS), 0, 'requeued history has none once pruned');
    for (let i = 6; i < 8; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    const newer = idsOf(t.store.pendingRuns('influxdb', { afterReadingId: expected.at(-1) ?? 0, limit: 100 }));
    assert.equal(count(t.path, PAYLOADS), 2);
    for (let limit = 1; limit <= 40; limit++) {
      const seen: number[] = [];
      for (let page = t.store.pendingRuns('influxdb', { limit }); page.length > 0; page = t.store.pendingRuns('influxdb', { afterReadingId: seen.at(-1) ?? 0, limit })) seen.push(...idsOf(page));
      assert.deepEqual(seen, [...expected, ...newer], `pages of ${limit}`);
    }
    const kinds = t.store.pendingRuns('influxdb', { limit: 1000 }).map((item) => ('payload' in item ? 'payload' : 'readings'));
    assert.deepEqual(kinds, ['readings', 'readings', 'readings', 'readings', 'readings', 'readings', 'payload', 'payload']);
  });

  it('never cost a run: a renderer that throws leaves it to be rendered at delivery, and nothing to send is an empty payload', () => {
    const failing: PayloadRenderer = {
      format: 'test-line/1',
      render: (run) => {
        if (run.job === 'statistics') throw new Error('no field for this register');
        return null;
      },
    };
    t = tempStore({ renderers: { influxdb: failing } });
    t.store.recordJobRun(jobRun({ job: 'statistics', readings: statisticsReadings() }));
    t.store.recordJobRun(jobRun({ readAt: at(5) }));
    assert.equal(t.store.status().sinks[0]?.pending, statisticsReadings().length + liveReadings().length);
    const [statistics, live] = t.store.pendingRuns('influxdb', { limit: 100 });
    assert.ok(statistics && 'readings' in statistics && statistics.job === 'statistics');
    assert.deepEqual(live && 'payload' in live && live.payload, '');
  });

  it('in another format are dropped when a store opens with a new renderer; the same format keeps them', () => {
    t = tempStore({ renderers: { influxdb: renderer('test-line/1') } });
    for (let i = 0; i < 3; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    t.store.close();
    const reopen = (options: Partial<Parameters<typeof Store.open>[1]>): PendingItem[] => {
      const store = Store.open(t.path, { sinks: ['influxdb'], ...options });
      try {
        return store.pendingRuns('influxdb', { limit: 100 });
      } finally {
        store.close();
      }
    };
    assert.ok(readingRuns(reopen({})).length === 3, 'a process that does not render sends runs as readings');
    assert.equal(count(t.path, PAYLOADS), 3, 'and keeps the payloads');
    const same = renderer('test-line/1');
    assert.ok(reopen({ renderers: { influxdb: same } }).every((item) => 'payload' in item));
    const changed = renderer('test-line/2');
    assert.equal(readingRuns(reopen({ renderers: { influxdb: changed } })).length, 3);
    assert.equal(count(t.path, PAYLOADS), 0);
    const db = rawDatabase(t.path, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT payload_format FROM sinks WHERE name = 'influxdb'").pluck().get(), 'test-line/2');
    } finally {
      db.close();
    }
    assert.equal(same.calls + changed.calls, 0, 'opening renders nothing');
  });

  it('need a renderer for a sink the store is opened with', () => {
    t = tempStore();
    const error = assertStoreError(() => Store.open(t.path, { sinks: ['influxdb'], renderers: { domoticz: renderer() } }), 'invalid-input');
    assert.match(error.message, /renderer for "domoticz", which is not one of the sinks opened with .* \(influxdb\)/);
  });

  it('of consecutive runs split apart by run, keeping each run\'s readings with its line', () => {
    t = tempStore({ renderers: { influxdb: renderer() } });
    for (let i = 0; i < 5; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    const [all] = t.store.pendingRuns('influxdb', { limit: 100 });
    assert.ok(all && 'payload' in all && all.runs === 5);
    const perRun = liveReadings().length;
    const lines = all.payload.split('\n');
    for (let runs = 1; runs <= 5; runs++) {
      const [head, tail] = splitPayloads(all, runs);
      assert.deepEqual(head, { firstReadingId: 1, lastReadingId: runs * perRun, payload: lines.slice(0, runs).join('\n'), runs, runEnds: all.runEnds.split(',').slice(0, runs).join(',') });
      if (runs === 5) assert.equal(tail, undefined);
      else assert.deepEqual(tail, { firstReadingId: runs * perRun + 1, lastReadingId: 5 * perRun, payload: lines.slice(runs).join('\n'), runs: 5 - runs, runEnds: all.runEnds.split(',').slice(runs).join(',') });
    }
    assert.deepEqual(splitPayloads(all, 9), [all, undefined]);
    // What a page joins, split run by run, is what the runs' own pages hold.
    const single = (after: number): readonly PendingItem[] => t.store.pendingRuns('influxdb', { afterReadingId: after, limit: 1 });
    let rest = splitPayloads(all, 1);
    for (let run = 0; run < 5; run++) {
      const [own] = single(run * perRun);
      assert.ok(own && 'payload' in own);
      assert.equal(rest[0].payload, own.payload);
      assert.deepEqual(readingRangesOf(rest[0]), readingRangesOf(own));
      if (rest[1]) rest = splitPayloads(rest[1], 1);
    }
  });

  it('of several lines per run (a run and the consumption periods it changed) split apart at the run, not at a line', () => {
    // Runs alternate between one, two and three lines.
    const multiLine = { format: 'test-lines/1', render: (run: PayloadRun): string => Array.from({ length: (run.readAt.getUTCMinutes() / 5) % 3 + 1 }, (_, i) => `${run.readAt.getTime()}#${i}`).join('\n') };
    t = tempStore({ renderers: { influxdb: multiLine } });
    for (let i = 0; i < 5; i++) t.store.recordJobRun(jobRun({ readAt: at(5 * i), readings: liveReadings(i) }));
    const [all] = t.store.pendingRuns('influxdb', { limit: 100 });
    assert.ok(all && 'payload' in all && all.runs === 5);
    assert.equal(all.runLines, '1,2,3,1,2');
    const runText = (i: number): string => multiLine.render({ ...jobRun({ readAt: at(5 * i) }), serial: null });
    for (let runs = 1; runs < 5; runs++) {
      const [head, tail] = splitPayloads(all, runs);
      assert.equal(head.payload, [0, 1, 2, 3, 4].slice(0, runs).map(runText).join('\n'));
      assert.equal(tail?.payload, [0, 1, 2, 3, 4].slice(runs).map(runText).join('\n'));
      assert.deepEqual([head.runLines, tail?.runLines], ['1,2,3,1,2'.split(',').slice(0, runs).join(','), '1,2,3,1,2'.split(',').slice(runs).join(',')]);
    }
  });
});
