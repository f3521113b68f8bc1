// Benchmark: consumption figures over a year of 5-minute history (105 120 runs of the default
// live job's registers, Europe/Amsterdam). Prints
// - what keeping the figures costs per recordJobRun: the same runs recorded once as they are and
//   once with the counters under ids the figures ignore (same readings, same outbox), the
//   difference per run;
// - `report --by day` over the year from SQLite (the figures read and formatted), in-process and
//   as the command, against the plain SQL query that reads the year's counter readings it stands
//   for, and against the plain query of the same period rows;
// - the one-pass build from the readings that an upgraded database gets on its first opening.
// Asserts nothing.
//
//   npx tsc -p tsconfig.json && node dist/bench/report.js [--days N]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { formatReport } from '../src/cli/report.js';
import { toReading, type RegisterReading } from '../src/registers/index.js';
import { encodeNumber, type KmpNumber } from '../src/kmp/index.js';
import { influxLines } from '../src/sinks/influxdb/point.js';
import { Store, type JobRunInput, type StoreOptions } from '../src/store/index.js';

const argument = process.argv.indexOf('--days');
const DAYS = argument > 0 ? Number(process.argv[argument + 1]) : 365;
const RUNS = (DAYS * 86_400_000) / 300_000;
const TIME_ZONE = 'Europe/Amsterdam';
const consumption = { timeZone: TIME_ZONE, gapMs: 7_200_000, billingDates: {} };
const AS_THE_DAEMON: StoreOptions = { sinks: ['influxdb'], renderers: { influxdb: influxLines }, consumption };
const START = Date.parse('2025-12-31T23:00:00Z');
/** Counter ids moved out of the figures' sight for the baseline. */
const HIDDEN = new Map([[60, 6060], [68, 6068], [80, 6080], [1004, 7004]]);

const dir = mkdtempSync(join(tmpdir(), 'kamstrup-report-bench-'));
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function reading(registerId: number, unitCode: number, mantissa: bigint, exponent: number): RegisterReading {
  const value: KmpNumber = { negative: false, mantissa, exponent };
  return toReading({ registerId, unitCode, value, mantissaBytes: encodeNumber(value, 4).slice(1) });
}

/** The default live job's nine registers at run i: 2.5 kW on average, 5 minutes apart. */
function liveRun(i: number, hide: boolean): JobRunInput {
  const readAt = new Date(START + i * 300_000);
  const id = (registerId: number): number => (hide ? (HIDDEN.get(registerId) ?? registerId) : registerId);
  const readings = [
    reading(id(60), 0x02, 40_000n + BigInt(Math.floor(i * 0.2083)), 0), // kWh
    reading(id(68), 0x28, 2_000_000n + BigInt(i * 3), -2), // m³
    reading(74, 0x29, 120n + BigInt(i % 50), 0),
    reading(id(80), 0x16, 20n + BigInt(i % 17), -1),
    reading(86, 0x25, 7000n + BigInt(i % 300), -2),
    reading(87, 0x25, 4000n + BigInt(i % 200), -2),
    reading(89, 0x26, 3000n, -2),
    reading(99, 0x00, 0n, 0),
    reading(id(1004), 0x2e, 10_000n + BigInt(Math.floor(i / 12)), 0),
  ];
  return { meter: 'home', model: 'multical-402', meterSerial: 70000402, job: 'live', readAt, finishedAt: new Date(readAt.getTime() + 2000), outcome: 'ok', error: null, missing: [], readings };
}

function record(path: string, hide: boolean): number {
  const store = Store.open(path, AS_THE_DAEMON);
  try {
    const started = performance.now();
    for (let i = 0; i < RUNS; i++) store.recordJobRun(liveRun(i, hide));
    return performance.now() - started;
  } finally {
    store.close();
  }
}

function best<T>(times: number, fn: () => T): number {
  let fastest = Infinity;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    fn();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

try {
  const withFigures = join(dir, 'figures.sqlite');
  const baseline = join(dir, 'baseline.sqlite');
  const plainMs = record(baseline, true);
  const keptMs = record(withFigures, false);
  console.log(`${fmt(RUNS)} runs of 9 readings (${DAYS} days every 5 minutes), recorded as the daemon does:`);
  console.log(`  without figures (counters hidden): ${fmt(plainMs)} ms, ${fmt((plainMs * 1000) / RUNS, 1)} µs per run`);
  console.log(`  with figures:                      ${fmt(keptMs)} ms, ${fmt((keptMs * 1000) / RUNS, 1)} µs per run`);
  console.log(`  keeping the figures costs ${fmt(((keptMs - plainMs) * 1000) / RUNS, 1)} µs per run (${fmt((keptMs / plainMs - 1) * 100, 0)} %)`);

  const reader = Store.open(withFigures, { sinks: [], readOnly: true });
  let days = 0;
  const reportMs = best(5, () => {
    const rows = reader.consumption({ kind: 'day' });
    days = rows.length;
    return formatReport(rows, 'table', TIME_ZONE, new Date());
  });
  reader.close();
  const db = new Database(withFigures, { readonly: true });
  const readingsMs = best(5, () =>
    db
      .prepare(`SELECT u.read_at, r.register_id, r.value, r.unit_code FROM runs u JOIN readings r ON r.run_id = u.id WHERE r.register_id IN (60, 68, 80, 1004) ORDER BY u.id`)
      .raw(true)
      .all(),
  );
  const rowsMs = best(5, () => db.prepare(`SELECT * FROM consumption_periods WHERE kind = 'day' ORDER BY meter_id, start_at`).raw(true).all());
  db.close();
  console.log(`report --by day, ${days} days, read and formatted in-process: ${fmt(reportMs, 2)} ms`);
  console.log(`  the plain query of the year's counter readings it stands for: ${fmt(readingsMs, 1)} ms (report ÷ it: ${fmt(reportMs / readingsMs, 3)}; target ≤ 2)`);
  console.log(`  the plain query of the same ${days} period rows: ${fmt(rowsMs, 2)} ms (report ÷ it: ${fmt(reportMs / rowsMs, 1)})`);

  const config = join(dir, 'config.yaml');
  writeFileSync(config, `time_zone: ${TIME_ZONE}\nstorage: { path: ${JSON.stringify(withFigures)} }\nmeters:\n  - { name: home, url: "sim://multical-402" }\n`);
  const bin = fileURLToPath(new URL('../../bin/kamstrup-logger', import.meta.url));
  const commandMs = best(3, () => execFileSync(process.execPath, [bin, 'report', '--config', config, '--by', 'day'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const helpMs = best(3, () => execFileSync(process.execPath, [bin, '--version'], { stdio: 'ignore' }));
  console.log(`  kamstrup-logger report --by day as a command: ${fmt(commandMs)} ms (of which starting node and the CLI, --version: ${fmt(helpMs)} ms; target < 1000)`);

  const upgrade = new Database(withFigures);
  upgrade.exec('DELETE FROM consumption_periods; DELETE FROM consumption_series; DELETE FROM consumption_meters; DELETE FROM consumption_settings');
  upgrade.close();
  const rebuildMs = best(1, () => Store.open(withFigures, { sinks: [], consumption }).close());
  console.log(`building the figures from the ${fmt(RUNS)} stored runs (an upgraded database's first opening): ${fmt(rebuildMs)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
