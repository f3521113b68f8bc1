// Benchmark: drain a 1 000 000-reading backlog from the store to a local server (InfluxDB 1.6
// with api v1; VictoriaMetrics with api v2, when installed) and compare with the ceiling
// measured in the same run: the same line protocol, posted in the same batch sizes by a
// minimal client. Prints readings per second, the ratio to the ceiling, and the resident
// memory during the drain. Targets: ≥ 0.7 of the ceiling, RSS ≤ 150 MB. The drain runs with the
// Node options the service runs with (Dockerfile, the README's systemd unit, npm start), and
// once more with Node's defaults, to show what those options are worth.
//
// Every pass writes new points, as a backlog after an outage does: a database of its own on
// InfluxDB, and a time range of its own everywhere (VictoriaMetrics ignores the bucket, and it
// takes a point it already holds about eight times as fast as a new one, so passes over the same
// points measure its deduplication, not a drain). An untimed pass comes first, so that no timed
// pass is the server's first. The drain and the ceiling are each the faster of two passes, the
// ceiling's one before the drains and one after them.
//
//   npm run build && node dist/bench/drain-influx.js [--readings N]

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import type { InfluxDbSinkConfig } from '../src/config/index.js';
import { Delivery } from '../src/delivery/delivery.js';
import { createLogger } from '../src/log/logger.js';
import { createInfluxSink } from '../src/sinks/influxdb/sink.js';
import { influxLines } from '../src/sinks/influxdb/point.js';
import { Store } from '../src/store/index.js';
import { jobRun, liveReadings, tempDir } from '../test/store/helpers.js';
import { startInfluxDb1, startVictoriaMetrics, UNSET_SINK_SETTINGS, type InfluxServer } from '../test/support/servers.js';

const argument = process.argv.indexOf('--readings');
const READINGS = argument > 0 ? Number(process.argv[argument + 1]) : 1_000_000;
const BATCH = 5000;
/** As in the Dockerfile's ENTRYPOINT and the README's systemd unit. */
const SERVICE_NODE_OPTIONS = ['--max-old-space-size=256'];
const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });
const perRun = liveReadings().length;
const runs = Math.ceil(READINGS / perRun);
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);

/** The passes, in the order they run, each with its own database or bucket and time range. */
const PASSES = ['warmup', 'ceiling1', 'drain1', 'defaults', 'drain2', 'ceiling2'] as const;
type Pass = (typeof PASSES)[number];

/** Run i of a pass, 5 minutes apart; the passes' ranges follow each other, ending in 2025. */
function runOf(pass: Pass, i: number): ReturnType<typeof jobRun> {
  const start = Date.UTC(2025, 0, 1) - (PASSES.length - PASSES.indexOf(pass)) * runs * 300_000;
  return jobRun({ readAt: new Date(start + i * 300_000), readings: liveReadings(i) });
}

/** The backlog an outage leaves: runs recorded as the daemon records them, each with its line. */
function fill(path: string, pass: Pass): void {
  const store = Store.open(path, { sinks: ['influxdb'], renderers: { influxdb: influxLines } });
  for (let i = 0; i < runs; i++) store.recordJobRun(runOf(pass, i));
  store.close();
}

/** The same points a drain sends, as line protocol, for the minimal client. */
function lines(pass: Pass): string[] {
  const out: string[] = [];
  for (let i = 0; i < runs; i++) {
    const run = runOf(pass, i);
    const line = influxLines.render({ ...run, serial: run.meterSerial });
    if (line) out.push(line);
  }
  return out;
}

/** The ceiling: a plain fetch loop, same lines, same batches, same server; seconds taken. */
async function post(all: readonly string[], url: string): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < all.length; i += BATCH) {
    const response = await fetch(url, { method: 'POST', body: all.slice(i, i + BATCH).join('\n') });
    if (response.status !== 204) throw new Error(`ceiling write answered ${response.status}: ${await response.text()}`);
  }
  return (performance.now() - start) / 1000;
}

async function measure(label: string, server: InfluxServer, sinkFor: (pass: Pass) => InfluxDbSinkConfig, writeUrl: (pass: Pass) => string, dir: string): Promise<void> {
  const ceiling = (pass: Pass): Promise<number> => post(lines(pass), writeUrl(pass));
  // The drain runs as the daemon runs it (pipelined Delivery.run), in a process of its own so
  // its resident memory is the drain's alone.
  const drainPass = (pass: Pass, nodeOptions: readonly string[]): Promise<DrainResult> => {
    const path = join(dir, `${server.kind}-${pass}.sqlite`);
    fill(path, pass);
    return drain(nodeOptions, path, sinkFor(pass));
  };
  await ceiling('warmup');
  const ceilingBefore = await ceiling('ceiling1');
  const first = await drainPass('drain1', SERVICE_NODE_OPTIONS);
  const defaults = await drainPass('defaults', []);
  const second = await drainPass('drain2', SERVICE_NODE_OPTIONS);
  const service = { delivered: first.delivered, drainS: Math.min(first.drainS, second.drainS), peak: Math.max(first.peak, second.peak) };
  const ceilingAfter = await ceiling('ceiling2');
  const ceilingS = Math.min(ceilingBefore, ceilingAfter);
  const rate = service.delivered / service.drainS;
  const ceilingRate = (runs * perRun) / ceilingS;
  const passes = (...seconds: number[]): string => `passes ${seconds.map((s) => Math.round((runs * perRun) / s)).join(' and ')}`;
  console.log(
    `${label.padEnd(34)} ${service.delivered} readings (${runs} points) in ${service.drainS.toFixed(2)} s: ${Math.round(rate)} readings/s (${passes(first.drainS, second.drainS)}); ` +
      `ceiling ${Math.round(ceilingRate)} readings/s (${ceilingS.toFixed(2)} s; ${passes(ceilingBefore, ceilingAfter)}): ratio ${(rate / ceilingRate).toFixed(2)} (target ≥ 0.7); ` +
      `peak RSS during the drain ${mb(service.peak)} MB (target ≤ 150 MB); with Node's default options ` +
      `${Math.round(defaults.delivered / defaults.drainS)} readings/s, peak RSS ${mb(defaults.peak)} MB`,
  );
}

interface DrainResult {
  readonly delivered: number;
  readonly drainS: number;
  readonly peak: number;
}

async function drain(nodeOptions: readonly string[], path: string, sink: InfluxDbSinkConfig): Promise<DrainResult> {
  const child = spawn(process.execPath, [...nodeOptions, fileURLToPath(import.meta.url), '--drain', JSON.stringify({ path, sink })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'exit');
  return JSON.parse(output) as DrainResult;
}

async function drainChild(request: { path: string; sink: InfluxDbSinkConfig }): Promise<void> {
  const sink = createInfluxSink(request.sink);
  const store = Store.open(request.path, { sinks: ['influxdb'], renderers: { influxdb: sink } });
  const total = store.status().sinks.find((s) => s.name === 'influxdb')?.pending ?? 0;
  const delivery = new Delivery({ sink, store, logger: silent });
  let peak = process.memoryUsage().rss;
  const stop = new AbortController();
  const watcher = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (store.pendingRuns('influxdb', { limit: 1 }).length === 0) stop.abort();
  }, 20);
  const start = performance.now();
  await delivery.run(stop.signal);
  const drainS = (performance.now() - start) / 1000;
  clearInterval(watcher);
  store.close();
  process.stdout.write(JSON.stringify({ delivered: total, drainS, peak }));
}

const drainArgument = process.argv.indexOf('--drain');
if (drainArgument > 0) {
  await drainChild(JSON.parse(process.argv[drainArgument + 1] ?? '{}') as { path: string; sink: InfluxDbSinkConfig });
  process.exit(0);
}

const temp = tempDir('kamstrup-drain-');
const base = { ...UNSET_SINK_SETTINGS, batchSize: BATCH, timeoutMs: 60_000 } as const;
const influx = await startInfluxDb1();
if (influx) {
  for (const pass of PASSES) await influx.createDatabase(pass);
  await measure('InfluxDB 1.6, api v1', influx, (database) => ({ ...base, url: influx.url, api: 'v1', database }), (database) => `${influx.url}/write?db=${database}&precision=ms`, temp.dir);
  await influx.close();
} else console.log('influxd not installed (apt install influxdb): InfluxDB 1.6 skipped');
const vm = await startVictoriaMetrics();
if (vm) {
  await measure('VictoriaMetrics, api v2', vm, (bucket) => ({ ...base, url: vm.url, api: 'v2', bucket, org: 'home' }), (bucket) => `${vm.url}/api/v2/write?bucket=${bucket}&precision=ms`, temp.dir);
  await vm.close();
} else console.log('victoria-metrics not installed (apt install victoria-metrics): VictoriaMetrics skipped');
temp.remove();
