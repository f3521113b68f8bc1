// Export: filters, order by read time then register id, and iteration in constant memory.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { ExportRow } from '../../src/store/index.js';
import { assertStoreError, jobRun, liveReadings, readingOf, statisticsReadings, tempStore } from './helpers.js';

const at = (time: string): Date => new Date(`2026-01-12T${time}Z`);

describe('exportReadings', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore();
    const s = t.store;
    s.recordJobRun(jobRun({ readAt: at('10:05:00'), readings: liveReadings(5) }));
    s.recordJobRun(jobRun({ readAt: at('10:00:00'), readings: liveReadings(0) })); // written late, read early
    s.recordJobRun(jobRun({ readAt: at('10:00:00'), meter: 'garage', meterSerial: 70000999, readings: [readingOf(60, 0x02, '1234'), readingOf(86, 0x25, '40.00')] }));
    s.recordJobRun(jobRun({ readAt: at('10:01:00'), job: 'statistics', readings: statisticsReadings() }));
    s.recordJobRun(jobRun({ readAt: at('10:10:00'), outcome: 'failed', error: 'no answer', readings: [] }));
  });
  afterEach(() => t.cleanup());

  const key = (row: ExportRow): string => `${row.readAt.toISOString().slice(11, 19)} ${row.meter} ${row.registerId}`;

  it('gives every reading, ordered by read time then register id, with its run, meter and raw number', () => {
    const rows = [...t.store.exportReadings()];
    assert.equal(rows.length, 9 + 9 + 2 + 20);
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1] as ExportRow, rows[i] as ExportRow];
      assert.ok(a.readAt < b.readAt || (a.readAt.getTime() === b.readAt.getTime() && a.registerId <= b.registerId), `${key(a)} before ${key(b)}`);
    }
    // Two meters read at the same second interleave by register id.
    assert.deepEqual(rows.slice(0, 4).map(key), ['10:00:00 garage 60', '10:00:00 home 60', '10:00:00 home 68', '10:00:00 home 74']);
    assert.deepEqual(rows[0], {
      meter: 'garage', model: 'multical-402', serial: 70000999, job: 'live', readAt: at('10:00:00'),
      registerId: 60, name: 'heat_energy', value: '1234', unit: 'kWh', unitCode: 2, text: null,
      mantissa: '1234', exponent: 0, negative: false,
    });
  });

  it('filters by meter, registers and a half-open time range', () => {
    const keys = (filter: Parameters<typeof t.store.exportReadings>[0]): string[] => [...t.store.exportReadings(filter)].map(key);
    assert.deepEqual(keys({ meter: 'garage' }), ['10:00:00 garage 60', '10:00:00 garage 86']);
    assert.deepEqual(keys({ registerIds: [60, 138] }), [
      '10:00:00 garage 60', '10:00:00 home 60', '10:01:00 home 138', '10:05:00 home 60',
    ]);
    assert.deepEqual(keys({ meter: 'home', registerIds: [60], from: at('10:00:00'), to: at('10:05:00') }), ['10:00:00 home 60']);
    assert.deepEqual(keys({ registerIds: [60], from: at('10:00:00.001') }), ['10:05:00 home 60']);
    assert.deepEqual(keys({ meter: 'nowhere' }), []);
    assert.deepEqual(keys({ registerIds: [] }), []);
  });

  it('checks the filter when called, not at the first row', () => {
    assertStoreError(() => t.store.exportReadings({ from: new Date('not a date') }), 'invalid-input');
    assertStoreError(() => t.store.exportReadings({ registerIds: [60.5] }), 'invalid-input');
  });

  it('frees the connection when the caller stops early', () => {
    for (const row of t.store.exportReadings()) {
      assert.equal(row.meter, 'garage');
      break;
    }
    assert.equal(t.store.recordJobRun(jobRun({ readAt: at('11:00:00') })).readings, 9);
  });
});

describe('exportReadings over 200 000 readings', () => {
  const TOTAL = 200_000;
  const PER_RUN = 20;
  let t: ReturnType<typeof tempStore>;
  let gc: () => void;

  before(() => {
    // A real gc() between samples, so the heap figures show what is retained, not garbage.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
    t = tempStore({ sinks: [] });
    const start = Date.UTC(2025, 0, 1);
    const readings = statisticsReadings();
    for (let run = 0; run < TOTAL / PER_RUN; run++) {
      t.store.recordJobRun(jobRun({ readAt: new Date(start + run * 300_000), job: 'statistics', readings }));
    }
  });
  after(() => t.cleanup());

  it('iterates them all in order while the heap stays flat', () => {
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let rows = 0;
    let last: ExportRow | undefined;
    for (const row of t.store.exportReadings()) {
      if (last) {
        const [a, b] = [last.readAt.getTime(), row.readAt.getTime()];
        assert.ok(a < b || (a === b && last.registerId < row.registerId), `row ${rows}`);
      }
      rows++;
      last = row;
      if (rows % 20_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    }
    assert.equal(rows, TOTAL);
    assert.equal(last?.readAt.getTime(), Date.UTC(2025, 0, 1) + (TOTAL / PER_RUN - 1) * 300_000);
    assert.deepEqual([last?.registerId, last?.value, last?.text], [150, '39.80', null]);
    // Holding the rows would take well over 50 MB (about 300 bytes each); a cursor takes next to nothing.
    assert.ok(peak < 8 * 1024 * 1024, `heap grew by ${(peak / 1024 / 1024).toFixed(1)} MB while exporting`);
  });
});
