// The Domoticz sink on loopback: how long from a job run's commit until Domoticz confirmed every
// device's update, and how many requests a run costs. Seven devices, as `domoticz setup` creates
// them, on the Domoticz test double (test/support/domoticz-server.ts). Baseline, measured in the
// same run: seven udevice calls made one after another straight through the client, no store and
// no delivery loop: what the network and the server cost alone.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { Delivery } from '../src/delivery/delivery.js';
import type { NewestValueSink } from '../src/delivery/sink.js';
import { createLogger } from '../src/log/logger.js';
import { DomoticzClient } from '../src/sinks/domoticz/client.js';
import { createDomoticzSink } from '../src/sinks/domoticz/sink.js';
import { Store } from '../src/store/index.js';
import { jobRun, liveReadings, tempDir } from '../test/store/helpers.js';
import { DomoticzServer } from '../test/support/domoticz-server.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const binPath = fileURLToPath(new URL('../../bin/kamstrup-logger', import.meta.url));
const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(samples: number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

const temp = tempDir('kamstrup-bench-domoticz-');
const double = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
try {
  const configPath = join(temp.dir, 'kamstrup-logger.yaml');
  writeFileSync(configPath, `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage: { path: ./k.sqlite }\nsinks:\n  domoticz:\n    url: ${double.url}\n`);
  // Asynchronously: the double answers from this process.
  await promisify(execFile)(process.execPath, [binPath, 'domoticz', 'setup', '--config', configPath, '--write']);
  const { config } = loadConfig({ path: configPath, env: {} });
  const domoticz = config.sinks.domoticz;
  if (!domoticz) throw new Error('domoticz setup wrote no sinks.domoticz');
  const devices = domoticz.devices.length;

  // Baseline: the same updates straight through the client.
  const client = new DomoticzClient({ url: domoticz.url, auth: domoticz.auth, timeoutMs: domoticz.timeoutMs, ca: domoticz.ca });
  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    for (const device of domoticz.devices) await client.command('udevice', { idx: device.idx, nvalue: 0, svalue: String(i) });
    baseline.push(performance.now() - started);
  }
  await client.close();

  // The sink: commit a run, wake the loop as the daemon does, wait for the last confirmation.
  const inner = createDomoticzSink(domoticz, new Map([['home', 'multical-402']]));
  let confirmed = 0;
  let onConfirmed: (() => void) | null = null;
  const sink: NewestValueSink = {
    ...inner,
    keys: inner.keys,
    renderEntries: (run, sent) => inner.renderEntries(run, sent),
    write: async (texts) => {
      await inner.write(texts);
      confirmed += texts.length;
      onConfirmed?.();
    },
    check: () => inner.check(),
    close: () => inner.close(),
  };
  const store = Store.open(join(temp.dir, 'bench.sqlite'), { sinks: [sink.name], renderers: { [sink.name]: sink } });
  const delivery = new Delivery({ sink, store, logger: silent });
  const controller = new AbortController();
  const running = delivery.run(controller.signal);
  const latencies: number[] = [];
  const requestsBefore = double.requests.length;
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < RUNS; i++) {
    const target = confirmed + devices;
    const done = new Promise<void>((resolve) => {
      onConfirmed = () => {
        if (confirmed >= target) resolve();
      };
    });
    const started = performance.now();
    store.recordJobRun(jobRun({ readAt: new Date(start + i * 300_000), readings: liveReadings(i) }));
    delivery.wake();
    await done;
    latencies.push(performance.now() - started);
  }
  const requests = double.requests.length - requestsBefore;
  controller.abort();
  await running;
  await sink.close();
  store.close();

  const sinkFigures = summary(latencies);
  const baseFigures = summary(baseline);
  const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;
  console.log(`Domoticz sink, ${devices} devices, ${RUNS} job runs on loopback`);
  console.log(`  commit → every device confirmed: median ${fmt(sinkFigures.median)}, p95 ${fmt(sinkFigures.p95)}`);
  console.log(`  baseline, ${devices} udevice calls straight through the client: median ${fmt(baseFigures.median)}, p95 ${fmt(baseFigures.p95)}`);
  console.log(`  ratio (median): ${(sinkFigures.median / baseFigures.median).toFixed(2)}×`);
  console.log(`  requests per job run: ${(requests / RUNS).toFixed(2)} (${requests} for ${RUNS} runs; one per device is ${devices})`);
} finally {
  await double.close();
  temp.remove();
}
