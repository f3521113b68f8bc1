// The health lines the InfluxDB renderer writes with a run, byte for byte: kamstrup_health with
// the cumulative counts of the run's meter and job, and kamstrup_delivery per sink with its
// backlog and newest latency; and what a store stores for a run once another was committed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { influxLines } from '../../src/sinks/influxdb/point.js';
import { readingOf, tempStore, jobRun, liveReadings } from '../store/helpers.js';

const READ_AT = new Date(Date.UTC(2026, 0, 12, 10, 0, 0));
const MS = READ_AT.getTime();

describe('InfluxDB health lines', () => {
  it('a run with health: its line, then kamstrup_health and a kamstrup_delivery line per sink, integers marked, a latency not known left out', () => {
    const text = influxLines.render({
      meter: 'home',
      model: 'multical-402',
      serial: 70000402,
      job: 'live',
      readAt: READ_AT,
      readings: [readingOf(80, 0x16, '3.5')],
      health: {
        counts: { runs: 12, ok: 8, partial: 1, failed: 3, noAnswer: 2, corruptAnswer: 1, lineNoise: 0, linkFailure: 1, other: 0 },
        durationMs: 2300,
        sinks: [
          { sink: 'domoticz', pending: 2, oldestPendingReadAt: new Date(MS - 90_500), latencyMs: null },
          { sink: 'influxdb', pending: 0, oldestPendingReadAt: null, latencyMs: 153 },
        ],
      },
    });
    assert.deepEqual(text?.split('\n'), [
      `kamstrup,meter=home,model=multical-402,serial=70000402 power=3.5 ${MS}`,
      `kamstrup_health,job=live,meter=home corrupt_answer=1i,duration_ms=2300i,failed=3i,line_noise=0i,link_failure=1i,no_answer=2i,ok=8i,other=0i,partial=1i,readings=1i,runs=12i ${MS}`,
      `kamstrup_delivery,sink=domoticz oldest_pending_s=90.5,pending=2i ${MS}`,
      `kamstrup_delivery,sink=influxdb latency_ms=153,oldest_pending_s=0,pending=0i ${MS}`,
    ]);
  });

  it('tags escaped as line protocol wants them', () => {
    const text = influxLines.render({
      meter: 'flat 2,a',
      model: 'multical-402',
      serial: null,
      job: 'live=1',
      readAt: READ_AT,
      readings: [readingOf(80, 0x16, '3.5')],
      health: { counts: { runs: 1, ok: 1, partial: 0, failed: 0, noAnswer: 0, corruptAnswer: 0, lineNoise: 0, linkFailure: 0, other: 0 }, durationMs: 10, sinks: [{ sink: 'influx db', pending: 0, oldestPendingReadAt: null, latencyMs: null }] },
    });
    const [, health, delivery] = text?.split('\n') ?? [];
    assert.match(health ?? '', /^kamstrup_health,job=live\\=1,meter=flat\\ 2\\,a corrupt_answer=0i,/);
    assert.match(delivery ?? '', /^kamstrup_delivery,sink=influx\\ db oldest_pending_s=0,pending=0i /);
  });

  it('the store stores them with each run: the second run sees the first one\'s readings waiting, 5 minutes old', () => {
    const temp = tempStore({ sinks: ['influxdb'], renderers: { influxdb: influxLines } });
    try {
      temp.store.recordJobRun(jobRun({ readAt: READ_AT, readings: liveReadings(0) }));
      temp.store.recordJobRun(jobRun({ readAt: new Date(MS + 300_000), outcome: 'partial', error: 'silent', cause: 'no-answer', readings: liveReadings(1).slice(0, 3) }));
      const [item] = temp.store.pendingRuns('influxdb', { limit: 100 });
      assert.ok(item && 'payload' in item, 'stored lines');
      const lines = item.payload.split('\n').filter((line) => !line.startsWith('kamstrup,') && !line.startsWith('kamstrup_consumption,'));
      assert.deepEqual(lines, [
        `kamstrup_health,job=live,meter=home corrupt_answer=0i,duration_ms=2300i,failed=0i,line_noise=0i,link_failure=0i,no_answer=0i,ok=1i,other=0i,partial=0i,readings=9i,runs=1i ${MS}`,
        `kamstrup_delivery,sink=influxdb oldest_pending_s=0,pending=0i ${MS}`,
        `kamstrup_health,job=live,meter=home corrupt_answer=0i,duration_ms=2300i,failed=0i,line_noise=0i,link_failure=0i,no_answer=1i,ok=1i,other=0i,partial=1i,readings=3i,runs=2i ${MS + 300_000}`,
        `kamstrup_delivery,sink=influxdb oldest_pending_s=300,pending=9i ${MS + 300_000}`,
      ]);
    } finally {
      temp.cleanup();
    }
  });
});
