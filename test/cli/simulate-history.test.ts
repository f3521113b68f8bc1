// simulate --history: days of the simulator's model recorded into a real SQLite store on the
// configured schedules, in the past, marked simulated, queued for the sinks; refused over real
// readings (unless --force) and while a daemon holds the store; status says what is simulated.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordHistory, type HistoryOptions } from '../../src/app/simulate-history.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/logger.js';
import { formatDecimal } from '../../src/kmp/index.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { Store } from '../../src/store/index.js';
import { jobRun, rawDatabase, tempDir } from '../store/helpers.js';
import { eventually, serverUnavailable, startInfluxDb1 } from '../support/servers.js';
import { assertExit, exitOf, killAll, run, spawnCli } from './helpers.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A config of the default jobs (live every 5 min, statistics at 7 past each hour) and an InfluxDB sink. */
function writeConfig(dir: string, influxUrl = 'http://127.0.0.1:9'): { path: string; database: string } {
  const path = join(dir, 'k.yaml');
  writeFileSync(
    path,
    `meters:
  - { name: home, url: "sim://multical-402?seed=7" }
storage: { path: ./k.sqlite }
sinks:
  influxdb: { url: "${influxUrl}", api: v1, database: heat }
`,
  );
  return { path, database: join(dir, 'k.sqlite') };
}

function history(configPath: string, overrides: Partial<HistoryOptions> = {}): ReturnType<typeof recordHistory> {
  const { config } = loadConfig({ path: configPath, env: {} });
  return recordHistory({
    config,
    days: 3,
    cadence: { all: null, byJob: new Map() },
    force: false,
    ifEmpty: false,
    now: new Date(2026, 6, 15, 12, 2, 30),
    logger: createLogger({ level: 'silent', pretty: false }),
    ...overrides,
  });
}

interface RunRow {
  readonly job: string;
  readonly readAt: number;
  readonly simulated: number;
  readonly outcome: string;
}

function runsOf(database: string): RunRow[] {
  const db = rawDatabase(database, { readonly: true });
  try {
    return db.prepare('SELECT j.name AS job, r.read_at AS readAt, r.simulated, r.outcome FROM runs r JOIN jobs j ON j.id = r.job_id ORDER BY r.read_at, r.id').all() as RunRow[];
  } finally {
    db.close();
  }
}

function valuesOf(database: string, registerId: number): { readAt: number; value: string; text: string | null }[] {
  const db = rawDatabase(database, { readonly: true });
  try {
    return db
      .prepare('SELECT r.read_at AS readAt, x.value, x.text FROM readings x JOIN runs r ON r.id = x.run_id WHERE x.register_id = ? ORDER BY r.read_at')
      .all(registerId) as { readAt: number; value: string; text: string | null }[];
  } finally {
    db.close();
  }
}

function assertRising(values: readonly { value: string }[], what: string): void {
  assert.ok(values.length > 0, what);
  for (let i = 1; i < values.length; i++) {
    assert.ok(Number(values[i]?.value) >= Number(values[i - 1]?.value), `${what} never goes down: ${values[i - 1]?.value} then ${values[i]?.value}`);
  }
  assert.ok(Number(values.at(-1)?.value) > Number(values[0]?.value), `${what} rises`);
}

describe('simulate --history, in process', () => {
  const temp = tempDir('kamstrup-history-');
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    response.writeHead(204).end();
  });
  before(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  after(() => {
    server.close();
    temp.remove();
  });

  it('records each job on its schedule, in the past at its ticks, marked simulated, queued for the sink, with no request to it', async () => {
    const dir = join(temp.dir, 'schedules');
    const { port } = server.address() as AddressInfo;
    mkdirSync(dir);
    const { path, database } = writeConfig(dir, `http://127.0.0.1:${port}`);
    const now = new Date(2026, 6, 15, 12, 2, 30);
    const [result] = await history(path, { now });
    const runs = runsOf(database);
    const live = runs.filter((r) => r.job === 'live');
    const statistics = runs.filter((r) => r.job === 'statistics');
    // July: no clock change in these three days, so 3 × 288 five-minute ticks and 3 × 24 hourly ones.
    assert.equal(live.length, 3 * 288);
    assert.equal(statistics.length, 3 * 24);
    assert.deepEqual([result?.runs, result?.meter, result?.skipped], [runs.length, 'home', null]);
    for (const r of runs) {
      assert.ok(r.readAt <= now.getTime() && r.readAt > now.getTime() - 3 * DAY, `in the three days before now: ${new Date(r.readAt).toISOString()}`);
      const local = new Date(r.readAt);
      assert.equal(local.getSeconds(), 0);
      if (r.job === 'live') assert.equal(local.getMinutes() % 5, 0, `live at a five-minute tick: ${local.toString()}`);
      else assert.equal(local.getMinutes(), 7, `statistics at 7 past: ${local.toString()}`);
      assert.equal(r.simulated, 1);
      assert.equal(r.outcome, 'ok');
    }
    assert.equal(live.at(-1)?.readAt, new Date(2026, 6, 15, 12, 0, 0).getTime(), 'the newest tick at or before now');

    const store = Store.open(database, { sinks: [], readOnly: true });
    try {
      const status = store.status();
      const influx = status.sinks.find((sink) => sink.name === 'influxdb');
      assert.equal(influx?.pending, result?.readings, 'every reading waits for InfluxDB');
      assert.equal(result?.readings, 3 * 288 * 9 + 3 * 24 * 20);
      assert.ok(status.jobs.every((job) => job.lastRun.simulated));
      assert.ok(status.meters[0]?.values.every((value) => value.simulated));
    } finally {
      store.close();
    }
    assert.equal(requests, 0, 'no request reached the InfluxDB server');
  });

  it('keeps the counters consistent across a new year and ends where a simulator started now continues', async () => {
    const dir = join(temp.dir, 'new-year');
    mkdirSync(dir);
    const { path, database } = writeConfig(dir);
    const now = new Date(2026, 0, 2, 6, 0, 0);
    await history(path, { now, days: 4, cadence: { all: null, byJob: new Map([['live', 30 * MINUTE]]) } });
    const energy = valuesOf(database, 60);
    assert.ok(energy[0] !== undefined && new Date(energy[0].readAt).getFullYear() === 2025, 'the history starts in the old year');
    for (const [id, name] of [[60, 'heat energy'], [68, 'volume'], [1004, 'the hour counter']] as const) assertRising(valuesOf(database, id), name);
    // --every live=30m: one live run per half hour, its first tick (after the history's start at 06:00, 06:05).
    assert.equal(new Date(energy[0].readAt).getMinutes(), 5);
    assert.deepEqual(
      [...new Set(energy.slice(1).map((e) => new Date(e.readAt).getMinutes()))].sort((a, b) => a - b),
      [0, 30],
    );
    const last = energy.at(-1);
    assert.ok(last);
    const live = new SimulatedMultical402({ seed: 7, now: () => last.readAt });
    const registers = live.registers();
    for (const id of [60, 68, 1004]) {
      const answer = registers.get(id);
      assert.ok(answer);
      assert.equal(valuesOf(database, id).at(-1)?.value, formatDecimal(answer.value), `register ${id} equals a live simulator's at the end`);
    }
  });

  it('the monthly statistics follow their month', async () => {
    const dir = join(temp.dir, 'months');
    mkdirSync(dir);
    const { path, database } = writeConfig(dir);
    await history(path, { now: new Date(2026, 4, 2, 12, 0, 0), days: 3 });
    const dates = valuesOf(database, 138); // max_flow_date_month
    assert.ok(dates.length >= 70);
    for (const { readAt, text } of dates) {
      const run = new Date(readAt);
      // The month's first hour closes at 01:00 on the 1st; before it the meter shows the month before.
      if (run.getDate() === 1 && run.getHours() === 0) continue;
      const month = `${run.getFullYear()}-${String(run.getMonth() + 1).padStart(2, '0')}`;
      assert.ok(text?.startsWith(month), `max flow this month on ${text ?? 'null'}, in the run's month ${month}`);
    }
    const monthsSeen = new Set(dates.map((d) => d.text?.slice(0, 7)));
    assert.deepEqual([...monthsSeen].sort(), ['2026-04', '2026-05']);
  });

  it('appends after the newest simulated run when run again', async () => {
    const dir = join(temp.dir, 'append');
    mkdirSync(dir);
    const { path, database } = writeConfig(dir);
    await history(path, { now: new Date(2026, 6, 15, 12, 0, 0), days: 1 });
    const first = runsOf(database).length;
    const [again] = await history(path, { now: new Date(2026, 6, 15, 13, 0, 0), days: 1 });
    const runs = runsOf(database);
    assert.equal(again?.runs, 12 + 1, 'only the hour since: 12 live runs and one statistics run');
    assert.equal(runs.length, first + 13);
    assert.equal(new Set(runs.map((r) => `${r.job} ${r.readAt}`)).size, runs.length, 'no tick twice');
  });
});

describe('simulate --history, the command', () => {
  const temp = tempDir('kamstrup-history-cli-');
  after(async () => {
    await killAll();
    temp.remove();
  });

  it('records, prints a summary, and status says the values are simulated', async () => {
    const dir = join(temp.dir, 'status');
    mkdirSync(dir);
    const { path } = writeConfig(dir);
    const result = await run(['simulate', '--history', '2', '--config', path, '--every', '15m'], { timeoutMs: 120_000 });
    assertExit(result, 0);
    assert.match(result.stderr, /^history of home: 2\d\d runs, [\d,]+ readings over 2\.0 days \(.*\) in [\d.]+ s, [\d,]+ runs\/s; queued for every sink, marked simulated\n$/);
    const status = await run(['status', '--config', path], { timeoutMs: 60_000 });
    assert.match(status.stdout, /home \(multical-402 serial 70000402\): last reading .* \(simulated\)\n/);
    assert.match(status.stdout, /home\/live .* ok +9 readings \(simulated\)/);
    assert.match(status.stdout, /home\/statistics .* ok +20 readings \(simulated\)/);
    // --if-empty: the store holds this meter's runs, so nothing more.
    const again = await run(['simulate', '--history', '2', '--config', path, '--if-empty'], { timeoutMs: 60_000 });
    assertExit(again, 0);
    assert.match(again.stderr, /history of home: nothing recorded: the store holds [\d,]+ job runs of meter home already \(--if-empty\)/);
  });

  it('refuses a store with real readings of the meter (exit 2, why and how), and records with --force', async () => {
    const dir = join(temp.dir, 'real');
    mkdirSync(dir);
    const { path, database } = writeConfig(dir);
    const store = Store.open(database, { sinks: [] });
    store.recordJobRun(jobRun({ readAt: new Date(Date.now() - DAY) }));
    store.close();
    const refused = await run(['simulate', '--history', '1', '--config', path], { timeoutMs: 60_000 });
    assertExit(refused, 2);
    assert.match(refused.stderr, /holds 1 job run read from meter home: simulated history would be mixed into real data .* Point storage\.path at a new file for a demo, or give --force/);
    assert.equal(runsOf(database).length, 1, 'nothing recorded');
    const forced = await run(['simulate', '--history', '1', '--config', path, '--force', '--every', '1h'], { timeoutMs: 60_000 });
    assertExit(forced, 0);
    const runs = runsOf(database);
    assert.equal(runs.filter((r) => r.simulated === 1 && r.job === 'statistics').length, 24);
    // At most one live run per local hour: the hour 24 h ago counts when a tick of it falls after then.
    assert.ok([24, 25].includes(runs.filter((r) => r.simulated === 1 && r.job === 'live').length));
    assert.equal(runs.filter((r) => r.simulated === 0).length, 1, 'the real run is kept as it was');
  });

  it('refuses a store a running daemon holds, with the daemon lock\'s message', async () => {
    const dir = join(temp.dir, 'locked');
    mkdirSync(dir);
    const { path, database } = writeConfig(dir);
    Store.open(database, { sinks: [] }).close();
    // This test process stands in for the daemon: a live pid in the lock.
    writeFileSync(`${database}.lock`, `${process.pid}\nsomewhere\n`);
    const result = await run(['simulate', '--history', '1', '--config', path], { timeoutMs: 60_000 });
    assertExit(result, 2);
    assert.match(result.stderr, new RegExp(`another kamstrup-logger \\(pid ${process.pid} on somewhere\\) is using the database .*: stop it first`));
    assert.equal(runsOf(database).length, 0);
  });

  it('refuses a schedule that would be millions of runs, naming --every', async () => {
    const dir = join(temp.dir, 'too-many');
    mkdirSync(dir);
    const path = join(dir, 'k.yaml');
    writeFileSync(path, 'meters: [{ name: home, url: sim://multical-402 }]\nstorage: { path: ./k.sqlite }\njobs: [{ name: live, cron: "*/10 * * * * *", registers: [heat_energy] }]\n');
    const result = await run(['simulate', '--history', '365', '--config', path], { timeoutMs: 60_000 });
    assertExit(result, 2);
    assert.match(result.stderr, /365 days of the configured schedules are 3,15\d,\d{3} job runs, more than 1,000,000: give the history a coarser cadence, e\.g\. --every 5m/);
  });
});

describe('simulate --history, then run: the history reaches a real InfluxDB 1.6', { skip: serverUnavailable('influxdb-1.6') ?? false }, () => {
  const temp = tempDir('kamstrup-history-influx-');
  after(async () => {
    await killAll();
    temp.remove();
  });

  it('every simulated run arrives as a point, at its tick', async () => {
    const server = await startInfluxDb1();
    assert.ok(server);
    try {
      await server.createDatabase('heat');
      const dir = join(temp.dir, 'influx');
      mkdirSync(dir);
      const { path } = writeConfig(dir, server.url);
      const recorded = await run(['simulate', '--history', '1', '--config', path, '--every', '1h'], { timeoutMs: 120_000 });
      assertExit(recorded, 0);
      const store = Store.open(join(dir, 'k.sqlite'), { sinks: [], readOnly: true });
      const runs = store.status().sinks.find((sink) => sink.name === 'influxdb')?.pending;
      store.close();
      const history = runsOf(join(dir, 'k.sqlite'));
      const daemon = spawnCli(['run', '--config', path]);
      try {
        const count = async (field: string): Promise<number> => Number((await server.query('heat', `SELECT count(${field}) FROM kamstrup WHERE time <= now()`))[0]?.values[0]?.[1] ?? 0);
        const live = history.filter((r) => r.job === 'live').length;
        await eventually('every live run of the history in InfluxDB', () => count('heat_energy'), (n) => n >= live, 120_000);
        await eventually('every statistics run of the history in InfluxDB', () => count('max_flow_month'), (n) => n >= 24, 120_000);
        const [series] = await server.query('heat', `SELECT heat_energy FROM kamstrup WHERE time <= ${history[0]?.readAt ?? 0}ms`);
        assert.equal(series?.values[0]?.[0], history.find((r) => r.job === 'live')?.readAt, 'the first point at the first live tick');
        assert.ok((runs ?? 0) > 0);
      } finally {
        daemon.kill('SIGTERM');
        await exitOf(daemon);
      }
    } finally {
      await server.close();
    }
  });
});
