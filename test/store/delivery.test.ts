// The delivery side of the outbox, as the InfluxDB and Domoticz sinks will drive it: pages of
// the oldest pending readings, confirmations that delete, rejections that stay.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { MAX_PENDING_LIMIT } from '../../src/store/index.js';
import { assertStoreError, count, DAY_MS, jobRun, liveReadings, rawDatabase, tempStore } from './helpers.js';

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
    for (;;) {
      const page = t.store.pendingDeliveries('influxdb', { limit: 10, ...(after === undefined ? {} : { afterReadingId: after }) });
      if (page.length === 0) break;
      pages.push(page.map((d) => d.readingId));
      after = page.at(-1)?.readingId;
    }
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

  it('markDelivered deletes the rows of that sink only and says how many were pending', () => {
    const page = t.store.pendingDeliveries('influxdb', { limit: 9 });
    const ids = page.map((d) => d.readingId);
    assert.equal(count(t.path, 'outbox'), 54);
    assert.equal(t.store.markDelivered('influxdb', ids), 9);
    assert.equal(count(t.path, 'outbox'), 45);
    assert.equal(t.store.markDelivered('influxdb', ids), 0); // twice: nothing left to delete
    assert.equal(t.store.markDelivered('influxdb', [999_999]), 0);
    assert.equal(t.store.markDelivered('influxdb', []), 0);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 100 }).length, 18);
    assert.equal(t.store.pendingDeliveries('domoticz', { limit: 100 }).length, 27);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readAt.getTime(), at('10:05:00').getTime());
  });

  it('markRejected keeps the row as rejected with reason and time; it is neither pending nor deliverable', () => {
    const [refused] = t.store.pendingDeliveries('influxdb', { limit: 1 });
    const id = refused?.readingId ?? 0;
    t.store.markRejected('influxdb', id, 'HTTP 400: field type conflict');
    assert.notEqual(t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readingId, id);
    assert.equal(t.store.pendingDeliveries('influxdb', { limit: 100 }).length, 26);
    assert.equal(t.store.markDelivered('influxdb', [id]), 0); // a rejection never counts as delivered
    assert.equal(t.store.status().sinks.find((s) => s.name === 'influxdb')?.rejected, 1);

    const db = rawDatabase(t.path, { readonly: true });
    try {
      const row = db.prepare('SELECT state, reason, rejected_at AS at FROM outbox WHERE reading_id = ? AND sink_id = (SELECT id FROM sinks WHERE name = ?)').get(id, 'influxdb');
      assert.deepEqual(row, { state: 'rejected', reason: 'HTTP 400: field type conflict', at: rejectedAt.getTime() });
    } finally {
      db.close();
    }

    t.store.markRejected('influxdb', id, 'HTTP 400: still wrong'); // again: the newest reason wins
    assert.equal(count(t.path, "outbox WHERE reason = 'HTTP 400: still wrong'"), 1);
    t.store.markDelivered('influxdb', [t.store.pendingDeliveries('influxdb', { limit: 1 })[0]?.readingId ?? 0]);
    assertStoreError(() => t.store.markRejected('influxdb', 999_999, 'x'), 'not-pending');
  });

  it('refuses sinks it does not know and page sizes it will not serve', () => {
    assertStoreError(() => t.store.pendingDeliveries('mqtt', { limit: 1 }), 'unknown-sink');
    assertStoreError(() => t.store.markDelivered('mqtt', [1]), 'unknown-sink');
    assertStoreError(() => t.store.markRejected('mqtt', 1, 'x'), 'unknown-sink');
    assertStoreError(() => t.store.pendingDeliveries('influxdb', { limit: 0 }), 'invalid-input');
    assertStoreError(() => t.store.pendingDeliveries('influxdb', { limit: MAX_PENDING_LIMIT + 1 }), 'invalid-input');
  });

  it('reading ids only grow, even after prune deleted the newest readings', () => {
    const drained = (sink: string): void => {
      t.store.markDelivered(sink, t.store.pendingDeliveries(sink, { limit: 100 }).map((d) => d.readingId));
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
