// The Domoticz sink end to end: the daemon (in this process, or the real binary under SIGKILL)
// reads a simulated meter every second and keeps the devices of the Domoticz double on
// 127.0.0.1 on their newest values, through an outage, a wrong idx, a 401 and a crash, without
// ever putting credentials in a URL or a log line.
//
// The refresh of a rarely-read register (refresh_minutes) is not tested here: the daemon takes
// no clock, and a minute of real time per case is too slow. test/delivery/newest.test.ts tests
// it on the delivery loop with the store's clock injected.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { DomoticzDeviceType } from '../../src/config/index.js';
import { loadConfig } from '../../src/config/index.js';
import { DomoticzClient } from '../../src/sinks/domoticz/client.js';
import { DOMOTICZ_DEVICE_TYPES } from '../../src/sinks/domoticz/device-check.js';
import { DomoticzRenderer } from '../../src/sinks/domoticz/devices.js';
import { Store, type KeyedEntryStatus, type PayloadRun } from '../../src/store/index.js';
import { assertExit, binPath, killAll, run } from '../cli/helpers.js';
import { tempDir } from '../store/helpers.js';
import { sleep, startDaemon, type LogRecord, type RunningDaemon } from '../support/daemon.js';
import { DomoticzServer } from '../support/domoticz-server.js';

/** How long any one wait of these tests may take before it fails the test instead of hanging it. */
const WAIT_MS = 30_000;
/** Every second. */
const EVERY_SECOND = '* * * * * *';
/** Not due for months: a daemon started with it only delivers what is stored. */
const NEVER_SOON = '0 0 0 1 1 *';
/** A simulated minute per second: each run's values differ from the last one's. */
const METER_URL = 'sim://multical-402?speed=60';
const LIVE_REGISTERS = '[heat_energy, power, t1, t2, t_diff, flow, volume, info]';

interface Tile {
  readonly type: DomoticzDeviceType;
  /** The device entry's fields after idx and type, as YAML. */
  readonly fields: string;
  /** A custom sensor's unit (its sensoroptions). */
  readonly unit?: string;
  /** A counter's meter type (setused switchtype 2: water). */
  readonly water?: boolean;
}

/** The heat-meter set `domoticz setup` creates by default. */
const HEAT_SET: readonly Tile[] = [
  { type: 'electric', fields: 'power: power, energy: heat_energy' },
  { type: 'temperature', fields: 'register: t1' },
  { type: 'temperature', fields: 'register: t2' },
  { type: 'custom', fields: 'register: t_diff, unit: K', unit: 'K' },
  { type: 'waterflow', fields: 'register: flow' },
  { type: 'counter', fields: 'register: volume, meter_type: water', water: true },
  { type: 'alert', fields: 'register: info' },
];

/**
 * Creates the tiles in the double as `domoticz setup` does (a Dummy hardware, createdevice per
 * type, setused for a water counter), from a trusted address; returns their idx in order.
 */
async function createDevices(double: DomoticzServer, tiles: readonly Tile[]): Promise<number[]> {
  const trusted = double.settings.trustedNetworks;
  double.settings.trustedNetworks = '127.0.0.1';
  const client = new DomoticzClient({ url: double.url, auth: { kind: 'none' }, timeoutMs: 5000, ca: null });
  try {
    const hardware = await client.command('addhardware', { htype: 15, port: 1, name: 'kamstrup-logger', enabled: 'true' });
    const idxs: number[] = [];
    for (const [n, tile] of tiles.entries()) {
      const name = `home ${n} ${tile.type}`;
      const params: Record<string, string | number> = { idx: String(hardware['idx']), sensorname: name, sensormappedtype: `0x${DOMOTICZ_DEVICE_TYPES[tile.type].mappedType.toString(16).toUpperCase()}` };
      if (tile.unit !== undefined) params['sensoroptions'] = `1;${tile.unit}`;
      const created = await client.command('createdevice', params);
      const idx = Number(created['idx']);
      if (tile.water === true) await client.command('setused', { idx, name, used: 'true', switchtype: 2, addjvalue2: 1000 });
      idxs.push(idx);
    }
    return idxs;
  } finally {
    await client.close();
    double.settings.trustedNetworks = trusted;
  }
}

interface Setup {
  readonly url: string;
  readonly dbPath: string;
  readonly cron: string;
  readonly devices: readonly (Tile & { readonly idx: number })[];
  /** The auth lines under sinks.domoticz; `auth: none` by default. */
  readonly auth?: string;
  readonly registers?: string;
}

function configYaml(setup: Setup): string {
  return [
    'meters:',
    `  - { name: home, url: "${METER_URL}" }`,
    'storage:',
    `  path: ${setup.dbPath}`,
    'jobs:',
    `  - { name: live, cron: "${setup.cron}", registers: ${setup.registers ?? LIVE_REGISTERS} }`,
    'sinks:',
    '  domoticz:',
    `    url: ${setup.url}`,
    ...(setup.auth ?? '    auth: none').split('\n'),
    '    devices:',
    ...setup.devices.map((d) => `      - { idx: ${d.idx}, type: ${d.type}, ${d.fields} }`),
    'log:',
    '  level: info',
    '',
  ].join('\n');
}

/** Polls until `done`; fails the test with `what` once WAIT_MS have passed. */
async function waitFor(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${WAIT_MS} ms`);
    await sleep(25);
  }
}

function queryOf(url: string): URLSearchParams {
  return new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
}

/** The udevice requests the double answered, optionally for one idx. */
function udevices(double: DomoticzServer, idx?: number, from = 0): URLSearchParams[] {
  return double.requests
    .slice(from)
    .map((r) => queryOf(r.url))
    .filter((q) => q.get('param') === 'udevice' && (idx === undefined || q.get('idx') === String(idx)));
}

function runCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The Domoticz sink's entries as the store holds them now (read-only, so also while a daemon runs). */
function entriesOf(dbPath: string): readonly KeyedEntryStatus[] {
  const store = Store.open(dbPath, { sinks: [], readOnly: true });
  try {
    return store.status().sinks.find((s) => s.name === 'domoticz')?.entries ?? [];
  } finally {
    store.close();
  }
}

/** Every stored run, oldest first, as the sink's renderer takes it. */
function storedRuns(dbPath: string): PayloadRun[] {
  const store = Store.open(dbPath, { sinks: [], readOnly: true });
  try {
    const runs = new Map<string, { meter: string; model: string; serial: number | null; job: string; readAt: Date; readings: PayloadRun['readings'][number][] }>();
    for (const row of store.exportReadings()) {
      const id = `${row.meter}|${row.job}|${row.readAt.getTime()}`;
      let stored = runs.get(id);
      if (!stored) {
        stored = { meter: row.meter, model: row.model, serial: row.serial, job: row.job, readAt: row.readAt, readings: [] };
        runs.set(id, stored);
      }
      stored.readings.push({ registerId: row.registerId, name: row.name, value: row.value, unitCode: row.unitCode, text: row.text });
    }
    return [...runs.values()].sort((a, b) => a.readAt.getTime() - b.readAt.getTime());
  } finally {
    store.close();
  }
}

/** Each stored run rendered by the sink's renderer: per run, payload by key. */
function renderedRuns(configPath: string, dbPath: string): Map<string, string>[] {
  const { config } = loadConfig({ path: configPath, env: {} });
  const domoticz = config.sinks.domoticz;
  assert.ok(domoticz, 'the config has sinks.domoticz');
  const renderer = new DomoticzRenderer(domoticz.devices, new Map(config.meters.map((m) => [m.name, m.model])));
  return storedRuns(dbPath).map((run) => new Map(renderer.renderEntries(run, () => null).filter((p) => p.held === null).map((p) => [p.key, p.payload])));
}

/** The newest payload each key was rendered with, over all stored runs. */
function newestRendered(rendered: readonly Map<string, string>[]): Map<string, string> {
  const newest = new Map<string, string>();
  for (const run of rendered) for (const [key, payload] of run) newest.set(key, payload);
  return newest;
}

function assertStoredIs(double: DomoticzServer, payload: string, what: string): void {
  const { idx, nvalue, svalue } = JSON.parse(payload) as { idx: number; nvalue: number; svalue: string };
  assert.deepEqual(double.stored(idx), { nvalue, svalue }, `${what}: Domoticz holds ${payload}`);
}

function logText(logs: readonly LogRecord[]): string {
  return logs.map((record) => JSON.stringify(record)).join('\n');
}

describe('the daemon with a Domoticz sink', () => {
  let double: DomoticzServer;
  let temp: ReturnType<typeof tempDir>;
  let dbPath: string;
  let configPath: string;
  const daemons: RunningDaemon[] = [];

  beforeEach(async () => {
    double = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    temp = tempDir('kamstrup-dz-e2e-');
    dbPath = join(temp.dir, 'k.sqlite');
    configPath = join(temp.dir, 'kamstrup-logger.yaml');
  });
  afterEach(async () => {
    // A failed test may leave a daemon running: stop it before its database goes.
    for (const daemon of daemons.splice(0)) {
      await daemon.stop();
      daemon.cleanup();
    }
    await double.close();
    temp.remove();
  });
  after(killAll);

  function start(setup: Setup): RunningDaemon {
    const yaml = configYaml(setup);
    writeFileSync(configPath, yaml);
    const daemon = startDaemon(yaml);
    daemons.push(daemon);
    return daemon;
  }

  async function stop(daemon: RunningDaemon): Promise<void> {
    daemons.splice(daemons.indexOf(daemon), 1);
    await daemon.stop();
    daemon.cleanup();
  }

  it('after an outage across several polls sends exactly one update per device, the newest, and status shows it', async () => {
    const idxs = await createDevices(double, HEAT_SET);
    const devices = HEAT_SET.map((tile, n) => ({ ...tile, idx: idxs[n] ?? 0 }));
    // Domoticz down: every connection dropped unanswered.
    double.beforeAnswer = () => Promise.resolve(false);
    const down = start({ url: double.url, dbPath, cron: EVERY_SECOND, devices });
    await waitFor('four runs stored while Domoticz is down', () => runCount(dbPath) >= 4);
    await stop(down);
    assert.equal(udevices(double).length, 0, 'nothing reached Domoticz during the outage');

    double.beforeAnswer = null;
    const before = double.requests.length;
    const up = start({ url: double.url, dbPath, cron: NEVER_SOON, devices });
    await waitFor('every device sent', () => {
      const entries = entriesOf(dbPath);
      return entries.length === devices.length && entries.every((e) => e.state === 'sent');
    });
    await stop(up);

    const sent = udevices(double, undefined, before);
    assert.deepEqual(sent.map((q) => Number(q.get('idx'))).sort((a, b) => a - b), [...idxs].sort((a, b) => a - b), 'exactly one udevice per device');
    const rendered = renderedRuns(configPath, dbPath);
    const newest = newestRendered(rendered);
    const entries = entriesOf(dbPath);
    for (const entry of entries) {
      assert.equal(entry.sent?.payload, entry.payload, `${entry.key}: the newest value is the one sent`);
      assert.equal(entry.payload, newest.get(entry.key), `${entry.key}: the newest stored run's value`);
      assertStoredIs(double, entry.payload, entry.key);
      const rendering = rendered.filter((r) => r.has(entry.key)).length;
      assert.ok(rendering >= 4, `${entry.key} was in at least four runs (${rendering})`);
      assert.equal(entry.superseded, rendering - 1, `${entry.key}: every older value superseded, never sent`);
    }

    const status = await run(['status', '--config', configPath]);
    assertExit(status, 0);
    for (const entry of entries) {
      const line = status.stdout.split('\n').find((l) => l.trim().startsWith(`${entry.key}:`));
      assert.ok(line, `status shows ${entry.key}:\n${status.stdout}`);
      assert.ok(line.includes(`sent ${entry.payload} `), `status shows the value sent: ${line}`);
      assert.ok(line.endsWith(`; ${entry.superseded} superseded`), `status shows the superseded count: ${line}`);
    }
  });

  it('reports a wrong idx once and never requests it again, while the other devices go on; status shows it REFUSED', async () => {
    const tiles = HEAT_SET.slice(1, 4);
    const idxs = await createDevices(double, tiles);
    const wrong = 99;
    const devices = [...tiles.map((tile, n) => ({ ...tile, idx: idxs[n] ?? 0 })), { type: 'waterflow' as const, fields: 'register: flow', idx: wrong }];
    const daemon = start({ url: double.url, dbPath, cron: EVERY_SECOND, devices });
    await waitFor('three updates of every existing device', () => idxs.every((idx) => udevices(double, idx).length >= 3));
    await stop(daemon);

    assert.equal(udevices(double, wrong).length, 1, 'the wrong idx is requested once, then held');
    const mentions = daemon.logs.filter((record) => record.msg.includes(`idx ${wrong}`));
    // The start-up device check names it missing (a warning), the refused update reports it once (an error).
    const [checked, ...moreChecks] = mentions.filter((record) => record.level === 'warn');
    assert.ok(checked !== undefined && moreChecks.length === 0, `the start-up check names it once:\n${logText(mentions)}`);
    assert.match(checked.msg, new RegExp(`idx ${wrong} waterflow \\(flow\\): missing`));
    const reports = mentions.filter((record) => record.level !== 'warn');
    assert.equal(reports.length, 1, `reported once:\n${logText(mentions)}`);
    const [report] = reports;
    assert.equal(report?.level, 'error');
    assert.match(report?.msg ?? '', /device idx 99 \(waterflow, register flow \(74\)\)/, 'names the idx, the type and the register');
    assert.match(report?.msg ?? '', /a Waterflow device/);
    assert.match(report?.msg ?? '', /`kamstrup-logger domoticz check --config FILE`/, 'says how to check it');

    const status = await run(['status', '--config', configPath]);
    assertExit(status, 0);
    const line = status.stdout.split('\n').find((l) => l.trim().startsWith(`idx=${wrong} `));
    assert.match(line ?? '', /: REFUSED since .*"status":"ERR"/, `status shows the wrong idx refused:\n${status.stdout}`);
    // status also reads every device back (the short form of `domoticz check`): the wrong idx is named missing.
    assert.match(status.stdout, /domoticz: 1 of 4 devices in Domoticz at \S+ need attention/, `status runs the device check:\n${status.stdout}`);
    assert.match(status.stdout, new RegExp(`^ {4}idx ${wrong} waterflow \\(flow\\): missing: Domoticz has no device with idx ${wrong}`, 'm'));
  });

  it('on a 401 with auth none says to add Trusted Networks once, keeps the data, and sends the newest values once they are added (after a restart)', async () => {
    const idxs = await createDevices(double, HEAT_SET);
    const devices = HEAT_SET.map((tile, n) => ({ ...tile, idx: idxs[n] ?? 0 }));
    // A fresh Domoticz: no trusted networks, every call but a few gets 401.
    double.settings.trustedNetworks = '';
    const refused = start({ url: double.url, dbPath, cron: EVERY_SECOND, devices });
    await waitFor('the pause logged and four runs stored', () => runCount(dbPath) >= 4 && refused.logs.some((r) => r.msg.includes('delivery paused')));
    await stop(refused);

    const advice = refused.logs.filter((r) => r.msg.includes('Trusted Networks'));
    const paused = advice.filter((r) => r.msg.includes('delivery paused'));
    assert.equal(paused.length, 1, `the delivery says it once:\n${logText(advice)}`);
    assert.equal(paused[0]?.level, 'error');
    assert.match(paused[0]?.msg ?? '', /add this machine's address to Setup → Settings → Security → Trusted Networks/);
    // Besides it only the start-up connection check says so, once.
    assert.equal(advice.length, 2, logText(advice));
    assert.equal(udevices(double).length, 1, 'one udevice got the 401; the sink paused instead of retrying in a loop');

    // The 60 s pause is not waited out: the daemon restarted after the fix delivers at once.
    double.settings.trustedNetworks = '127.0.0.1';
    const before = double.requests.length;
    const fixed = start({ url: double.url, dbPath, cron: NEVER_SOON, devices });
    await waitFor('every device sent', () => {
      const entries = entriesOf(dbPath);
      return entries.length === devices.length && entries.every((e) => e.state === 'sent');
    });
    await stop(fixed);

    assert.equal(udevices(double, undefined, before).length, devices.length, 'one update per device');
    const newest = newestRendered(renderedRuns(configPath, dbPath));
    for (const entry of entriesOf(dbPath)) {
      assert.equal(entry.payload, newest.get(entry.key), `${entry.key}: nothing lost, the newest run's value`);
      assert.equal(entry.sent?.payload, entry.payload);
      assertStoredIs(double, entry.payload, entry.key);
    }
  });

  it('never puts the Basic credentials in a URL or a log line, even at debug level', async () => {
    const username = 'kamstrup-e2e';
    const password = 'pw-7f3a-Zq9!x';
    const idxs = await createDevices(double, HEAT_SET);
    const devices = HEAT_SET.map((tile, n) => ({ ...tile, idx: idxs[n] ?? 0 }));
    // A User account (the right udevice needs), made by the admin from a trusted address.
    double.settings.trustedNetworks = '127.0.0.1';
    const admin = new DomoticzClient({ url: double.url, auth: { kind: 'none' }, timeoutMs: 5000, ca: null });
    await admin.command('adduser', { username, password: createHash('md5').update(password).digest('hex'), rights: 1, TabsEnabled: 0, enabled: 'true' });
    await admin.close();
    double.settings.trustedNetworks = '';
    double.settings.allowPlainBasicAuth = true;
    const passwordFile = join(temp.dir, 'domoticz-password');
    writeFileSync(passwordFile, `${password}\n`);
    const before = double.requests.length;
    // The first updates dropped unanswered (the client retries a reset connection once): two failed writes, the second logged at debug.
    let dropped = 0;
    double.beforeAnswer = (url) => Promise.resolve(queryOf(url).get('param') !== 'udevice' || dropped++ >= 4);

    const daemon = start({ url: double.url, dbPath, cron: EVERY_SECOND, devices, auth: `    auth: basic\n    username: ${username}\n    password_file: ${passwordFile}` });
    await waitFor('two updates of every device', () => idxs.every((idx) => udevices(double, idx, before).length >= 2));
    await stop(daemon);
    const status = await run(['status', '--config', configPath]);
    assertExit(status, 0);

    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    const theirs = double.requests.slice(before);
    assert.ok(theirs.length > devices.length * 2);
    assert.ok(theirs.every((r) => r.authorization === `Basic ${basic}`), 'every request sends the credentials up front');
    for (const { url } of theirs) {
      for (const secret of [password, encodeURIComponent(password), username, basic]) assert.ok(!url.includes(secret), `a request URL holds a credential: ${url}`);
    }
    assert.ok(daemon.logs.some((r) => r.level === 'warn') && daemon.logs.some((r) => r.level === 'debug'), `the failures were logged, at debug level too:\n${logText(daemon.logs)}`);
    const logged = `${logText(daemon.logs)}\n${status.stdout}\n${status.stderr}`;
    for (const secret of [password, basic]) assert.ok(!logged.includes(secret), 'a log line holds the password');
  });
});

/** A small deterministic generator, so a failing kill pattern can be replayed. */
function pseudoRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const KILLS = 8;
const READY_TIMEOUT_MS = 20_000;

function spawnDaemon(configFile: string): { child: ChildProcess; running: Promise<boolean>; output: () => string } {
  const child = spawn(process.execPath, [binPath, 'run', '--config', configFile, '--no-pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const running = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    const take = (chunk: string): void => {
      output += chunk;
      if (output.includes('"msg":"kamstrup-logger running')) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', take);
    child.stderr?.setEncoding('utf8').on('data', take);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  return { child, running, output: () => output };
}

async function killedAfter(configFile: string, afterMs: number): Promise<void> {
  const { child, running, output } = spawnDaemon(configFile);
  const ready = await running;
  if (ready) await sleep(afterMs);
  child.kill('SIGKILL');
  assert.ok(ready, `the daemon did not log "running" within ${READY_TIMEOUT_MS} ms:\n${output()}`);
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
}

/**
 * Whether the values Domoticz got for one key can be mapped, in the order received, to
 * non-decreasing runs that render them: no value older than one already received.
 */
function inRunOrder(received: readonly string[], rendered: readonly Map<string, string>[], key: string): { ok: boolean; at: number } {
  let position = 0;
  for (const [n, payload] of received.entries()) {
    let found = -1;
    for (let r = position; r < rendered.length; r++) {
      if (rendered[r]?.get(key) === payload) {
        found = r;
        break;
      }
    }
    if (found < 0) return { ok: false, at: n };
    position = found;
  }
  return { ok: true, at: -1 };
}

describe('the daemon with a Domoticz sink, killed mid-delivery', () => {
  let double: DomoticzServer;
  let temp: ReturnType<typeof tempDir>;
  let spawned: ChildProcess | null = null;

  beforeEach(async () => {
    double = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    temp = tempDir('kamstrup-dz-kill-');
  });
  afterEach(async () => {
    if (spawned && spawned.exitCode === null && spawned.signalCode === null) {
      const exited = once(spawned, 'exit');
      spawned.kill('SIGKILL');
      await exited;
    }
    await double.close();
    temp.remove();
  });

  it(`sends nothing stale and loses nothing newer, ${KILLS} kills over`, async () => {
    // Values that may go down as well as up (a counter whose value went back, when simulated time
    // restarts with the daemon, is held by design and tested elsewhere).
    const tiles: Tile[] = [
      { type: 'temperature', fields: 'register: t1' },
      { type: 'temperature', fields: 'register: t2' },
      { type: 'custom', fields: 'register: t_diff, unit: K', unit: 'K' },
      { type: 'waterflow', fields: 'register: flow' },
      { type: 'usage', fields: 'register: power' },
      { type: 'alert', fields: 'register: info' },
    ];
    const idxs = await createDevices(double, tiles);
    const devices = tiles.map((tile, n) => ({ ...tile, idx: idxs[n] ?? 0 }));
    const dbPath = join(temp.dir, 'k.sqlite');
    const setup = { url: double.url, dbPath, devices, registers: '[power, t1, t2, t_diff, flow, info]' };
    const killedConfig = join(temp.dir, 'every-second.yaml');
    const finalConfig = join(temp.dir, 'kamstrup-logger.yaml');
    writeFileSync(killedConfig, configYaml({ ...setup, cron: EVERY_SECOND }));
    writeFileSync(finalConfig, configYaml({ ...setup, cron: NEVER_SOON }));

    const random = pseudoRandom(11);
    // Each udevice held 150–300 ms: a kill often lands with one in flight.
    double.beforeAnswer = async (url) => {
      if (queryOf(url).get('param') === 'udevice') await sleep(150 + Math.floor(random() * 150));
      return true;
    };
    for (let kill = 0; kill < KILLS; kill++) await killedAfter(killedConfig, 300 + Math.floor(random() * 2000));

    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    } finally {
      db.close();
    }

    // One clean run with no job due: it sends what waits, and stops on SIGTERM.
    const last = spawnDaemon(finalConfig);
    spawned = last.child;
    assert.ok(await last.running, `the daemon did not start:\n${last.output()}`);
    await waitFor('every device sent, nothing waiting', () => {
      const entries = entriesOf(dbPath);
      return entries.length === devices.length && entries.every((e) => e.state === 'sent');
    });
    const exited = once(last.child, 'exit');
    last.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, last.output());

    const rendered = renderedRuns(finalConfig, dbPath);
    assert.ok(rendered.length > KILLS, `runs were stored between the kills (${rendered.length})`);
    const newest = newestRendered(rendered);
    for (const entry of entriesOf(dbPath)) {
      assert.equal(entry.sent?.payload, entry.payload, `${entry.key}: its newest value was sent`);
      assert.equal(entry.payload, newest.get(entry.key), `${entry.key}: nothing newer lost`);
      assertStoredIs(double, entry.payload, entry.key);
      const idx = (JSON.parse(entry.payload) as { idx: number }).idx;
      const received = udevices(double, idx).map((q) => JSON.stringify({ idx, nvalue: Number(q.get('nvalue')), svalue: q.get('svalue') }));
      const order = inRunOrder(received, rendered, entry.key);
      assert.ok(order.ok, `${entry.key}: value ${order.at} received (${received[order.at]}) is older than one before it or no run's:\n${received.join('\n')}`);
    }
  });
});
