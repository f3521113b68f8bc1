// The Logger health dashboard's queries, filled in as Grafana fills them, on a real InfluxDB 1.6
// that the project's own sink filled from a store: six hours of 5-minute runs of one meter, with
// an hour of faults (three silent runs, then a partial one with a garbled answer), delivered in
// two parts so the later runs carry a backlog and the first part's delivery latency. Each panel
// returns the numbers the store's counters give.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Delivery } from '../../src/delivery/delivery.js';
import { createLogger } from '../../src/log/logger.js';
import { influxLines } from '../../src/sinks/influxdb/point.js';
import { createInfluxSink } from '../../src/sinks/influxdb/sink.js';
import { Store, type JobRunInput } from '../../src/store/index.js';
import { jobRun, liveReadings, tempDir } from '../store/helpers.js';
import { serverUnavailable, startInfluxDb1, UNSET_SINK_SETTINGS, type InfluxDb1Server, type JsonScalar } from '../support/servers.js';
import { interpolate, panelRange } from './grafana-macros.js';

const DATABASE = 'heat';
const TIME_ZONE = 'Europe/Amsterdam';
const HOUR_MS = 3_600_000;
const EVERY_MS = 300_000;
const HOURS = 6;
const RUNS_PER_HOUR = HOUR_MS / EVERY_MS;
/** Hour 2: runs 3, 4 and 5 silent, run 6 partial with a garbled answer. */
const FAULT_HOUR = 2;
const READINGS = liveReadings().length;

const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });

interface PanelJson {
  readonly title: string;
  readonly targets: readonly { readonly query: string }[];
  readonly timeFrom?: string;
}
const board = JSON.parse(readFileSync(new URL('../../../grafana/dashboards/kamstrup-health.json', import.meta.url), 'utf8')) as { time: { from: string }; panels: readonly PanelJson[] };

function runAt(start: number, index: number): JobRunInput {
  const readAt = new Date(start + index * EVERY_MS);
  const finishedAt = new Date(readAt.getTime() + 2000);
  const inHour = index - FAULT_HOUR * RUNS_PER_HOUR;
  if (inHour >= 3 && inHour <= 5) return jobRun({ readAt, finishedAt, outcome: 'failed', error: 'no answer', cause: 'no-answer', readings: [] });
  if (inHour === 6) return jobRun({ readAt, finishedAt, outcome: 'partial', error: 'CRC', cause: 'corrupt-answer', readings: liveReadings(index).slice(0, 4) });
  return jobRun({ readAt, finishedAt, readings: liveReadings(index) });
}

const unavailable = serverUnavailable('influxdb-1.6');

describe('Logger health panels on InfluxDB 1.6 filled by the InfluxDB sink', { skip: unavailable ?? false }, () => {
  const temp = tempDir('kamstrup-health-');
  let server: InfluxDb1Server;
  const start = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOURS * HOUR_MS;
  const total = HOURS * RUNS_PER_HOUR;
  const half = total / 2;
  let latencyMs = 0;
  let expectedLatencyMs = 0;

  before(async () => {
    const started = await startInfluxDb1();
    assert.ok(started);
    server = started;
    await server.createDatabase(DATABASE);
    const store = Store.open(join(temp.dir, 'health.sqlite'), { sinks: ['influxdb'], renderers: { influxdb: influxLines } });
    try {
      const delivery = new Delivery({ sink: createInfluxSink({ ...UNSET_SINK_SETTINGS, url: server.url, api: 'v1', database: DATABASE, batchSize: 5000, timeoutMs: 30_000 }), store, logger: silent });
      const deliverAll = async (): Promise<void> => {
        while ((await delivery.deliverBatch()).delivered > 0);
      };
      for (let i = 0; i < half; i++) store.recordJobRun(runAt(start, i));
      await deliverAll();
      const kept = store.health().sinks[0];
      latencyMs = kept?.latencyMs ?? -1;
      // From the newest delivered run's commit (its finishedAt) to the confirmation.
      expectedLatencyMs = (kept?.confirmedAt.getTime() ?? 0) - runAt(start, half - 1).finishedAt.getTime();
      for (let i = half; i < total; i++) store.recordJobRun(runAt(start, i));
      await deliverAll();
    } finally {
      store.close();
    }
  });
  after(async () => {
    await server?.close();
    temp.remove();
  });

  async function rows(title: string): Promise<Record<string, JsonScalar>[]> {
    const panel = board.panels.find((p) => p.title === title);
    assert.ok(panel, `a panel "${title}"`);
    const range = panelRange(Date.now(), board.time.from, TIME_ZONE, panel.timeFrom);
    const query = interpolate(panel.targets[0]?.query ?? '', { ...range, intervalMs: 60_000, meters: ['home'], timeZone: TIME_ZONE });
    const series = await server.query(DATABASE, query);
    return series.flatMap((s) => s.values.map((row) => Object.fromEntries(s.columns.map((column, i) => [column, row[i] ?? null]))));
  }

  it('Job runs per hour: 12 runs an hour, and the fault hour\'s 3 failed and 1 partial in it, though the failed runs wrote nothing', async () => {
    const hours = (await rows('Job runs per hour')).map((row) => [row.time, row.runs, row.failed, row.partial]);
    assert.deepEqual(hours, Array.from({ length: HOURS - 1 }, (_, k) => [start + (k + 1) * HOUR_MS, RUNS_PER_HOUR, k + 1 === FAULT_HOUR ? 3 : 0, k + 1 === FAULT_HOUR ? 1 : 0]));
  });

  it('Read errors per hour by cause: no answer 3 and corrupt answer 1 in the fault hour, nothing else', async () => {
    const hours = (await rows('Read errors per hour by cause')).map((row) => [row.time, row['no answer'], row['corrupt answer'], row['line noise'], row['link failure'], row.other]);
    assert.deepEqual(hours, Array.from({ length: HOURS - 1 }, (_, k) => [start + (k + 1) * HOUR_MS, k + 1 === FAULT_HOUR ? 3 : 0, k + 1 === FAULT_HOUR ? 1 : 0, 0, 0, 0]));
  });

  it('Outbox backlog and its oldest reading: the last run saw the second part\'s runs before it waiting', async () => {
    const waiting = total - half - 1;
    assert.equal((await rows('Outbox backlog per sink')).at(-1)?.last, waiting * READINGS);
    assert.equal((await rows('Oldest waiting reading per sink')).at(-1)?.last, (waiting * EVERY_MS) / 1000);
    assert.equal((await rows('Outbox backlog per sink'))[0]?.last, 0, 'the first run: nothing waiting');
  });

  it('Delivery latency: the first part\'s delivery, as the store measured it, carried by the second part\'s runs', async () => {
    assert.ok(latencyMs > 0, `a latency was kept (${latencyMs} ms)`);
    assert.equal(latencyMs, expectedLatencyMs, 'from the newest run\'s commit to the confirmation');
    const latencies = (await rows('Delivery latency')).map((row) => row.last);
    assert.ok(latencies.length > 0);
    assert.ok(latencies.every((value) => value === latencyMs), `every point: ${latencyMs} ms`);
  });

  it('Last good reading: the newest run\'s time; Run duration: 2 s', async () => {
    assert.equal((await rows('Last good reading'))[0]?.time, start + (total - 1) * EVERY_MS);
    assert.ok((await rows('Run duration')).every((row) => row.max === 2000));
  });
});
