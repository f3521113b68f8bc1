// Benchmark: drain a 1 000 000-reading backlog from the store to a local server (InfluxDB 1.6
// with api v1; VictoriaMetrics with api v2, when installed) and compare with the ceiling
// measured in the same run: the same line protocol, posted in the same batch sizes by a
// minimal client. Prints readings per second, the ratio to the ceiling, and the resident
// memory during the drain. Targets: ≥ 0.7 of the ceiling, RSS ≤ 150 MB. The drain runs with the
// Node options the service runs with (Dockerfile, the README's systemd unit, npm start), and
// once more with Node's defaults, to show what those options are worth.
//
// Every pass writes to a database (bucket) of its own, so none overwrites points another wrote
// (an overwrite is cheaper than a new point). A fresh server is slow at first (VictoriaMetrics
// takes 3-5 times as long for its first million), so an untimed pass warms it up, and the
// ceiling is the faster of a pass before the drains and one after them.
//
//   npm run build && node dist/bench/drain-influx.js [--readings N]

import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
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
import { startInfluxDb1, startVictoriaMetrics, type InfluxServer } from '../test/support/servers.js';

const argument = process.argv.indexOf('--readings');
const READINGS = argument > 0 ? Number(process.argv[argument + 1]) : 1_000_000;
const BATCH = 5000;
/** As in the Dockerfile's ENTRYPOINT and the README's systemd unit. */
const SERVICE_NODE_OPTIONS = ['--max-old-space-size=256'];
const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });
const perRun = liveReadings().length;
const runs = Math.ceil(READINGS / perRun);
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);

/** The backlog an outage leaves: runs recorded as the daemon records them, each with its line. */
function fill(path: string): void {
  const store = Store.open(path, { sinks: ['influxdb'], renderers: { influxdb: influxLines } });
  for (let i = 0; i < runs; i++) store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2025, 0, 1) + i * 300_000), readings: liveReadings(i) }));
  store.close();
}

/** The same points the delivery sends, as line protocol, for the minimal client. */
function lines(): string[] {
  const out: string[] = [];
  for (let i = 0; i < runs; i++) {
    const run = jobRun({ readAt: new Date(Date.UTC(2025, 0, 1) + i * 300_000), readings: liveReadings(i) });
    const line = influxLines.render({ ...run, serial: run.meterSerial });
    if (line) out.push(line);
  }
  return out;
}

/** Each pass's own database or bucket. */
const TARGETS = ['warmup', 'ceiling1', 'drain1', 'drain2', 'ceiling2'] as const;
type Target = (typeof TARGETS)[number];

/** The ceiling: a plain fetch loop, same lines, same batches, same server; seconds taken. */
async function post(all: readonly string[], url: string): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < all.length; i += BATCH) {
    const response = await fetch(url, { method: 'POST', body: all.slice(i, i + BATCH).join('\n') });
    if (response.status !== 204) throw new Error(`ceiling write answered ${response.status}: ${await response.text()}`);
  }
  return (performance.now() - start) / 1000;
}

async function measure(label: string, server: InfluxServer, sinkFor: (target: Target) => InfluxDbSinkConfig, writeUrl: (target: Target) => string, dir: string): Promise<void> {
  const path = join(dir, `${server.kind}.sqlite`);
  fill(path);
  const all = lines();
  await post(all, writeUrl('warmup'));
  const ceilingBefore = await post(all, writeUrl('ceiling1'));

  // The drain runs as the daemon runs it (pipelined Delivery.run), in a process of its own so
  // its resident memory is the drain's alone; the second run starts from a copy of the backlog.
  const defaultsPath = join(dir, `${server.kind}-defaults.sqlite`);
  copyFileSync(path, defaultsPath);
  const service = await drain(SERVICE_NODE_OPTIONS, path, sinkFor('drain1'));
  const defaults = await drain([], defaultsPath, sinkFor('drain2'));
  const ceilingS = Math.min(ceilingBefore, await post(all, writeUrl('ceiling2')));
  const rate = service.delivered / service.drainS;
  const ceiling = (runs * perRun) / ceilingS;
  console.log(
    `${label.padEnd(34)} ${service.delivered} readings (${runs} points) in ${service.drainS.toFixed(1)} s: ${Math.round(rate)} readings/s; ` +
      `ceiling ${Math.round(ceiling)} readings/s (${ceilingS.toFixed(1)} s): ratio ${(rate / ceiling).toFixed(2)} (target ≥ 0.7); ` +
      `peak RSS during the drain ${mb(service.peak)} MB (target ≤ 150 MB); with Node's default options ` +
      `${Math.round(defaults.delivered / defaults.drainS)} readings/s, peak RSS ${mb(defaults.peak)} MB`,
  );
}

async function drain(nodeOptions: readonly string[], path: string, sink: InfluxDbSinkConfig): Promise<{ delivered: number; drainS: number; peak: number }> {
  const child = spawn(process.execPath, [...nodeOptions, fileURLToPath(import.meta.url), '--drain', JSON.stringify({ path, sink })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await once(child, 'exit');
  return JSON.parse(output) as { delivered: number; drainS: number; peak: number };
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
const base = { token: null, org: null, bucket: null, database: null, retentionPolicy: null, username: null, password: null, batchSize: BATCH, timeoutMs: 60_000 } as const;
const influx = await startInfluxDb1();
if (influx) {
  for (const target of TARGETS) await influx.createDatabase(target);
  await measure('InfluxDB 1.6, api v1', influx, (database) => ({ ...base, url: influx.url, api: 'v1', database }), (database) => `${influx.url}/write?db=${database}&precision=ms`, temp.dir);
  await influx.close();
} else console.log('influxd not installed (apt install influxdb): InfluxDB 1.6 skipped');
const vm = await startVictoriaMetrics();
if (vm) {
  await measure('VictoriaMetrics, api v2', vm, (bucket) => ({ ...base, url: vm.url, api: 'v2', bucket, org: 'home' }), (bucket) => `${vm.url}/api/v2/write?bucket=${bucket}&precision=ms`, temp.dir);
  await vm.close();
} else console.log('victoria-metrics not installed (apt install victoria-metrics): VictoriaMetrics skipped');
temp.remove();
