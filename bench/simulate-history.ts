// Benchmark: `simulate --history 365` on the default jobs (a live job of 9 registers every 5
// minutes, the 20 statistics registers hourly) with an InfluxDB sink configured, into a temp
// store: every run simulated, read through the codec, run by the JobRunner and recorded with
// its line rendered. Against the baseline of the store alone: the same number of runs, of the
// same registers, recorded in the same transactions of 500 (what no history can beat).
// Prints figures; asserts nothing. The machine's load average is printed beside them.
//
//   npx tsc -p tsconfig.json && node dist/bench/simulate-history.js [--days N]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordHistory } from '../src/app/simulate-history.js';
import { openRecordingStore, createSinks } from '../src/app/sinks.js';
import { loadConfig } from '../src/config/index.js';
import { decodeGetRegisterResponse, encodeGetRegisterResponse } from '../src/kmp/index.js';
import { createLogger } from '../src/log/logger.js';
import { toReading } from '../src/registers/index.js';
import { SimulatedMultical402 } from '../src/simulator/multical-402.js';
import type { JobRunInput } from '../src/store/index.js';

const argument = process.argv.indexOf('--days');
const DAYS = argument > 0 ? Number(process.argv[argument + 1]) : 365;
const SLICE = 500;

const dir = mkdtempSync(join(tmpdir(), 'kamstrup-history-bench-'));
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

try {
  const configPath = join(dir, 'k.yaml');
  // Port 9 (discard) on loopback: nothing is sent, the sink only renders.
  writeFileSync(configPath, 'meters: [{ name: home, url: sim://multical-402 }]\nstorage: { path: ./history.sqlite }\nsinks: { influxdb: { url: "http://127.0.0.1:9", api: v1, database: heat } }\n');
  const { config } = loadConfig({ path: configPath, env: {} });

  const cpu = process.cpuUsage();
  const started = performance.now();
  const [result] = await recordHistory({
    config,
    days: DAYS,
    cadence: { all: null, byJob: new Map() },
    force: false,
    ifEmpty: false,
    now: new Date(),
    logger: createLogger({ level: 'error', pretty: false }),
  });
  const historyMs = performance.now() - started;
  const historyCpu = process.cpuUsage(cpu);
  if (!result) throw new Error('no meter recorded');

  // The baseline: the same runs of fixed readings, straight into the same kind of store.
  const meter = new SimulatedMultical402();
  const registers = meter.registers();
  const readingsOf = (ids: readonly number[]): JobRunInput['readings'] =>
    decodeGetRegisterResponse(encodeGetRegisterResponse(ids.flatMap((id) => registers.get(id) ?? []))).map(toReading);
  const [live, statistics] = config.jobs.map((job) => ({ job: job.name, readings: readingsOf(job.registerIds) }));
  if (!live || !statistics) throw new Error('the default jobs are live and statistics');
  const sinks = createSinks(config);
  const store = openRecordingStore(join(dir, 'baseline.sqlite'), config, sinks);
  const liveRuns = Math.round((result.runs * 12) / 13);
  const base = Date.now() - DAYS * 86_400_000;
  const baselineStarted = performance.now();
  let slice: JobRunInput[] = [];
  for (let i = 0; i < result.runs; i++) {
    const { job, readings } = i < liveRuns ? live : statistics;
    const readAt = new Date(base + i * 300_000);
    slice.push({ meter: 'home', model: 'multical-402', meterSerial: 70000402, job, readAt, finishedAt: readAt, outcome: 'ok', error: null, missing: [], readings, simulated: true });
    if (slice.length === SLICE) {
      store.recordJobRuns(slice);
      slice = [];
    }
  }
  store.recordJobRuns(slice);
  const baselineMs = performance.now() - baselineStarted;
  store.close();
  await Promise.all(sinks.map((sink) => sink.close()));

  const [load] = loadavg();
  console.log(`simulate --history ${DAYS} on the default jobs, an InfluxDB sink configured (load average ${fmt(load ?? 0, 1)} on this machine)`);
  console.log(`history   ${fmt(result.runs)} runs, ${fmt(result.readings)} readings in ${fmt(historyMs / 1000, 1)} s: ${fmt(result.runs / (historyMs / 1000))} runs/s, ${fmt(result.readings / (historyMs / 1000))} readings/s; CPU ${fmt((historyCpu.user + historyCpu.system) / 1e6, 1)} s`);
  console.log(`baseline  the same runs recorded from fixed readings, ${SLICE} per transaction: ${fmt(baselineMs / 1000, 1)} s (${fmt(result.runs / (baselineMs / 1000))} runs/s)`);
  console.log(`ratio     history / baseline: ${fmt(historyMs / baselineMs, 2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
