// Benchmark: the SQLite store under realistic job runs. A simulated MULTICAL 402 is read on the
// daemon's default schedule (a live job of 9 registers every 5 minutes, a statistics job of 20
// registers every hour), its answers go through the real codec and catalogue (encode, decode,
// toReading), and each run is written as the daemon writes it: one recordJobRun, one
// transaction, its readings queued for the one enabled sink (InfluxDB) with the run's line
// protocol stored beside them. Then the sink drains its backlog,
// an export reads everything back, and a prune deletes the older half.
// Prints figures and their ratio to the issue's targets; asserts nothing.
//
//   npx tsc -p tsconfig.json && node dist/bench/store-throughput.js [--readings N]

import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeGetRegisterResponse, encodeGetRegisterResponse } from '../src/kmp/index.js';
import { toReading, type RegisterReading } from '../src/registers/index.js';
import { SimulatedMultical402 } from '../src/simulator/multical-402.js';
import { influxLines } from '../src/sinks/influxdb/point.js';
import { readingRangesOf, Store, type JobRunInput, type StoreOptions } from '../src/store/index.js';

const argument = process.argv.indexOf('--readings');
const TOTAL = argument > 0 ? Number(process.argv[argument + 1]) : 1_000_000;
const TARGET_READINGS_PER_S = 50_000;
const TARGET_BYTES_PER_READING = 100;
const SINK = 'influxdb';
const AS_THE_DAEMON: StoreOptions = { sinks: [SINK], renderers: { [SINK]: influxLines } };
const LIVE = [60, 68, 74, 80, 86, 87, 89, 99, 1004];
const STATISTICS = [138, 139, 140, 141, 142, 143, 144, 145, 149, 150, 123, 124, 125, 126, 127, 128, 129, 130, 146, 147];
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'kamstrup-store-bench-'));
const path = join(dir, 'kamstrup.sqlite');

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
const rate = (count: number, ms: number): number => (count * 1000) / ms;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Bytes the database takes: main file plus WAL, after a checkpoint; pages in use; free pages. */
function footprint(): { fileBytes: number; usedBytes: number; freeBytes: number; byObject: Map<string, number> } {
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const byObject = new Map(
      (db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as { name: string; bytes: number }[]).map((r) => [r.name, r.bytes]),
    );
    const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
    return { fileBytes: statSync(path).size + wal, usedBytes: (pages - free) * pageSize, freeBytes: free * pageSize, byObject };
  } finally {
    db.close();
  }
}

// The simulator on a clock we move: a year of 5-minute reads in seconds.
const start = Date.UTC(2025, 0, 1);
let clock = start;
const meter = new SimulatedMultical402({ now: () => clock });

function read(ids: readonly number[]): RegisterReading[] {
  const registers = meter.registers();
  const answers = ids.flatMap((id) => registers.get(id) ?? []);
  return decodeGetRegisterResponse(encodeGetRegisterResponse(answers)).map(toReading);
}

console.log(`store throughput: ${fmt(TOTAL)} readings of a simulated MULTICAL 402 into ${path}`);
console.log(`schedule: live (${LIVE.length} registers) every 5 min, statistics (${STATISTICS.length}) hourly; one enabled sink; one transaction per run`);

// 1. Writing, as the daemon does.
const store = Store.open(path, AS_THE_DAEMON);
let written = 0;
let runs = 0;
let writeMs = 0;
let generateMs = 0;
for (let minute = 0; written < TOTAL; minute += 5) {
  const jobs: [string, readonly number[]][] = [['live', LIVE]];
  if (minute % 60 === 0) jobs.push(['statistics', STATISTICS]);
  for (const [job, ids] of jobs) {
    const g0 = performance.now();
    clock = start + minute * MINUTE_MS;
    const readAt = new Date(clock);
    const run: JobRunInput = {
      meter: 'home', model: 'multical-402', meterSerial: meter.serialNumber, job, readAt,
      finishedAt: new Date(clock + 1500), outcome: 'ok', error: null, missing: [], readings: read(ids),
    };
    const t0 = performance.now();
    written += store.recordJobRun(run).readings;
    writeMs += performance.now() - t0;
    generateMs += t0 - g0;
    runs++;
  }
}
const lastReadAt = clock;
store.close();
const queued = footprint();
const writeRate = rate(written, writeMs);

// 2. The sink drains its backlog as the delivery loop reads it: pages of 5000, each confirmed in one transaction.
const drainStore = Store.open(path, AS_THE_DAEMON);
let drained = 0;
const d0 = performance.now();
for (let after = 0; ; ) {
  const page = drainStore.pendingRuns(SINK, { afterReadingId: after, limit: 5000 });
  if (page.length === 0) break;
  const readings = page.flatMap(readingRangesOf);
  drained += drainStore.markDelivered(SINK, readings);
  after = readings[readings.length - 1]?.[1] ?? after;
}
const drainMs = performance.now() - d0;
drainStore.close();
const delivered = footprint();

// 3. Export everything, row by row.
const exportStore = Store.open(path, { sinks: [SINK] });
const rssBefore = process.memoryUsage().rss;
let exported = 0;
let rssPeak = rssBefore;
const e0 = performance.now();
for (const row of exportStore.exportReadings()) {
  if (row.value.length > 0) exported++;
  if (exported % 100_000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
}
const exportMs = performance.now() - e0;

// 4. Prune the older half (all delivered).
const spanDays = (lastReadAt - start) / DAY_MS;
const p0 = performance.now();
const pruned = exportStore.prune({ olderThanDays: spanDays / 2, now: new Date(lastReadAt) });
const pruneMs = performance.now() - p0;
exportStore.close();
const afterPrune = footprint();

const perReading = (bytes: number): number => bytes / written;
console.log('');
console.log(`write    ${fmt(written)} readings in ${fmt(runs)} runs (${fmt(spanDays, 0)} days of schedule): ${fmt(writeMs / 1000, 2)} s in recordJobRun ` +
  `(+ ${fmt(generateMs / 1000, 2)} s simulating and decoding)`);
console.log(`         ${fmt(writeRate)} readings/s, ${fmt(rate(runs, writeMs))} runs/s; target ≥ ${fmt(TARGET_READINGS_PER_S)}: ratio ${(writeRate / TARGET_READINGS_PER_S).toFixed(2)}`);
console.log(`size     with every reading queued for the sink: ${fmt(perReading(queued.fileBytes), 1)} bytes/reading ` +
  `(file ${mb(queued.fileBytes)} after checkpoint); target ≤ ${TARGET_BYTES_PER_READING}: ratio ${(perReading(queued.fileBytes) / TARGET_BYTES_PER_READING).toFixed(2)}`);
console.log(`         after the sink took everything: ${fmt(perReading(delivered.usedBytes), 1)} bytes/reading in use (file ${mb(delivered.fileBytes)}; the lines go at the next prune)`);
const objects = [...queued.byObject].filter(([, bytes]) => bytes / written >= 0.05);
console.log(`         by table and index: ${objects.map(([name, bytes]) => `${name} ${fmt(bytes / written, 1)}`).join(', ')}`);
console.log(`drain    ${fmt(drained)} deliveries (pendingRuns pages of 5000 + markDelivered) in ${fmt(drainMs / 1000, 2)} s: ${fmt(rate(drained, drainMs))} readings/s`);
console.log(`export   ${fmt(exported)} rows in ${fmt(exportMs / 1000, 2)} s: ${fmt(rate(exported, exportMs))} rows/s; ` +
  `resident memory ${mb(rssBefore)} before, ${mb(rssPeak)} at most while exporting`);
console.log(`prune    ${fmt(pruned.readings)} readings and ${fmt(pruned.runs)} runs older than ${fmt(spanDays / 2, 0)} days, and ${fmt(pruned.payloads)} delivered runs' lines, in ${fmt(pruneMs / 1000, 2)} s ` +
  `(chunks of 5000): ${fmt(rate(pruned.readings, pruneMs))} readings/s; kept undelivered ${pruned.keptUndelivered}; ` +
  `file ${mb(afterPrune.fileBytes)}, ${mb(afterPrune.freeBytes)} free for reuse`);
console.log(`resident memory at the end ${mb(process.memoryUsage().rss)}`);

rmSync(dir, { recursive: true, force: true });
