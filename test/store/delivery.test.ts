// The delivery side of the outbox, as the InfluxDB and Domoticz sinks will drive it: pages of
// the oldest pending readings, confirmations that take them out, rejections that stay, history
// queued again, and backlogs of several ranges.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { MAX_PENDING_LIMIT, rangesOf } from '../../src/store/index.js';
import { assertStoreError, count, DAY_MS, jobRun, liveReadings, rawDatabase, readingRuns, QUEUED, tempStore } from './helpers.js';
import { repeatUntil } from '../support/bounded.js';

const at = (time: string): Date => new Date(`2026-01-12T${time}Z`);
const rejectedAt = new Date('2026-01-12T12:34:56Z');

describe('delivery', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore({ sinks: ['influxdb', 'domoticz'], now: () => rejectedAt });
    for (const [i, time] of ['10:00:00', '10:05:00', '10:10:00'].entries()) {
      t.store.recordJobRun(jobRun({ readAt: at(time), readings: liveReadings(i) }));
    }
  });
  afterEach(() => t.cleanup());

  it('pages through the backlog oldest first with a keyset cursor', () => {
    const pages: number[][] = [];
    let after: number | undefined;
    repeatUntil(() => {
      const page = t.store.pendingDeliveries('influxdb', { limit: 10, ...(after === undefined ? {} : { afterReadingId: after }) });
      if (page.length === 0) return true;
      pages.push(page.map((d) => d.readingId));
      after = page.at(-1)?.readingId;
      return false;
    }, 'paging through the backlog', 10);
    assert.deepEqual(pages.map((p) => p.length), [10, 10, 7]);
    const ids = pages.flat();
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, 27);
  });

  it('hands over each reading with its run: meter, model, serial, job, read time', () => {
    const [first] = t.store.pendingDeliveries('influxdb', { limit: 1 });
    assert.deepEqual(first, {
      readingId: first?.readingId,
      meter: 'home',
      model: 'multical-402',
      serial: 70000402,
      job: 'live',
      readAt: at('10:00:00'),
      reading: liveReadings(0)[0],
    });
  });

  it('markDelivered takes readings out of that sink\'s backlog only and says how many were pending', () => {
    const page = t.store.pendingDeliveries('influxdb', { limit: 9 });
    const ids = page.map((d) => d.readingId);
    assert.equal(count(t.path, QUEUED), 54);
    assert.equal(t.store.markDelivered('influxdb', rangesOf(ids)), 9);
    assert.equal(count(t.path, QUEUED), 45);
    assert.equal(t.store.markDelivered('influxdb', rangesOf(ids)), 0); // twice: nothing left to delete
    assert.equal(t.store.markDelivered('influxdb', rangesOf([999_999])), 0);
    assert.equal(t.store.markDelivered('influxdb', []), 0);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 100 }).length, 18);
    assert.equal(t.store.pendingDeliveries('domoticz', { limit: 100 }).length, 27);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readAt.getTime(), at('10:05:00').getTime());
  });

  it('markRejected parks the reading with reason and time; it is neither pending nor deliverable', () => {
    const [refused] = t.store.pendingDeliveries('influxdb', { limit: 1 });
    const id = refused?.readingId ?? 0;
    t.store.markRejected('influxdb', id, 'HTTP 400: field type conflict');
    assert.notEqual(t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readingId, id);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 100 }).length, 26);
    assert.equal(t.store.markDelivered('influxdb', rangesOf([id])), 0); // a rejection never counts as delivered
    assert.equal(t.store.status().sinks.find((s) => s.name === 'influxdb')?.rejected, 1);

    const db = rawDatabase(t.path, { readonly: true });
    try {
      const row = db.prepare('SELECT reason, rejected_at AS at FROM rejections WHERE reading_id = ? AND sink_id = (SELECT id FROM sinks WHERE name = ?)').get(id, 'influxdb');
      assert.deepEqual(row, { reason: 'HTTP 400: field type conflict', at: rejectedAt.getTime() });
    } finally {
      db.close();
    }

    t.store.markRejected('influxdb', id, 'HTTP 400: still wrong'); // again: the newest reason wins
    assert.equal(count(t.path, "rejections WHERE reason = 'HTTP 400: still wrong'"), 1);
    t.store.markDelivered('influxdb', rangesOf([t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readingId ?? 0]));
    assertStoreError(() => t.store.markRejected('influxdb', 999_999, 'x'), 'not-pending');
  });

  it('pages across the gaps of a backlog of several ranges, grouped by run', () => {
    const ids = t.store.pendingDeliveries('influxdb', { limit: 100 }).map((d) => d.readingId);
    // Out of order and with gaps: the middle run, and one reading of the last, are delivered.
    const middle = ids.slice(9, 18);
    assert.equal(t.store.markDelivered('influxdb', rangesOf([...middle, ids[20] ?? 0].reverse())), 10);
    const left = [...ids.slice(0, 9), ...ids.slice(18, 20), ...ids.slice(21)];
    assert.deepEqual(t.store.pendingDeliveries('influxdb', { limit: 100 }).map((d) => d.readingId), left);
    assert.equal(count(t.path, 'outbox_ranges WHERE sink_id = (SELECT id FROM sinks WHERE name = \'influxdb\')'), 3);
    const pages: number[][] = [];
    for (let after = 0; ; ) {
      const page = readingRuns(t.store.pendingRuns('influxdb', { afterReadingId: after, limit: 5 }));
      if (page.length === 0) break;
      pages.push(page.flatMap((run) => run.readings.map((r) => r.readingId)));
      after = pages.at(-1)?.at(-1) ?? 0;
    }
    assert.deepEqual(pages.flat(), left);
    assert.deepEqual(pages.map((p) => p.length), [5, 5, 5, 2]);
    const [first, second] = readingRuns(t.store.pendingRuns('influxdb', { limit: 12 }));
    assert.deepEqual([first?.readAt, first?.readings.length, second?.readAt, second?.readings.length], [at('10:00:00'), 9, at('10:10:00'), 3]);
    assert.deepEqual([first?.meter, first?.model, first?.serial, first?.job], ['home', 'multical-402', 70000402, 'live']);
    const status = t.store.status().sinks.find((s) => s.name === 'influxdb');
    assert.deepEqual([status?.pending, status?.oldestPendingReadAt], [left.length, at('10:00:00')]);
  });

  it('requeue queues a time range again, except what is still queued or parked, and says how many', () => {
    const ids = t.store.pendingDeliveries('influxdb', { limit: 100 }).map((d) => d.readingId);
    t.store.markDelivered('influxdb', rangesOf(ids.slice(0, 18)));
    assertStoreError(() => t.store.markRejected('influxdb', ids[3] ?? 0, 'x'), 'not-pending'); // delivered: nothing to reject
    t.store.markRejected('influxdb', ids[20] ?? 0, 'HTTP 400: field type conflict');
    // 10:05 only: its nine readings come back; 10:10 is still queued and its rejected one stays out.
    assert.equal(t.store.requeue('influxdb', { from: at('10:05:00'), to: at('10:10:00') }), 9);
    assert.equal(t.store.requeue('influxdb', { from: at('10:05:00'), to: at('10:10:00') }), 0, 'twice: nothing new');
    assert.equal(t.store.requeue('influxdb'), 9, 'everything: the first run too');
    const pending = t.store.pendingDeliveries('influxdb', { limit: 100 }).map((d) => d.readingId);
    assert.deepEqual(pending, ids.filter((id) => id !== ids[20]));
    assert.equal(count(t.path, 'outbox_ranges WHERE sink_id = (SELECT id FROM sinks WHERE name = \'influxdb\')'), 2, 'joined around the rejected reading');
    assert.equal(t.store.status().sinks.find((s) => s.name === 'influxdb')?.rejected, 1);
  });

  it('refuses sinks it does not know and page sizes it will not serve', () => {
    assertStoreError(() => t.store.pendingDeliveries('mqtt', { limit: 1 }), 'unknown-sink');
    assertStoreError(() => t.store.markDelivered('mqtt', rangesOf([1])), 'unknown-sink');
    assertStoreError(() => t.store.markRejected('mqtt', 1, 'x'), 'unknown-sink');
    assertStoreError(() => t.store.pendingDeliveries('influxdb', { limit: 0 }), 'invalid-input');
    assertStoreError(() => t.store.pendingDeliveries('influxdb', { limit: MAX_PENDING_LIMIT + 1 }), 'invalid-input');
  });

  it('reading ids only grow, even after prune deleted the newest readings', () => {
    const drained = (sink: string): void => {
      t.store.markDelivered(sink, rangesOf(t.store.pendingDeliveries(sink, { limit: 100 }).map((d) => d.readingId)));
    };
    drained('influxdb');
    drained('domoticz');
    const db = (t.store as unknown as { db: Database }).db;
    const maxBefore = (db.prepare('SELECT max(id) AS id FROM readings').get() as { id: number }).id;
    t.store.prune({ olderThanDays: 1, now: new Date(at('10:10:00').getTime() + 2 * DAY_MS) });
    assert.equal(count(t.path, 'readings'), 0);
    t.store.recordJobRun(jobRun({ readAt: at('11:00:00') }));
    const [next] = t.store.pendingDeliveries('influxdb', { afterReadingId: maxBefore, limit: 1 });
    assert.equal(next?.readingId, maxBefore + 1);
  });
});
