// Every panel's query of every committed dashboard, filled in as Grafana fills it ($timeFilter,
// $__interval, $__interval_ms, $meter as a regex of one or several meters, the panel's own relative
// time and shift), run on a real InfluxDB 1.6 that the project's own sink filled: a simulated month
// of two MULTICAL 402s recorded in the store and delivered by Delivery and the v1 sink, plus a small
// hand-written kamstrup_consumption fixture standing in for the logger's per-period figures. Every
// query must return data for exactly the meters asked for; where the number is known (a counter's
// newest value, a statistic and its date, a stored period's figure), it is checked.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Delivery } from '../../src/delivery/delivery.js';
import { createLogger } from '../../src/log/logger.js';
import type { RegisterReading } from '../../src/registers/index.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { toCanonical } from '../../src/sinks/canonical-units.js';
import { fieldName, influxLines } from '../../src/sinks/influxdb/point.js';
import { createInfluxSink } from '../../src/sinks/influxdb/sink.js';
import { Store } from '../../src/store/index.js';
import { isDateTimeUnit } from '../../src/kmp/index.js';
import { readingOf, tempDir } from '../store/helpers.js';
import { serverUnavailable, startInfluxDb1, UNSET_SINK_SETTINGS, type InfluxDb1Server, type InfluxSeries, type JsonScalar } from '../support/servers.js';
import { interpolate, localDate, localMidnight, panelRange, startOf } from './grafana-macros.js';

const DATABASE = 'heat';
const TIME_ZONE = 'Europe/Amsterdam';
const DAYS = 31;
const LIVE_EVERY_MS = 300_000;
const HOUR_MS = 3_600_000;
const METERS = [
  { name: 'home', seed: 402, serial: 70000402 },
  { name: 'cabin', seed: 77, serial: 70000077 },
] as const;
const LIVE_REGISTERS = [60, 68, 74, 80, 86, 87, 89, 99, 1004];
const STATISTICS_REGISTERS = [138, 139, 140, 141, 142, 143, 144, 145, 149, 150, 123, 124, 125, 126, 127, 128, 129, 130, 146, 147];
/** Grafana intervals to fill $__interval with: the data source's minimum (1m) and coarser ones. */
const INTERVALS_MS = [60_000, HOUR_MS, 86_400_000];

const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });

interface TargetJson {
  readonly refId: string;
  readonly query: string;
}
interface PanelJson {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly TargetJson[];
  readonly timeFrom?: string;
  readonly timeShift?: string;
}
interface DashboardJson {
  readonly title: string;
  readonly time: { readonly from: string };
  readonly panels: readonly PanelJson[];
}

const dashboardsDir = new URL('../../../grafana/dashboards/', import.meta.url);
const boards: DashboardJson[] = readdirSync(dashboardsDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(new URL(file, dashboardsDir), 'utf8')) as DashboardJson);

/** What the store last recorded per meter and job: each field as the sink sends it. */
type Newest = Map<string, { readAt: number; fields: Map<string, number | string> }>;

function fieldsOf(readings: readonly RegisterReading[]): Map<string, number | string> {
  const fields = new Map<string, number | string>();
  for (const reading of readings) {
    const name = fieldName({ registerId: reading.registerId, name: reading.name });
    if (isDateTimeUnit(reading.unitCode)) {
      if (reading.text) fields.set(name, reading.text);
    } else fields.set(name, toCanonical(reading.value, reading.unitCode).value);
  }
  return fields;
}

/** A simulated month of both meters through the store and the project's own InfluxDB sink. */
async function fillFromTheSink(server: InfluxDb1Server, path: string, now: number): Promise<Newest> {
  const newest: Newest = new Map();
  // The logger's own kamstrup_consumption points go out with the runs, cut in the dashboards' zone;
  // the fixture written afterwards overwrites those of the same periods (same series, same time).
  const store = Store.open(path, { sinks: ['influxdb'], renderers: { influxdb: influxLines }, consumption: { timeZone: TIME_ZONE, gapMs: 2 * HOUR_MS, billingDates: {} } });
  const delivery = new Delivery({ sink: createInfluxSink({ ...UNSET_SINK_SETTINGS, url: server.url, api: 'v1', database: DATABASE, batchSize: 5000, timeoutMs: 30_000 }), store, logger: silent });
  const deliverAll = async (): Promise<void> => {
    for (;;) {
      const { delivered, rejected } = await delivery.deliverBatch();
      assert.equal(rejected, 0, 'InfluxDB takes every point');
      if (delivered === 0) break;
    }
  };
  try {
    const end = Math.floor(now / LIVE_EVERY_MS) * LIVE_EVERY_MS;
    const start = end - DAYS * 86_400_000;
    for (const meter of METERS) {
      // Between the meters, so the second one's runs carry a delivery latency (kamstrup_delivery).
      if (meter !== METERS[0]) await deliverAll();
      let clock = start;
      const simulator = new SimulatedMultical402({ seed: meter.seed, serialNumber: meter.serial, now: () => clock });
      for (let time = start; time <= end; time += LIVE_EVERY_MS) {
        clock = time;
        const registers = simulator.registers();
        const read = (ids: readonly number[]): RegisterReading[] =>
          ids.map((id) => {
            const answer = registers.get(id);
            assert.ok(answer, `the simulator answers register ${id}`);
            return readingOf(answer.registerId, answer.unitCode, answer.value, answer.byteCount);
          });
        const jobs: [string, readonly number[]][] = [['live', LIVE_REGISTERS]];
        // The statistics job at 7 past each hour, as the default config runs it.
        if (time % HOUR_MS === 5 * 60_000) jobs.push(['statistics', STATISTICS_REGISTERS]);
        for (const [job, ids] of jobs) {
          const readings = read(ids);
          store.recordJobRun({ meter: meter.name, model: 'multical-402', meterSerial: meter.serial, job, readAt: new Date(time), finishedAt: new Date(time + 2000), outcome: 'ok', error: null, missing: [], readings });
          newest.set(`${meter.name}/${job}`, { readAt: time, fields: fieldsOf(readings) });
        }
      }
    }
    await deliverAll();
    assert.equal(store.status().sinks.find((sink) => sink.name === 'influxdb')?.pending, 0, 'everything delivered');
  } finally {
    store.close();
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------
// The kamstrup_consumption fixture: what the logger's per-period figures look like (issue 12,
// part 1), with made-up, exactly known values, until the real producer writes them.

type Period = 'day' | 'month' | 'year';
interface FixturePoint {
  readonly meter: string;
  readonly period: Period;
  readonly start: number;
  readonly energyKwh: number;
  readonly volumeM3: number;
  readonly dtMean: number;
  readonly cooling: number;
  /** The current period, still growing. */
  readonly open: boolean;
}

function consumptionFixture(now: number): FixturePoint[] {
  const today = localDate(now, TIME_ZONE);
  const points: FixturePoint[] = [];
  const starts: [Period, number, number][] = [];
  for (let back = 0; back < 40; back++) starts.push(['day', back, localMidnight(today.year, today.month, today.day - back, TIME_ZONE)]);
  for (let back = 0; back < 15; back++) starts.push(['month', back, localMidnight(today.year, today.month - back, 1, TIME_ZONE)]);
  for (let back = 0; back < 3; back++) starts.push(['year', back, localMidnight(today.year - back, 0, 1, TIME_ZONE)]);
  METERS.forEach((meter, m) => {
    for (const [period, back, start] of starts) {
      const scale = period === 'day' ? 1 : period === 'month' ? 30 : 365;
      points.push({ meter: meter.name, period, start, energyKwh: scale * (40 + back) + m * 0.5, volumeM3: (scale * (80 + back)) / 100 + m * 0.01, dtMean: 30 + back / 10 + m, cooling: 20 - back / 10 - m, open: back === 0 });
    }
  });
  return points;
}

function consumptionLine(point: FixturePoint): string {
  return (
    `kamstrup_consumption,meter=${point.meter},period=${point.period} ` +
    `energy_kwh=${point.energyKwh},volume_m3=${point.volumeM3},hours=24,peak_power_kw=9.5,t1_mean=68.5,t2_mean=${68.5 - point.dtMean},dt_mean=${point.dtMean},` +
    `cooling_m3_per_mwh=${point.cooling},gap_hours=0,resets=0i,simulated=true,open=${point.open} ${point.start}`
  );
}

// ---------------------------------------------------------------------------------------------

const unavailable = serverUnavailable('influxdb-1.6');

describe('every dashboard panel query on InfluxDB 1.6 filled by the InfluxDB sink', { skip: unavailable ?? false }, () => {
  const temp = tempDir('kamstrup-grafana-');
  let server: InfluxDb1Server;
  let newest: Newest;
  let fixture: FixturePoint[];
  const now = Date.now();

  before(async () => {
    const started = await startInfluxDb1();
    assert.ok(started);
    server = started;
    await server.createDatabase(DATABASE);
    newest = await fillFromTheSink(server, join(temp.dir, 'month.sqlite'), now);
    fixture = consumptionFixture(now);
    const written = await server.request('POST', `/write?db=${DATABASE}&precision=ms`, { body: fixture.map(consumptionLine).join('\n') });
    assert.equal(written.status, 204, written.body);
  });
  after(async () => {
    await server?.close();
    temp.remove();
  });

  /** A panel's query as Grafana would send it, and InfluxDB's answer. */
  async function run(board: DashboardJson, panel: PanelJson, target: TargetJson, meters: readonly string[], intervalMs = INTERVALS_MS[0] ?? 60_000): Promise<InfluxSeries[]> {
    const range = panelRange(Date.now(), board.time.from, TIME_ZONE, panel.timeFrom, panel.timeShift);
    const query = interpolate(target.query, { ...range, intervalMs, meters, timeZone: TIME_ZONE });
    return server.query(DATABASE, query);
  }

  function find(title: string): { board: DashboardJson; panel: PanelJson; target: TargetJson } {
    for (const board of boards) {
      const panel = board.panels.find((p) => p.type !== 'row' && p.title === title);
      const target = panel?.targets?.[0];
      if (panel && target) return { board, panel, target };
    }
    throw new Error(`no panel "${title}"`);
  }

  async function valuesOf(title: string, meter: string): Promise<{ series: InfluxSeries[]; rows: Record<string, JsonScalar>[] }> {
    const { board, panel, target } = find(title);
    const series = (await run(board, panel, target, [meter])).filter((s) => s.tags.meter === meter);
    const rows = series.flatMap((s) => s.values.map((row) => Object.fromEntries(s.columns.map((column, i) => [column, row[i] ?? null]))));
    return { series, rows };
  }

  for (const board of boards) {
    for (const panel of board.panels.filter((p) => p.type !== 'row')) {
      it(`${board.title} · ${panel.title}: data for one meter and for several, with every interval`, async () => {
        for (const target of panel.targets ?? []) {
          const intervals = target.query.includes('$__interval') ? INTERVALS_MS : [INTERVALS_MS[0] ?? 60_000];
          for (const meters of [['home'], ['home', 'cabin']]) {
            for (const intervalMs of intervals) {
              const series = await run(board, panel, target, meters, intervalMs);
              const seen = [...new Set(series.map((s) => s.tags.meter))].sort();
              // The delivery panels are per sink, for every meter.
              if (target.query.includes('$meter')) assert.deepEqual(seen, [...meters].sort(), `${target.refId} (${meters.join(', ')}, ${intervalMs} ms): one series per meter asked for`);
              else assert.ok(series.length > 0, `${target.refId}: a series`);
              for (const s of series) assert.ok(s.values.some((row) => row.slice(1).some((value) => value !== null)), `${target.refId} of ${s.tags.meter}: has values`);
            }
          }
        }
      });
    }
  }

  it('Live: each stat is the newest value the meter gave, in the sink\'s units; the last reading is the newest live run', async () => {
    for (const meter of METERS) {
      const live = newest.get(`${meter.name}/live`);
      assert.ok(live);
      for (const [title, field] of [['Power', 'power'], ['Flow', 'flow'], ['T1 (supply)', 't1'], ['T2 (return)', 't2'], ['ΔT', 't_diff'], ['Heat energy', 'heat_energy'], ['Volume', 'volume'], ['Info code', 'info']] as const) {
        const { rows } = await valuesOf(title, meter.name);
        assert.equal(rows.length, 1, `${title}: one value for ${meter.name}`);
        assert.equal(rows[0]?.last, live.fields.get(field), `${title} of ${meter.name}`);
      }
      const { rows } = await valuesOf('Last reading', meter.name);
      assert.equal(rows[0]?.time, live.readAt, `last reading of ${meter.name}`);
      const counter = (await valuesOf('Heat energy counter', meter.name)).rows.at(-1);
      assert.equal(counter?.last, live.fields.get('heat_energy'), 'the counter over time ends at its newest value');
    }
  });

  it('Meter statistics: this month\'s and this year\'s extremes with their dates and the mean temperatures, as last read', async () => {
    for (const meter of METERS) {
      const statistics = newest.get(`${meter.name}/statistics`);
      assert.ok(statistics);
      for (const period of ['month', 'year'] as const) {
        const { rows } = await valuesOf(period === 'month' ? 'This month' : 'This year', meter.name);
        assert.equal(rows.length, 1);
        const row = rows[0] ?? {};
        for (const [column, field] of [['max flow', 'max_flow'], ['max flow on', 'max_flow_date'], ['min flow', 'min_flow'], ['min flow on', 'min_flow_date'], ['max power', 'max_power'], ['max power on', 'max_power_date'], ['min power', 'min_power'], ['min power on', 'min_power_date']] as const) {
          assert.equal(row[column], statistics.fields.get(`${field}_${period}`), `${meter.name}: ${column} this ${period}`);
        }
        assert.equal(row['mean T1'], statistics.fields.get(`avg_t1_${period}`));
        assert.equal(row['mean T2'], statistics.fields.get(`avg_t2_${period}`));
        assert.match(String(row['max flow on']), /^\d{4}-\d{2}-\d{2}$/, 'the date as text');
      }
    }
  });

  it('Consumption: the stored figures per day (31 days), month (13 months) and year, and this month against the same month last year', async () => {
    const expected = (meter: string, period: Period, from: number): FixturePoint[] => fixture.filter((p) => p.meter === meter && p.period === period && p.start >= from).sort((a, b) => a.start - b.start);
    for (const meter of METERS) {
      const cases: [string, Period, 'energyKwh' | 'volumeM3' | 'dtMean' | 'cooling', string][] = [
        ['Energy per day', 'day', 'energyKwh', '31d'],
        ['Volume per day', 'day', 'volumeM3', '31d'],
        ['Energy per month', 'month', 'energyKwh', '13M'],
        ['Volume per month', 'month', 'volumeM3', '13M'],
        ['Energy per year', 'year', 'energyKwh', '10y'],
        ['Mean ΔT per month', 'month', 'dtMean', '13M'],
        ['Cooling: m³ per MWh per month', 'month', 'cooling', '13M'],
      ];
      for (const [title, period, key, timeFrom] of cases) {
        const { rows } = await valuesOf(title, meter.name);
        const want = expected(meter.name, period, panelRange(Date.now(), 'now-1h', TIME_ZONE, timeFrom).from);
        assert.deepEqual(rows.map((row) => [row.time, Object.values(row)[1]]), want.map((p) => [p.start, p[key]]), `${title} of ${meter.name}`);
      }
      assert.equal(expected(meter.name, 'day', panelRange(Date.now(), 'now-1h', TIME_ZONE, '31d').from).length, 31, 'today and the 30 days before');
      assert.equal(expected(meter.name, 'month', panelRange(Date.now(), 'now-1h', TIME_ZONE, '13M').from).length, 13, 'this month and the 12 before');
      const thisMonth = startOf('M', now, TIME_ZONE);
      const { year, month } = localDate(now, TIME_ZONE);
      const lastYear = localMidnight(year - 1, month, 1, TIME_ZONE);
      const energyOf = (start: number): number | undefined => fixture.find((p) => p.meter === meter.name && p.period === 'month' && p.start === start)?.energyKwh;
      assert.equal((await valuesOf('Energy this month', meter.name)).rows[0]?.last, energyOf(thisMonth));
      assert.equal((await valuesOf('Energy, same month last year', meter.name)).rows[0]?.last, energyOf(lastYear));
    }
  });
});
