// `kamstrup-logger domoticz setup`, the real CLI against the Domoticz test double on 127.0.0.1.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { DomoticzServer } from '../support/domoticz-server.js';
import { assertExit, killAll, run, tempDir, type RunResult } from './helpers.js';

const HEADER = '# The setup test\'s config: one simulated heat meter.\nmeters:\n  - name: home\n    url: sim://multical-402\nstorage:\n  path: ./logger.sqlite\n';

function sinkSection(url: string, auth: string): string {
  return `sinks:\n  # Domoticz on loopback (the test double)\n  domoticz:\n    url: ${url}\n${auth}`;
}

/** The config with the printed devices: block pasted under sinks.domoticz. */
function withBlock(config: string, block: string): string {
  return `${config}${block.trimEnd().split('\n').map((line) => `    ${line}`).join('\n')}\n`;
}

/** The commands (param=…) the double got, in order. */
function commands(server: DomoticzServer, from = 0): string[] {
  return server.requests.slice(from).map((r) => new URLSearchParams(r.url.slice(r.url.indexOf('?') + 1)).get('param') ?? r.url);
}

interface DeviceRow {
  readonly idx: string;
  readonly Name: string;
  readonly Type: string;
  readonly SubType: string;
  readonly HardwareID: number;
  readonly SwitchTypeVal?: number;
  readonly Divider?: number;
  readonly SensorUnit?: string;
}

/** Every device the double holds, read as an admin from a trusted address (not counted in `requests` checks that slice before it). */
async function devicesOf(server: DomoticzServer, authorization?: string): Promise<DeviceRow[]> {
  const response = await fetch(`${server.url}/json.htm?type=command&param=getdevices&filter=all`, { headers: authorization === undefined ? {} : { authorization } });
  const body = (await response.json()) as { result?: DeviceRow[] };
  return body.result ?? [];
}

const DEFAULT_SET = [
  ['home heat', 'General', 'kWh'],
  ['home T1 flow', 'Temp', 'LaCrosse TX3'],
  ['home T2 return', 'Temp', 'LaCrosse TX3'],
  ['home T1-T2', 'General', 'Custom Sensor'],
  ['home flow', 'General', 'Waterflow'],
  ['home volume', 'RFXMeter', 'RFXMeter counter'],
  ['home info', 'General', 'Alert'],
];

describe('domoticz setup', () => {
  let server: DomoticzServer;
  let temp: ReturnType<typeof tempDir>;
  let configPath: string;
  let config: string;

  beforeEach(async () => {
    server = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    temp = tempDir('kamstrup-dz-setup-');
    configPath = join(temp.dir, 'kamstrup-logger.yaml');
    config = `${HEADER}${sinkSection(server.url, '    auth: none\n')}`;
    writeFileSync(configPath, config);
  });
  afterEach(async () => {
    await server.close();
    temp.remove();
  });
  after(killAll);

  const setup = (...args: string[]): Promise<RunResult> => run(['domoticz', 'setup', '--config', configPath, ...args]);

  it('on an empty Domoticz: creates the Dummy hardware and the heat-meter set, and prints a devices: block that loads and checks ok', async () => {
    const result = await setup();
    assertExit(result, 0);
    assert.deepEqual(commands(server), ['gethardware', 'addhardware', 'createdevice', 'createdevice', 'createdevice', 'createdevice', 'createdevice', 'createdevice', 'setused', 'createdevice']);
    assert.match(server.requests[1]?.url ?? '', /param=addhardware&htype=15&port=1&name=kamstrup-logger&enabled=true$/);
    const devices = await devicesOf(server);
    assert.deepEqual(devices.map((d) => [d.Name, d.Type, d.SubType]), DEFAULT_SET);
    assert.ok(devices.every((d) => d.HardwareID === 2), 'every device on the new hardware');
    const volume = devices.find((d) => d.Name === 'home volume');
    assert.equal(volume?.SwitchTypeVal, 2, 'the volume counter is a water meter');
    assert.equal(volume?.Divider, 1000, 'counting litres');
    assert.equal(devices.find((d) => d.Name === 'home T1-T2')?.SensorUnit, 'K', 'the meter reports t_diff in K');

    const idx = (name: string): string => devices.find((d) => d.Name === name)?.idx ?? '?';
    assert.equal(
      result.stdout,
      'devices:\n' +
        `  - { idx: ${idx('home heat')}, type: electric, power: power, energy: heat_energy }\n` +
        `  - { idx: ${idx('home T1 flow')}, type: temperature, register: t1 }\n` +
        `  - { idx: ${idx('home T2 return')}, type: temperature, register: t2 }\n` +
        `  - { idx: ${idx('home T1-T2')}, type: custom, register: t_diff, unit: K }\n` +
        `  - { idx: ${idx('home flow')}, type: waterflow, register: flow }\n` +
        `  - { idx: ${idx('home volume')}, type: counter, register: volume, meter_type: water }\n` +
        `  - { idx: ${idx('home info')}, type: alert, register: info }\n`,
    );
    assert.match(result.stderr, /home heat: idx \d+, created \(Electric \(Instant\+Counter\)\)/);
    assert.match(result.stderr, /paste this under sinks\.domoticz/);

    writeFileSync(configPath, withBlock(config, result.stdout));
    const check = await run(['domoticz', 'check', '--config', configPath]);
    assertExit(check, 0);
    assert.equal(check.stdout.split('\n').filter((line) => / ok$/.test(line)).length, 7, check.stdout);
  });

  it('again on a Domoticz that has the devices: creates nothing and prints the same block', async () => {
    const first = await setup();
    assertExit(first, 0);
    const before = server.requests.length;
    const second = await setup();
    assertExit(second, 0);
    assert.deepEqual(commands(server, before), ['gethardware', 'getdevices']);
    assert.equal(second.stdout, first.stdout);
    assert.match(second.stderr, /home heat: idx \d+, exists/);
    assert.equal((await devicesOf(server)).length, 7);
  });

  it('repairs the meter type and divider of a counter that exists by name but was left an Energy counter', async () => {
    assertExit(await setup(), 0);
    const volume = (await devicesOf(server)).find((d) => d.Name === 'home volume');
    await fetch(`${server.url}/json.htm?type=command&param=setused&idx=${volume?.idx ?? ''}&name=home%20volume&used=true&switchtype=0&addjvalue2=0`);
    const before = server.requests.length;
    assertExit(await setup(), 0);
    assert.deepEqual(commands(server, before), ['gethardware', 'getdevices', 'setused']);
    const repaired = (await devicesOf(server)).find((d) => d.Name === 'home volume');
    assert.deepEqual([repaired?.SwitchTypeVal, repaired?.Divider], [2, 1000]);
  });

  it('refuses to reuse a device of the same name that is of another type', async () => {
    assertExit(await setup(), 0);
    const volume = (await devicesOf(server)).find((d) => d.Name === 'home volume');
    await fetch(`${server.url}/json.htm?type=command&param=setused&idx=${volume?.idx ?? ''}&name=old&used=true`);
    await fetch(`${server.url}/json.htm?type=command&param=createdevice&idx=2&sensorname=home%20volume&sensormappedtype=0x5005`);
    const result = await setup();
    assertExit(result, 1);
    assert.match(result.stderr, /has a device "home volume" \(idx \d+\) that is a Temp \/ LaCrosse TX3, not a Counter .*rename or delete it/);
  });

  it('--registers picks the devices; power alone is a Usage tile; a register no job reads is a usage error', async () => {
    const result = await setup('--registers', 'power,volume');
    assertExit(result, 0);
    assert.deepEqual((await devicesOf(server)).map((d) => [d.Name, d.Type, d.SubType]), [
      ['home power', 'Usage', 'Electric'],
      ['home volume', 'RFXMeter', 'RFXMeter counter'],
    ]);
    assert.match(result.stdout, /type: usage, register: power/);
    const unread = await setup('--registers', 'cooling_energy');
    assertExit(unread, 2);
    assert.match(unread.stderr, /--registers names cooling_energy, but no job reads it on meter home: add it to a job's registers/);
    const unknown = await setup('--registers', 'tee1');
    assertExit(unknown, 2);
    assert.match(unknown.stderr, /unknown register "tee1"/);
  });

  it('--dry-run prints the calls it would make and makes only reads', async () => {
    const result = await setup('--dry-run');
    assertExit(result, 0);
    assert.deepEqual(commands(server), ['gethardware']);
    assert.equal((await devicesOf(server)).length, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `GET ${server.url}/json.htm?type=command&param=addhardware&htype=15&port=1&name=kamstrup-logger&enabled=true`);
    assert.equal(lines[1], `GET ${server.url}/json.htm?type=command&param=createdevice&idx=<idx of the new hardware>&sensorname=home%20heat&sensormappedtype=0xF31D`);
    assert.ok(lines.includes(`GET ${server.url}/json.htm?type=command&param=createdevice&idx=<idx of the new hardware>&sensorname=home%20T1-T2&sensormappedtype=0xF31F&sensoroptions=1%3BK`), result.stdout);
    assert.ok(lines.includes(`GET ${server.url}/json.htm?type=command&param=setused&idx=<idx of home volume>&name=home%20volume&used=true&switchtype=2&addjvalue2=1000`), result.stdout);
    assert.equal(lines.length, 9, result.stdout);

    assertExit(await setup(), 0);
    const again = await setup('--dry-run');
    assertExit(again, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /nothing to change/);
  });

  it('--write puts the block into the config file, keeping its comments, and the file loads', async () => {
    const result = await setup('--write');
    assertExit(result, 0);
    assert.equal(result.stdout, '');
    const written = readFileSync(configPath, 'utf8');
    assert.ok(written.startsWith(HEADER), written);
    assert.match(written, / {2}# Domoticz on loopback \(the test double\)\n {2}domoticz:\n/);
    assert.match(written, /\n {4}devices:\n {6}- \{ idx: \d+, type: electric, power: power, energy: heat_energy \}\n/);
    const parsed = parse(written) as { sinks: { domoticz: { devices: unknown[] } } };
    assert.equal(parsed.sinks.domoticz.devices.length, 7);
    assertExit(await run(['domoticz', 'check', '--config', configPath]), 0);

    const again = await setup('--write');
    assertExit(again, 0);
    assert.match(again.stderr, /already lists these devices: nothing to write/);
    assert.equal(readFileSync(configPath, 'utf8'), written);

    const other = await setup('--write', '--registers', 't1');
    assertExit(other, 1);
    assert.match(other.stderr, /already lists other devices, and --write does not replace them/);
    assert.equal(readFileSync(configPath, 'utf8'), written);
  });

  it('without a sinks.domoticz section: exit 2, saying how to add one', async () => {
    writeFileSync(configPath, HEADER);
    const result = await setup();
    assertExit(result, 2);
    assert.match(result.stderr, /has no sinks\.domoticz section: add a sinks\.domoticz section with the url of your Domoticz/);
    assert.equal(server.requests.length, 0);
  });
});

describe('domoticz setup needs admin rights', () => {
  let temp: ReturnType<typeof tempDir>;
  const servers: DomoticzServer[] = [];
  beforeEach(() => {
    temp = tempDir('kamstrup-dz-rights-');
  });
  afterEach(() => temp.remove());
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await killAll();
  });

  const ADMIN_BASIC = `Basic ${Buffer.from('admin:domoticz').toString('base64')}`;
  const PASSWORD = 'Zq8-not-in-any-url';

  /** A Domoticz that takes Basic over plain HTTP, with an extra account of the given rights. */
  async function serverWithAccount(username: string, rights: 1 | 2): Promise<DomoticzServer> {
    const server = await DomoticzServer.start({ settings: { allowPlainBasicAuth: true } });
    servers.push(server);
    const md5 = (await import('node:crypto')).createHash('md5').update(PASSWORD).digest('hex');
    const response = await fetch(`${server.url}/json.htm?type=command&param=adduser&username=${username}&password=${md5}&rights=${rights}&TabsEnabled=0`, { headers: { authorization: ADMIN_BASIC } });
    assert.equal(response.status, 200);
    return server;
  }

  function basicConfig(server: DomoticzServer, username: string): string {
    const path = join(temp.dir, 'kamstrup-logger.yaml');
    writeFileSync(path, `${HEADER}${sinkSection(server.url, `    auth: basic\n    username: ${username}\n    password_file: ./domoticz-password\n`)}`);
    writeFileSync(join(temp.dir, 'domoticz-password'), `${PASSWORD}\n`);
    return path;
  }

  function assertNoCredentials(server: DomoticzServer, result: RunResult): void {
    const base64 = Buffer.from(PASSWORD).toString('base64');
    // The test's own calls as the built-in admin (adduser, reading the devices back) aside.
    for (const request of server.requests.filter((r) => r.authorization !== ADMIN_BASIC)) {
      assert.ok(!request.url.includes(PASSWORD) && !request.url.includes(base64) && !/username=|password=/.test(request.url), `credentials in ${request.url}`);
    }
    for (const text of [result.stdout, result.stderr]) assert.ok(!text.includes(PASSWORD) && !text.includes(base64), `credentials in the output: ${text}`);
  }

  it('as a User account: 403, and the message says setup needs an Admin account or a trusted network', async () => {
    const server = await serverWithAccount('logger', 1);
    const result = await run(['domoticz', 'setup', '--config', basicConfig(server, 'logger')]);
    assertExit(result, 1);
    assert.match(result.stderr, /refused \(403\): creating hardware and devices needs admin rights, and the account "logger" is no Admin\. Run setup with an Admin account .*Trusted Networks/);
    assert.equal((await devicesOf(server, ADMIN_BASIC)).length, 0);
    assertNoCredentials(server, result);
  });

  it('as an Admin account over Basic: creates the devices, credentials only in the Authorization header', async () => {
    const server = await serverWithAccount('installer', 2);
    const result = await run(['domoticz', 'setup', '--config', basicConfig(server, 'installer')]);
    assertExit(result, 0);
    assert.equal((await devicesOf(server, ADMIN_BASIC)).length, 7);
    const sent = server.requests.filter((r) => r.authorization !== ADMIN_BASIC);
    assert.ok(sent.every((r) => r.authorization === `Basic ${Buffer.from(`installer:${PASSWORD}`).toString('base64')}`), 'Basic sent up front on every call');
    assertNoCredentials(server, result);
  });

  it('401 with auth: none: the message says to add this address to Trusted Networks', async () => {
    const server = await DomoticzServer.start();
    servers.push(server);
    const path = join(temp.dir, 'kamstrup-logger.yaml');
    writeFileSync(path, `${HEADER}${sinkSection(server.url, '    auth: none\n')}`);
    const result = await run(['domoticz', 'setup', '--config', path]);
    assertExit(result, 1);
    assert.match(result.stderr, /refused \(401\): creating hardware and devices needs admin rights; this machine's address is not in Domoticz's Trusted Networks: add it under Setup → Settings → Security → Trusted Networks/);
  });
});
