// What `status` shows: per meter its newest values, per meter and job the last run, per sink
// the backlog, its oldest reading and the rejections.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { rangesOf } from '../../src/store/index.js';
import { jobRun, liveReadings, readingOf, statisticsReadings, tempStore } from './helpers.js';

const at = (time: string): Date => new Date(`2026-01-12T${time}Z`);

describe('status', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore({ sinks: ['influxdb', 'domoticz'], now: () => at('12:00:00') });
  });
  afterEach(() => t.cleanup());

  it('is empty for a new database, with the sinks listed', () => {
    assert.deepEqual(t.store.status(), {
      meters: [],
      jobs: [],
      sinks: [
        { name: 'domoticz', enabled: true, delivery: 'every-reading', pending: 0, oldestPendingReadAt: null, rejected: 0, entries: [] },
        { name: 'influxdb', enabled: true, delivery: 'every-reading', pending: 0, oldestPendingReadAt: null, rejected: 0, entries: [] },
      ],
    });
  });

  it('gives each meter its newest value of every register, across jobs and partial runs', () => {
    const s = t.store;
    s.recordJobRun(jobRun({ readAt: at('10:00:00'), readings: liveReadings(0) }));
    s.recordJobRun(jobRun({ readAt: at('10:01:00'), job: 'statistics', readings: statisticsReadings() }));
    // A partial run without power (80): power stays the 10:00 value, the rest is 10:05.
    s.recordJobRun(jobRun({ readAt: at('10:05:00'), outcome: 'partial', missing: [80], readings: liveReadings(5).filter((r) => r.registerId !== 80) }));
    s.recordJobRun(jobRun({ readAt: at('10:10:00'), outcome: 'failed', error: 'CRC error in every answer (3 attempts)', readings: [] }));
    s.recordJobRun(jobRun({ readAt: at('10:02:00'), meter: 'garage', meterSerial: 70000999, readings: [readingOf(60, 0x02, '1234')] }));

    const status = s.status();
    const [garage, home] = status.meters;
    assert.deepEqual(
      { ...garage, values: garage?.values.map((v) => [v.registerId, v.name, v.value, v.unit, v.job]) },
      { name: 'garage', model: 'multical-402', serial: 70000999, lastReadAt: at('10:02:00'), values: [[60, 'heat_energy', '1234', 'kWh', 'live']] },
    );
    assert.equal(home?.lastReadAt?.toISOString(), at('10:05:00').toISOString());
    const values = new Map(home?.values.map((v) => [v.registerId, v]));
    assert.equal(home?.values.length, 9 + 20);
    assert.deepEqual(home?.values.map((v) => v.registerId), [...values.keys()].sort((a, b) => a - b));
    assert.deepEqual([values.get(80)?.value, values.get(80)?.readAt], ['3.5', at('10:00:00')]); // from before the partial run
    assert.deepEqual([values.get(60)?.value, values.get(60)?.readAt], ['55.653', at('10:05:00')]);
    assert.deepEqual(values.get(138), {
      registerId: 138, name: 'max_flow_date_month', value: '261117', unit: 'yy:mm:dd', unitCode: 0x30,
      text: '2026-11-17', readAt: at('10:01:00'), job: 'statistics', simulated: false,
    });
    assert.equal('text' in (values.get(86) ?? {}), false); // not a date register: no text at all

    assert.deepEqual(
      status.jobs.map((j) => [j.meter, j.job, j.lastRun.readAt.toISOString(), j.lastRun.outcome, j.lastRun.error, j.lastRun.readingCount]),
      [
        ['garage', 'live', at('10:02:00').toISOString(), 'ok', null, 1],
        ['home', 'live', at('10:10:00').toISOString(), 'failed', 'CRC error in every answer (3 attempts)', 0],
        ['home', 'statistics', at('10:01:00').toISOString(), 'ok', null, 20],
      ],
    );
  });

  it('a meter that never answered has no read time and no values, but its failed run shows', () => {
    t.store.recordJobRun(jobRun({ meterSerial: null, outcome: 'failed', error: 'no such device /dev/ttyUSB0', readings: [] }));
    const status = t.store.status();
    assert.deepEqual(status.meters, [{ name: 'home', model: 'multical-402', serial: null, lastReadAt: null, values: [] }]);
    assert.equal(status.jobs[0]?.lastRun.error, 'no such device /dev/ttyUSB0');
  });

  it('gives each sink its backlog, the read time of its oldest waiting reading, and its rejections', () => {
    const s = t.store;
    s.recordJobRun(jobRun({ readAt: at('10:00:00') }));
    s.recordJobRun(jobRun({ readAt: at('10:05:00'), readings: liveReadings(1) }));
    // influxdb took the first run, refused one reading of the second; domoticz took nothing.
    const first = s.pendingDeliveries('influxdb', { limit: 9 });
    s.markDelivered('influxdb', rangesOf(first.map((d) => d.readingId)));
    const [refused] = s.pendingDeliveries('influxdb', { limit: 1 });
    s.markRejected('influxdb', refused?.readingId ?? 0, 'HTTP 400: partial write: field type conflict');

    assert.deepEqual(s.status().sinks, [
      { name: 'domoticz', enabled: true, delivery: 'every-reading', pending: 18, oldestPendingReadAt: at('10:00:00'), rejected: 0, entries: [] },
      { name: 'influxdb', enabled: true, delivery: 'every-reading', pending: 8, oldestPendingReadAt: at('10:05:00'), rejected: 1, entries: [] },
    ]);
  });
});
