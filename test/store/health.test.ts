// The health counters on a real SQLite file: runs by outcome and cause per meter and job, kept
// across a reopen, and what a run with readings carries to an every-reading renderer: the
// counts as they stand with it and each sink's backlog before the run was queued.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readingRangesOf, Store, type EveryReadingRenderer, type PayloadRun, type RunHealth } from '../../src/store/index.js';
import { jobRun, liveReadings, tempStore } from './helpers.js';

const T0 = Date.UTC(2026, 0, 12, 10, 0, 0);
const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

/** Keeps the health of every run it renders; renders nothing of its own worth checking. */
function recordingRenderer(): EveryReadingRenderer & { seen: RunHealth[] } {
  const seen: RunHealth[] = [];
  return { format: 'health-test/1', seen, render: (run: PayloadRun) => (run.health && seen.push(run.health), 'x') };
}

describe('health counters', () => {
  it('counts runs by outcome and failed or partial ones by cause, per meter and job, across a reopen', () => {
    const temp = tempStore();
    try {
      const { store } = temp;
      store.recordJobRun(jobRun({ readAt: at(0), readings: liveReadings(0) }));
      store.recordJobRun(jobRun({ readAt: at(5), outcome: 'failed', error: 'silent', cause: 'no-answer', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(10), outcome: 'failed', error: 'silent', cause: 'no-answer', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(15), outcome: 'partial', error: 'crc', cause: 'corrupt-answer', readings: liveReadings(3).slice(0, 4) }));
      store.recordJobRun(jobRun({ readAt: at(20), outcome: 'failed', error: 'noise', cause: 'line-noise', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(25), outcome: 'failed', error: 'unplugged', cause: 'link-failure', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(30), outcome: 'partial', error: 'stopped', cause: 'closed', readings: liveReadings(6).slice(0, 2) }));
      // A run that is not ok but names no cause: other.
      store.recordJobRun(jobRun({ readAt: at(35), outcome: 'failed', error: 'none of the registers', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(40), readings: liveReadings(8) }));
      store.recordJobRun(jobRun({ meter: 'cabin', readAt: at(40), readings: liveReadings(8) }));
      store.recordJobRun(jobRun({ job: 'statistics', readAt: at(40), outcome: 'failed', error: 'silent', cause: 'no-answer', readings: [] }));
      store.close();
      const again = Store.open(temp.path, { sinks: ['influxdb'] });
      try {
        const zero = { noAnswer: 0, corruptAnswer: 0, lineNoise: 0, linkFailure: 0, other: 0 };
        assert.deepEqual(again.health().jobs, [
          { meter: 'cabin', job: 'live', counts: { runs: 1, ok: 1, partial: 0, failed: 0, ...zero } },
          { meter: 'home', job: 'live', counts: { runs: 9, ok: 2, partial: 2, failed: 5, noAnswer: 2, corruptAnswer: 1, lineNoise: 1, linkFailure: 1, other: 2 } },
          { meter: 'home', job: 'statistics', counts: { runs: 1, ok: 0, partial: 0, failed: 1, ...zero, noAnswer: 1 } },
        ]);
      } finally {
        again.close();
      }
    } finally {
      temp.cleanup();
    }
  });

  it('refuses an ok run that names a cause of failure, and counts nothing for it', () => {
    const temp = tempStore();
    try {
      assert.throws(() => temp.store.recordJobRun(jobRun({ cause: 'no-answer' })), { name: 'StoreError', code: 'invalid-input' });
      assert.deepEqual(temp.store.health().jobs, []);
    } finally {
      temp.cleanup();
    }
  });

  it('a run with readings carries the counts with it, its duration and each sink\'s backlog before it was queued', () => {
    const renderer = recordingRenderer();
    const temp = tempStore({ sinks: ['influxdb'], renderers: { influxdb: renderer } });
    try {
      const { store } = temp;
      store.recordJobRun(jobRun({ readAt: at(0), finishedAt: new Date(at(0).getTime() + 1800), readings: liveReadings(0) }));
      // A failed run carries nothing (no readings): its count arrives with the next run.
      store.recordJobRun(jobRun({ readAt: at(5), outcome: 'failed', error: 'silent', cause: 'no-answer', readings: [] }));
      store.recordJobRun(jobRun({ readAt: at(10), finishedAt: new Date(at(10).getTime() + 2500), readings: liveReadings(2) }));
      assert.equal(renderer.seen.length, 2);
      const [first, second] = renderer.seen;
      assert.deepEqual(first, {
        counts: { runs: 1, ok: 1, partial: 0, failed: 0, noAnswer: 0, corruptAnswer: 0, lineNoise: 0, linkFailure: 0, other: 0 },
        durationMs: 1800,
        sinks: [{ sink: 'influxdb', pending: 0, oldestPendingReadAt: null, latencyMs: null }],
      });
      assert.deepEqual(second, {
        counts: { runs: 3, ok: 2, partial: 0, failed: 1, noAnswer: 1, corruptAnswer: 0, lineNoise: 0, linkFailure: 0, other: 0 },
        durationMs: 2500,
        sinks: [{ sink: 'influxdb', pending: liveReadings().length, oldestPendingReadAt: at(0), latencyMs: null }],
      });
      assert.equal(store.status().sinks[0]?.pending, 2 * liveReadings().length, 'the backlog as status counts it, this run included');
    } finally {
      temp.cleanup();
    }
  });

  it('keeps each sink\'s newest delivery latency, from the newest run\'s commit to the confirmation; a backfill of older runs leaves it', () => {
    const temp = tempStore();
    try {
      const { store } = temp;
      store.recordJobRun(jobRun({ readAt: at(0), finishedAt: at(0.5), readings: liveReadings(0) }));
      const [first] = store.pendingRuns('influxdb', { limit: 100 });
      assert.ok(first);
      store.markDelivered('influxdb', readingRangesOf(first), at(1));
      assert.deepEqual(store.health().sinks, [{ sink: 'influxdb', latencyMs: 30_000, confirmedAt: at(1) }]);
      store.recordJobRun(jobRun({ readAt: at(5), finishedAt: at(5.25), readings: liveReadings(1) }));
      store.markDelivered('influxdb', store.pendingRuns('influxdb', { limit: 100 }).flatMap(readingRangesOf), at(6));
      assert.deepEqual(store.health().sinks, [{ sink: 'influxdb', latencyMs: 45_000, confirmedAt: at(6) }]);
      // Backfill: the first run again, an hour later.
      store.requeue('influxdb', { to: at(1) });
      store.markDelivered('influxdb', store.pendingRuns('influxdb', { limit: 100 }).flatMap(readingRangesOf), at(60));
      assert.deepEqual(store.health().sinks, [{ sink: 'influxdb', latencyMs: 45_000, confirmedAt: at(6) }]);
    } finally {
      temp.cleanup();
    }
  });
});
