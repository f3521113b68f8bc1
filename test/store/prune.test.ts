// Retention: delivered readings older than the age go; undelivered and rejected ones stay and
// are counted; the newest run of each meter and job stays for status.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { rangesOf, type Store } from '../../src/store/index.js';
import { repeatUntil } from '../support/bounded.js';
import { assertStoreError, count, DAY_MS, jobRun, liveReadings, statisticsReadings, tempStore } from './helpers.js';

const now = new Date('2026-06-01T12:00:00Z');
const daysAgo = (days: number): Date => new Date(now.getTime() - days * DAY_MS);

function deliverAll(store: Store, sink: string): void {
  repeatUntil(() => {
    const page = store.pendingDeliveries(sink, { limit: 1000 });
    if (page.length === 0) return true;
    store.markDelivered(sink, rangesOf(page.map((d) => d.readingId)));
    return false;
  }, `delivering everything pending for ${sink}`, 100);
}

describe('prune', () => {
  let t: ReturnType<typeof tempStore>;
  const runs: Record<string, number> = {};

  beforeEach(() => {
    t = tempStore({ sinks: ['influxdb'], now: () => now });
    const s = t.store;
    // (home, live): A old and delivered; E old and failed; B old, partly delivered, one
    // rejected, one pending; D recent. (home, statistics): C old and delivered, its only run.
    // (garage, live): F old and failed, its only run.
    runs.A = s.recordJobRun(jobRun({ readAt: daysAgo(500) })).runId;
    deliverAll(s, 'influxdb');
    runs.E = s.recordJobRun(jobRun({ readAt: daysAgo(460), outcome: 'failed', error: 'no answer', readings: [] })).runId;
    runs.B = s.recordJobRun(jobRun({ readAt: daysAgo(450), readings: liveReadings(1) })).runId;
    const [rejected, pending, ...rest] = s.pendingDeliveries('influxdb', { limit: 100 });
    s.markDelivered('influxdb', rangesOf(rest.map((d) => d.readingId)));
    s.markRejected('influxdb', rejected?.readingId ?? 0, 'HTTP 400: field type conflict');
    runs.pending = pending?.readingId ?? 0;
    runs.rejected = rejected?.readingId ?? 0;
    runs.C = s.recordJobRun(jobRun({ readAt: daysAgo(420), job: 'statistics', readings: statisticsReadings() })).runId;
    runs.F = s.recordJobRun(jobRun({ readAt: daysAgo(600), meter: 'garage', outcome: 'failed', error: 'no answer', readings: [] })).runId;
    runs.D = s.recordJobRun(jobRun({ readAt: daysAgo(10), readings: liveReadings(2) })).runId;
    s.markDelivered('influxdb', rangesOf(s.pendingDeliveries('influxdb', { afterReadingId: runs.pending, limit: 100 }).map((d) => d.readingId)));
  });
  afterEach(() => t.cleanup());

  it('deletes delivered old readings, keeps pending and rejected ones and counts them', () => {
    const result = t.store.prune({ olderThanDays: 400, now });
    assert.deepEqual(result, { readings: 9 + 7 + 20, runs: 2, keptUndelivered: 2, payloads: 0 });
    assert.equal(count(t.path, 'readings'), 9 + 2);
    const left = [...t.store.exportReadings()];
    assert.deepEqual(
      [...new Set(left.map((row) => row.readAt.getTime()))],
      [daysAgo(450).getTime(), daysAgo(10).getTime()],
    );
    const sink = t.store.status().sinks[0];
    assert.deepEqual([sink?.pending, sink?.rejected], [1, 1]);
  });

  it('keeps the newest run of every meter and job, and deletes other old runs left without readings', () => {
    t.store.prune({ olderThanDays: 400, now });
    const db = (t.store as unknown as { db: Database }).db;
    const ids = (db.prepare('SELECT id FROM runs ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    assert.deepEqual(ids, [runs.B, runs.C, runs.F, runs.D].sort((a, b) => (a ?? 0) - (b ?? 0)));
    const jobs = t.store.status().jobs.map((j) => [j.meter, j.job, j.lastRun.runId]);
    assert.deepEqual(jobs, [
      ['garage', 'live', runs.F],
      ['home', 'live', runs.D],
      ['home', 'statistics', runs.C],
    ]);
  });

  it('is idempotent, and deletes a reading once its last sink has it; a rejected one never', () => {
    t.store.prune({ olderThanDays: 400, now });
    assert.deepEqual(t.store.prune({ olderThanDays: 400, now }), { readings: 0, runs: 0, keptUndelivered: 2, payloads: 0 });
    assert.equal(t.store.markDelivered('influxdb', rangesOf([runs.pending ?? 0])), 1);
    assert.deepEqual(t.store.prune({ olderThanDays: 400, now }), { readings: 1, runs: 0, keptUndelivered: 1, payloads: 0 });
    // Even an age of 0 keeps what a sink refused, and the newest runs.
    const all = t.store.prune({ olderThanDays: 0, now });
    assert.deepEqual(all, { readings: 9, runs: 0, keptUndelivered: 1, payloads: 0 });
    assert.equal(count(t.path, 'readings'), 1);
    assert.equal(count(t.path, 'runs'), 4);
  });

  it('deletes the stored payloads of runs no longer owed whole, in steps, and keeps those of runs still owed', () => {
    const lines = { format: 'test-line/1', render: (run: { readAt: Date }): string => `line ${run.readAt.getTime()}` };
    const p = tempStore({ renderers: { influxdb: lines } });
    try {
      for (let i = 0; i < 30; i++) p.store.recordJobRun(jobRun({ readAt: daysAgo(30 - i), readings: liveReadings(i) }));
      const ids = p.store.pendingDeliveries('influxdb', { limit: 1000 }).map((d) => d.readingId);
      // 20 runs delivered, one in part (its first four readings): 21 payloads to go, 9 to keep.
      p.store.markDelivered('influxdb', rangesOf(ids.slice(0, 20 * 9 + 4)));
      assert.equal(count(p.path, 'outbox_payloads'), 30, 'delivery leaves them');
      const steps = [...p.store.pruneChunks({ olderThanDays: 400, now, chunkSize: 8 })];
      assert.deepEqual(steps.map((step) => step.payloads), [8, 16]);
      assert.equal(p.store.prune({ olderThanDays: 400, now }).payloads, 0);
      assert.equal(count(p.path, 'outbox_payloads'), 9);
      const kinds = p.store.pendingRuns('influxdb', { limit: 1000 }).map((item) => ('payload' in item ? item.payload : item.readings.length));
      assert.deepEqual(kinds, [5, ...Array.from({ length: 9 }, (_, i) => `line ${daysAgo(9 - i).getTime()}`)]);
    } finally {
      p.cleanup();
    }
  });

  it('works in bounded steps, one transaction each, with the same totals', () => {
    const steps = [...t.store.pruneChunks({ olderThanDays: 400, now, chunkSize: 9 })];
    assert.equal(steps.length, 3); // F+A (1+9 readings), E+B (1+9), C (20): each step stops at 9 or more
    assert.deepEqual(steps.at(-1), { readings: 36, runs: 2, keptUndelivered: 2, payloads: 0 });
    // Totals only grow from step to step.
    for (let i = 1; i < steps.length; i++) assert.ok((steps[i]?.readings ?? 0) >= (steps[i - 1]?.readings ?? 0));
  });

  it('the database itself refuses to delete a reading a sink still owes or has parked', () => {
    const db = (t.store as unknown as { db: Database }).db;
    assert.throws(() => db.prepare('DELETE FROM readings WHERE id = ?').run(runs.pending), /a sink still owes this reading/);
    assert.throws(() => db.prepare('DELETE FROM readings WHERE id = ?').run(runs.rejected), /FOREIGN KEY constraint failed/);
  });

  it('refuses a negative age', () => {
    assertStoreError(() => t.store.prune({ olderThanDays: -1, now }), 'invalid-input');
    assertStoreError(() => t.store.pruneChunks({ olderThanDays: 1, now, chunkSize: 0 }), 'invalid-input');
  });
});
