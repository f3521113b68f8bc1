// `kamstrup-logger report` through the real binary, on hand-made histories recorded with
// store.recordJobRun into a real SQLite file (Europe/Amsterdam), with answers worked out by
// hand: an interval across midnight, the 23- and 25-hour DST days read hourly, a missed day, a
// counter reset, a GJ meter, the meter's own target date; the figures kept as runs are
// recorded equal a rebuild from the readings, and prune leaves them as they were.

import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatReport } from '../../src/cli/report.js';
import { periodKinds } from '../../src/consumption/index.js';
import type { RegisterReading } from '../../src/registers/index.js';
import { Store, type JobRunInput } from '../../src/store/index.js';
import { jobRun, rawDatabase, readingOf } from '../store/helpers.js';
import { assertExit, parseJsonLines, run, tempDir } from './helpers.js';

const HOUR = 3_600_000;
const METERS = ['midnight', 'spring', 'autumn', 'gap', 'replaced', 'gj'] as const;
const settings = { timeZone: 'Europe/Amsterdam', gapMs: 2 * HOUR, billingDates: { midnight: { month: 6, day: 1 } } };

const mwh = (value: string): RegisterReading => readingOf(60, 0x03, value);
const hours = (value: number): RegisterReading => readingOf(1004, 0x2e, String(value));

function at(meter: string, iso: string, readings: RegisterReading[], overrides: Partial<JobRunInput> = {}): JobRunInput {
  return jobRun({ meter, readAt: new Date(iso), readings, ...overrides });
}

/** Hourly runs from `first` (UTC), 1 kWh and one operating hour more each hour. */
function hourly(meter: string, first: string, count: number, extra: (i: number) => RegisterReading[] = () => []): JobRunInput[] {
  return Array.from({ length: count }, (_, i) => at(meter, new Date(Date.parse(first) + i * HOUR).toISOString(), [mwh((1 + i / 1000).toFixed(3)), hours(1000 + i), ...extra(i)]));
}

function history(): JobRunInput[] {
  return [
    // 23:00 → 02:00 local: a third before midnight, two thirds after; m³×T for the means.
    at('midnight', '2026-01-12T22:00:00Z', [mwh('10.000'), readingOf(68, 0x28, '100.00'), readingOf(97, 0x2b, '7000.0'), readingOf(110, 0x2b, '4000.0'), readingOf(80, 0x16, '3.4')]),
    at('midnight', '2026-01-13T01:00:00Z', [mwh('10.003'), readingOf(68, 0x28, '100.30'), readingOf(97, 0x2b, '7021.3'), readingOf(110, 0x2b, '4012.0'), readingOf(80, 0x16, '2.1')]),
    // The 23-hour day, read hourly from local midnight to midnight two days on.
    ...hourly('spring', '2026-03-28T23:00:00Z', 48),
    // The 25-hour day; the meter's target date (10-01) is read with the first run.
    ...hourly('autumn', '2026-10-24T22:00:00Z', 50, (i) => (i === 0 ? [readingOf(98, 0x32, '1001')] : [])),
    // Read hourly on the 10th up to 23:00, then not until 01:00 on the 12th: the 11th is missed.
    at('gap', '2026-01-10T21:00:00Z', [mwh('2.000')]),
    at('gap', '2026-01-10T22:00:00Z', [mwh('2.001')]),
    at('gap', '2026-01-12T00:00:00Z', [mwh('2.027')]),
    // Replaced at 10:10: the new meter starts from 0.001.
    at('replaced', '2026-01-12T09:00:00Z', [mwh('500.000')]),
    at('replaced', '2026-01-12T09:05:00Z', [mwh('500.002')]),
    at('replaced', '2026-01-12T09:10:00Z', [mwh('0.001')]),
    at('replaced', '2026-01-12T09:15:00Z', [mwh('0.003')], { simulated: true }),
    // 0.36 GJ is exactly 100 kWh; 22:00 → 02:00 local, half on each day.
    at('gj', '2026-01-12T21:00:00Z', [readingOf(60, 0x08, '100.00')]),
    at('gj', '2026-01-13T01:00:00Z', [readingOf(60, 0x08, '100.36')]),
  ];
}

function configYaml(databasePath: string): string {
  return `time_zone: Europe/Amsterdam\nstorage: { path: ${JSON.stringify(databasePath)} }\nmeters:\n${METERS.map((name) => `  - { name: ${name}, url: "sim://multical-402"${name === 'midnight' ? ', billing_date: "06-01"' : ''} }\n`).join('')}`;
}

interface CsvRecord {
  readonly [column: string]: string;
}

function csv(stdout: string): CsvRecord[] {
  const [header = '', ...lines] = stdout.trimEnd().split('\n');
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i] ?? '', cell])));
}

describe('kamstrup-logger report', () => {
  let temp: ReturnType<typeof tempDir>;
  let config: string;
  let databasePath: string;
  let outOfOrder: boolean;

  before(() => {
    temp = tempDir();
    databasePath = join(temp.dir, 'kamstrup.sqlite');
    config = join(temp.dir, 'kamstrup-logger.yaml');
    writeFileSync(config, configYaml(databasePath));
    const store = Store.open(databasePath, { sinks: [], consumption: settings });
    try {
      for (const runInput of history()) assert.equal(store.recordJobRun(runInput).outOfOrder, false);
      // A clock that jumped back: stored, counted as out of order, the figures unchanged.
      outOfOrder = store.recordJobRun(at('midnight', '2026-01-12T23:00:00Z', [mwh('10.500')])).outOfOrder;
    } finally {
      store.close();
    }
  });
  after(() => temp.remove());

  const report = async (...args: string[]): Promise<string> => {
    const result = await run(['report', '--config', config, ...args]);
    assertExit(result, 0);
    return result.stdout;
  };
  const days = async (meter: string): Promise<CsvRecord[]> => csv(await report('--by', 'day', '--meter', meter, '--format', 'csv'));

  it('splits an interval across midnight in proportion to time, with volume-weighted means and the peak power', async () => {
    assert.equal(outOfOrder, true);
    assert.deepEqual(
      (await days('midnight')).map((r) => [r.period, r.energy_kwh, r.volume_m3, r.t1_mean, r.t2_mean, r.dt_mean, r.dt_source, r.cooling_m3_per_mwh, r.peak_power_kw, r.peak_power_at]),
      [
        ['2026-01-12', '1', '0.1', '71.00', '40.00', '31.00', 'm3xT', '100.000', '3.4', '2026-01-12T22:00:00.000Z'],
        ['2026-01-13', '2', '0.2', '71.00', '40.00', '31.00', 'm3xT', '100.000', '2.1', '2026-01-13T01:00:00.000Z'],
      ],
    );
    const [month] = csv(await report('--by', 'month', '--meter', 'midnight', '--format', 'csv'));
    assert.deepEqual([month?.period, month?.energy_kwh, month?.volume_m3, month?.peak_power_kw, month?.open], ['2026-01', '3', '0.3', '3.4', 'false']);
    const [billing] = csv(await report('--by', 'billing', '--meter', 'midnight', '--format', 'csv'));
    assert.deepEqual([billing?.period, billing?.start, billing?.end], ['2025-06-01', '2025-05-31T22:00:00.000Z', '2026-05-31T22:00:00.000Z']);
  });

  it('gives the 23-hour and the 25-hour day their own hours and energy, for a meter read hourly', async () => {
    assert.deepEqual((await days('spring')).map((r) => [r.period, r.energy_kwh, r.hours, r.gap_hours]), [
      ['2026-03-29', '23', '23', '0.000'],
      ['2026-03-30', '24', '24', '0.000'],
    ]);
    assert.deepEqual((await days('autumn')).map((r) => [r.period, r.energy_kwh, r.hours]), [
      ['2026-10-25', '25', '25'],
      ['2026-10-26', '24', '24'],
    ]);
    const weeks = csv(await report('--by', 'week', '--meter', 'autumn', '--format', 'csv'));
    assert.deepEqual(weeks.map((r) => [r.period, r.energy_kwh]), [['2026-W43', '25'], ['2026-W44', '24']]);
    const [billing] = csv(await report('--by', 'billing', '--meter', 'autumn', '--format', 'csv'));
    assert.equal(billing?.period, '2026-10-01', "the meter's own target date, read with the first run");
  });

  it('marks a missed day as a gap on every day it touches, spread but never silently', async () => {
    assert.deepEqual((await days('gap')).map((r) => [r.period, r.energy_kwh, r.gap_hours]), [
      ['2026-01-10', '2', '1.000'],
      ['2026-01-11', '24', '24.000'],
      ['2026-01-12', '1', '1.000'],
    ]);
    const table = await report('--by', 'day', '--meter', 'gap');
    assert.match(table, /2026-01-11 +24 .*gap 24\.000 h/);
  });

  it('counts a reset and uses no negative energy; a simulated run marks its period', async () => {
    const [day] = await days('replaced');
    assert.deepEqual([day?.energy_kwh, day?.resets, day?.simulated], ['4', '1', 'true']);
  });

  it('converts GJ to kWh and splits it exactly', async () => {
    assert.deepEqual((await days('gj')).map((r) => [r.period, r.energy_kwh]), [
      ['2026-01-12', '50'],
      ['2026-01-13', '50'],
    ]);
  });

  it('prints JSON lines and a table, and takes --from and --to as local days', async () => {
    const json = parseJsonLines(await report('--by', 'day', '--from', '2026-01-13', '--to', '2026-01-14', '--format', 'json'));
    assert.deepEqual(json.map((r) => [r.meter, r.period, r.energy_kwh]), [
      ['gj', '2026-01-13', '50'],
      ['midnight', '2026-01-13', '2'],
    ]);
    const table = await report('--by', 'month', '--meter', 'midnight');
    assert.match(table, /^meter +period +energy kWh +volume m³ +hours +peak kW +peak at +T1 °C +T2 °C +ΔT K +m³\/MWh +flags\n/);
    assert.match(table, /midnight +2026-01 +3 +0\.3 +3\.4 +2026-01-12 23:00 +71\.00 +40\.00 +31\.00 +100\.000/);
  });

  it('refuses an unknown meter with the nearest name (exit 2) and a missing database with the usual message', async () => {
    const unknown = await run(['report', '--config', config, '--by', 'day', '--meter', 'midnite']);
    assertExit(unknown, 2);
    assert.match(unknown.stderr, /no meter is named "midnite"; did you mean "midnight"\?/);
    const missing = join(temp.dir, 'none.yaml');
    writeFileSync(missing, configYaml(join(temp.dir, 'none.sqlite')));
    const none = await run(['report', '--config', missing, '--by', 'day']);
    assertExit(none, 1);
    assert.match(none.stderr, /no database at .*none\.sqlite yet/);
  });

  it('keeps figures equal to a rebuild from the readings, and prune leaves them intact', () => {
    // Every kind of period, as report --format csv prints it (in-process: the binary is tested above).
    const every = (path: string): string => {
      const store = Store.open(join(temp.dir, path), { sinks: [], readOnly: true });
      try {
        return periodKinds.map((kind) => formatReport(store.consumption({ kind }), 'csv', settings.timeZone, new Date('2027-01-01T00:00:00Z'))).join('');
      } finally {
        store.close();
      }
    };
    const incremental = every('kamstrup.sqlite');
    copyFileSync(databasePath, join(temp.dir, 'rebuilt.sqlite'));
    const raw = rawDatabase(join(temp.dir, 'rebuilt.sqlite'));
    raw.exec('DELETE FROM consumption_periods; DELETE FROM consumption_settings');
    raw.close();
    Store.open(join(temp.dir, 'rebuilt.sqlite'), { sinks: [], consumption: settings }).close();
    assert.equal(every('rebuilt.sqlite'), incremental);

    copyFileSync(databasePath, join(temp.dir, 'pruned.sqlite'));
    const pruned = Store.open(join(temp.dir, 'pruned.sqlite'), { sinks: [] });
    try {
      assert.ok(pruned.prune({ olderThanDays: 1, now: new Date('2027-06-01T00:00:00Z') }).readings > 0);
    } finally {
      pruned.close();
    }
    assert.equal(every('pruned.sqlite'), incremental);

    // New settings after a prune that left part of a history: the periods the remaining readings
    // cannot rebuild whole (they began before the oldest) are kept as they were, the rest rebuilt.
    copyFileSync(databasePath, join(temp.dir, 'half-pruned.sqlite'));
    const halfPruned = Store.open(join(temp.dir, 'half-pruned.sqlite'), { sinks: [] });
    try {
      halfPruned.prune({ olderThanDays: 1, now: new Date('2026-10-26T12:00:00Z') });
    } finally {
      halfPruned.close();
    }
    const remaining = rawDatabase(join(temp.dir, 'half-pruned.sqlite'));
    const left = remaining.prepare('SELECT count(*) FROM readings').pluck().get() as number;
    remaining.close();
    assert.ok(left > 0, 'the prune left the newest readings');
    Store.open(join(temp.dir, 'half-pruned.sqlite'), { sinks: [], consumption: { ...settings, gapMs: 3 * HOUR } }).close();
    assert.equal(every('half-pruned.sqlite'), incremental);
  });
});
