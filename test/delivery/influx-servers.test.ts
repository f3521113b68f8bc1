// Delivery against real servers started on 127.0.0.1 for the test: Debian's InfluxDB 1.6
// (api v1) and VictoriaMetrics (api v2, /api/v2/write). Every reading must arrive exactly once
// with its value, delivered by the daemon process itself, through a server outage and through a
// daemon killed while a write is provably in flight; a bad
// password pauses delivery and keeps the data; a point the server refuses is parked.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InfluxDbSinkConfig } from '../../src/config/index.js';
import { Delivery } from '../../src/delivery/delivery.js';
import { SinkError } from '../../src/delivery/sink.js';
import { createLogger } from '../../src/log/logger.js';
import { influxLines } from '../../src/sinks/influxdb/point.js';
import { createInfluxSink } from '../../src/sinks/influxdb/sink.js';
import { rangesOf, Store } from '../../src/store/index.js';
import { jobRun, liveReadings, readingOf, tempDir } from '../store/helpers.js';
import { eventually, serverUnavailable, skipNotice, startHttpDouble, startInfluxDb1, startVictoriaMetrics, UNSET_SINK_SETTINGS, type InfluxServer } from '../support/servers.js';

const binPath = fileURLToPath(new URL('../../../bin/kamstrup-logger', import.meta.url));
const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });
const DATABASE = 'heat';

interface Flavour {
  readonly kind: 'influxdb-1.6' | 'victoria-metrics';
  start(auth?: { username: string; password: string }): Promise<InfluxServer | null>;
  sinkConfig(server: InfluxServer, overrides?: Partial<InfluxDbSinkConfig>): InfluxDbSinkConfig;
  /** The sink's YAML, for a server (or a proxy in front of it) at url. */
  yaml(url: string): string;
  /** heat_energy (kWh) per read time (ms) as the server holds it. */
  heatEnergy(server: InfluxServer): Promise<Map<number, number>>;
}

const base = { ...UNSET_SINK_SETTINGS, batchSize: 5000, timeoutMs: 10_000 } as const;

const flavours: readonly Flavour[] = [
  {
    kind: 'influxdb-1.6',
    start: async (auth) => {
      const server = await startInfluxDb1(auth ? { auth } : {});
      await server?.createDatabase(DATABASE);
      return server;
    },
    sinkConfig: (server, overrides = {}) => ({ ...base, url: server.url, api: 'v1', database: DATABASE, ...overrides }),
    yaml: (url) => `  influxdb: { url: "${url}", api: v1, database: ${DATABASE} }`,
    heatEnergy: async (server) => {
      if (server.kind !== 'influxdb-1.6') throw new Error('wrong server');
      const series = await server.query(DATABASE, 'SELECT heat_energy FROM kamstrup');
      return new Map((series[0]?.values ?? []).map((row) => [Number(row[0]), Number(row[1])]));
    },
  },
  {
    kind: 'victoria-metrics',
    start: (auth) => startVictoriaMetrics(auth ? { auth } : {}),
    sinkConfig: (server, overrides = {}) => ({ ...base, url: server.url, api: 'v2', bucket: DATABASE, org: 'home', ...overrides }),
    yaml: (url) => `  influxdb: { url: "${url}", api: v2, bucket: ${DATABASE}, org: home }`,
    heatEnergy: async (server) => {
      if (server.kind !== 'victoria-metrics') throw new Error('wrong server');
      const series = await server.export('{__name__="kamstrup_heat_energy"}');
      const values = new Map<number, number>();
      for (const s of series) s.timestamps.forEach((t, i) => values.set(t, (values.has(t) ? NaN : (s.values[i] ?? NaN))));
      assert.equal(series.reduce((n, s) => n + s.timestamps.length, 0), values.size, 'no timestamp stored twice');
      return values;
    },
  },
];

/** heat_energy per read time as the store holds it, in kWh (the test runs' unit is MWh). */
function storedHeatEnergy(path: string): Map<number, number> {
  const store = Store.open(path, { sinks: [] });
  try {
    const values = new Map<number, number>();
    for (const row of store.exportReadings({ registerIds: [60] })) values.set(row.readAt.getTime(), Number(row.value) * 1000);
    return values;
  } finally {
    store.close();
  }
}

function fillBacklog(path: string, runs: number): void {
  // As the daemon records: each run's line stored with it.
  const store = Store.open(path, { sinks: ['influxdb'], renderers: { influxdb: influxLines } });
  try {
    for (let i = 0; i < runs; i++) store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + i * 300_000), readings: liveReadings(i) }));
  } finally {
    store.close();
  }
}

function pending(path: string): number {
  const store = Store.open(path, { sinks: [] });
  try {
    return store.status().sinks.find((s) => s.name === 'influxdb')?.pending ?? 0;
  } finally {
    store.close();
  }
}

function assertSame(actual: Map<number, number>, expected: Map<number, number>): void {
  assert.equal(actual.size, expected.size, `the server holds ${actual.size} points, the store ${expected.size} runs`);
  for (const [time, value] of expected) assert.ok(Math.abs((actual.get(time) ?? NaN) - value) < 1e-6, `heat_energy at ${new Date(time).toISOString()}: ${actual.get(time)} ≠ ${value}`);
}

for (const flavour of flavours) {
  const unavailable = serverUnavailable(flavour.kind);
  describe(`delivery to ${flavour.kind}`, { skip: unavailable ? skipNotice(flavour.kind) : false }, () => {
    const temp = tempDir('kamstrup-influx-');
    const servers: InfluxServer[] = [];
    after(async () => {
      for (const server of servers) await server.close();
      temp.remove();
    });
    const start = async (auth?: { username: string; password: string }): Promise<InfluxServer> => {
      const server = await flavour.start(auth);
      assert.ok(server);
      servers.push(server);
      return server;
    };

    it('the daemon itself carries every reading through a server outage, exactly once, with its value', async () => {
      const server = await start();
      const path = join(temp.dir, 'outage.sqlite');
      const config = join(temp.dir, `${flavour.kind}-outage.yaml`);
      writeFileSync(
        config,
        `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage: { path: ./outage.sqlite }\njobs:\n  - { name: live, cron: "* * * * * *", registers: [heat_energy, power, t1] }\nsinks:\n${flavour.yaml(server.url)}\nlog: { level: warn }\n`,
      );
      const daemon = startCli(['run', '--config', config, '--no-pretty']);
      try {
        await eventually('the daemon delivering its first runs', async () => (await flavour.heatEnergy(server)).size, (points) => points >= 2, 30_000);
        await server.stop();
        const before = storedHeatEnergy(path).size;
        await eventually('runs stored while the server is down', () => storedHeatEnergy(path).size, (runs) => runs >= before + 3, 30_000);
        await server.start();
        // Everything stored until now, before and during the outage, must reach the server through the daemon alone.
        const due = storedHeatEnergy(path);
        const missing = async (): Promise<number> => {
          const held = await flavour.heatEnergy(server);
          return [...due.keys()].filter((time) => !held.has(time)).length;
        };
        await eventually(`the daemon delivering the ${due.size} runs stored before the server came back`, missing, (count) => count === 0, 60_000);
      } finally {
        await daemon.stop();
      }
      assert.equal(daemon.exitCode(), 0, daemon.stderr());
      const held = await flavour.heatEnergy(server);
      const stored = storedHeatEnergy(path);
      assertSame(held, new Map([...stored].filter(([time]) => held.has(time))));
      assert.ok(held.size >= stored.size - 3, `at most the last runs left for the next start (${stored.size - held.size} of ${stored.size})`);
    });

    it('after SIGKILLs that provably land mid-flush and a restart, the daemon delivers every reading exactly once', async () => {
      const server = await start();
      const path = join(temp.dir, 'killed.sqlite');
      fillBacklog(path, 20_000);
      const backlog = pending(path);
      // Between the daemon and the server: passes every request on; in `hold` mode, the write
      // numbered `holdAt` reaches the server but its answer is kept from the daemon, which is
      // killed while it waits for it.
      let writes = 0;
      let holdAt = Infinity;
      let held: () => void = () => undefined;
      const proxy = await startHttpDouble((request, response, body) => {
        const isWrite = request.method === 'POST';
        if (isWrite) writes++;
        const holding = isWrite && writes === holdAt;
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'authorization']) if (typeof request.headers[name] === 'string') headers[name] = request.headers[name];
        void server.request(request.method ?? 'GET', request.url ?? '/', { body, headers, auth: null }).then(
          (answer) => {
            if (holding) return held();
            response.writeHead(answer.status, { 'content-type': String(answer.headers['content-type'] ?? 'text/plain') }).end(answer.body);
          },
          () => response.destroy(),
        );
      });
      const config = join(temp.dir, `${flavour.kind}-killed.yaml`);
      writeFileSync(config, `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage: { path: ./killed.sqlite }\njobs:\n  - { name: rare, cron: "0 0 1 1 *", registers: [heat_energy] }\nsinks:\n${flavour.yaml(proxy.url).replace('}', ', batch_size: 1000 }')}\nlog: { level: warn }\n`);
      try {
        let left = backlog;
        for (let kill = 0; kill < 3; kill++) {
          holdAt = writes + 2 + kill;
          const wrote = new Promise<void>((resolve) => (held = resolve));
          const daemon = startCli(['run', '--config', config, '--no-pretty']);
          try {
            await withinMs(wrote, 60_000, `the daemon sending write ${holdAt}`);
          } finally {
            await daemon.kill();
          }
          const now = pending(path);
          assert.ok(now > 0 && now < left, `killed mid-flush: some but not all readings delivered (${now} pending, ${left} before)`);
          left = now;
        }
        holdAt = Infinity;
        const daemon = startCli(['run', '--config', config, '--no-pretty']);
        try {
          await eventually(`the restarted daemon delivering the whole backlog`, () => pending(path), (count) => count === 0, 120_000);
        } finally {
          await daemon.stop();
        }
        assert.equal(daemon.exitCode(), 0, daemon.stderr());
      } finally {
        await proxy.close();
      }
      assertSame(await flavour.heatEnergy(server), storedHeatEnergy(path));
    });

    it('backfill re-sends a stored range to a new server, exactly once', async () => {
      const server = await start();
      const path = join(temp.dir, 'backfill.sqlite');
      fillBacklog(path, 300);
      const store = Store.open(path, { sinks: ['influxdb'] });
      try {
        // As if delivered to an old server: nothing waits, and the new one is empty.
        for (let page = store.pendingDeliveries('influxdb', { limit: 10_000 }); page.length > 0; page = store.pendingDeliveries('influxdb', { limit: 10_000 })) {
          store.markDelivered('influxdb', rangesOf(page.map((p) => p.readingId)));
        }
      } finally {
        store.close();
      }
      const config = join(temp.dir, `${flavour.kind}-backfill.yaml`);
      writeFileSync(config, `meters:\n  - { name: home, url: "sim://multical-402" }\nstorage: { path: ./backfill.sqlite }\nsinks:\n${flavour.yaml(server.url)}\n`);
      const from = new Date(Date.UTC(2026, 0, 1) + 100 * 300_000).toISOString();
      const result = await runCli(['backfill', '--config', config, '--sink', 'influxdb', '--from', from]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`sent ${200 * liveReadings().length} readings \\(${200 * liveReadings().length} queued again\\)`));
      const expected = new Map([...storedHeatEnergy(path)].filter(([time]) => time >= Date.parse(from)));
      assertSame(await flavour.heatEnergy(server), expected);
      const wrongSink = await runCli(['backfill', '--config', config, '--sink', 'domoticz']);
      assert.equal(wrongSink.code, 2);
      assert.match(wrongSink.stderr, /no sink "domoticz" in the config \(configured: influxdb\)/);
    });

    it('refused credentials pause delivery with what to fix, and keep the readings', async () => {
      const server = await start({ username: 'admin', password: 'right' });
      const path = join(temp.dir, 'auth.sqlite');
      fillBacklog(path, 10);
      const wrong = flavour.kind === 'influxdb-1.6' ? { username: 'admin', password: 'wrong' } : { token: 'admin:wrong' };
      const sink = createInfluxSink(flavour.sinkConfig(server, wrong));
      assert.match((await sink.check()) ?? '', flavour.kind === 'influxdb-1.6' ? /refuses the credentials: check username and password/ : /401|refuses the token/);
      const store = Store.open(path, { sinks: ['influxdb'] });
      try {
        await assert.rejects(new Delivery({ sink, store, logger: silent }).deliverBatch(), (error: unknown) => error instanceof SinkError && error.kind === 'auth');
        assert.equal(store.status().sinks[0]?.pending, 10 * liveReadings().length);
      } finally {
        store.close();
      }
    });

    it('parks a point the server refuses and delivers the rest', { skip: flavour.kind === 'victoria-metrics' ? 'VictoriaMetrics accepts any numeric field: nothing to refuse' : false }, async () => {
      const server = await start();
      // A string field first: the same field as a number is then a type conflict (400).
      const seed = await server.request('POST', `/write?db=${DATABASE}&precision=ms`, { body: `kamstrup,meter=home,model=multical-402 register_4242="text" ${Date.UTC(2026, 0, 1)}` });
      assert.equal(seed.status, 204);
      const path = join(temp.dir, 'rejected.sqlite');
      const store = Store.open(path, { sinks: ['influxdb'] });
      try {
        for (let i = 0; i < 6; i++) {
          const readings = i === 3 ? [...liveReadings(i), readingOf(4242, 0x00, { negative: false, mantissa: 7n, exponent: 0 })] : liveReadings(i);
          store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + (i + 1) * 300_000), readings }));
        }
        const delivery = new Delivery({ sink: createInfluxSink(flavour.sinkConfig(server)), store, logger: silent });
        const result = await delivery.deliverBatch();
        assert.equal(result.rejected, liveReadings().length + 1, 'the one refused run is parked');
        assert.equal(result.delivered, 5 * liveReadings().length);
        assert.equal(store.status().sinks[0]?.rejected, liveReadings().length + 1);
        assert.equal(store.status().sinks[0]?.pending, 0);
      } finally {
        store.close();
      }
    });
  });
}

async function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A CLI that hangs fails the test instead of the run: killed, its exit code is then null.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

interface CliProcess {
  stderr(): string;
  exitCode(): number | null;
  /** SIGTERM; resolves once it exited (SIGKILL if it has not within 20 s: the test then fails on its exit code). */
  stop(): Promise<void>;
  /** SIGKILL; resolves once it is gone. */
  kill(): Promise<void>;
}

function startCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let code: number | null = null;
  const exited = once(child, 'exit').then(([exitCode]) => {
    code = exitCode as number | null;
  });
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const escalation = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(escalation);
  };
  return { stderr: () => stderr, exitCode: () => code, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

/** Resolves as `promise` does, or fails naming `what` once ms pass. */
async function withinMs(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
