// The Domoticz sink against the Domoticz double (test/support/domoticz-server.ts, answering as
// the recorded Domoticz 2025.1): writes as udevice calls, a refused idx named with what to check,
// check() in words, credentials never in a URL.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { DomoticzDeviceConfig, DomoticzSinkConfig } from '../../src/config/index.js';
import { SinkError, type NewestValueSink } from '../../src/delivery/sink.js';
import type { MeterModel } from '../../src/registers/index.js';
import { DomoticzClient } from '../../src/sinks/domoticz/client.js';
import { createDomoticzSink } from '../../src/sinks/domoticz/sink.js';
import type { PayloadRun } from '../../src/store/index.js';
import { DomoticzServer } from '../support/domoticz-server.js';

const MODELS: ReadonlyMap<string, MeterModel> = new Map([['home', 'multical-402']]);

const RUN: PayloadRun = {
  meter: 'home',
  model: 'multical-402',
  serial: 6001234,
  job: 'live',
  readAt: new Date('2026-01-10T12:00:00Z'),
  readings: [
    { registerId: 60, name: 'heat_energy', value: '55648', unitCode: 0x02, text: null },
    { registerId: 80, name: 'power', value: '12.3', unitCode: 0x16, text: null },
    { registerId: 86, name: 't1', value: '67.25', unitCode: 0x25, text: null },
  ],
};

async function failure(promise: Promise<unknown>): Promise<SinkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SinkError, `a SinkError, not ${String(error)}`);
    return error;
  }
  assert.fail('the write was taken as confirmed');
}

describe('the Domoticz sink', () => {
  const servers: DomoticzServer[] = [];
  const sinks: NewestValueSink[] = [];
  after(async () => {
    for (const sink of sinks) await sink.close();
    for (const server of servers) await server.close();
  });

  /** A trusted-network Domoticz with an electric device (idx 1) and a temperature device (idx 2). */
  const domoticz = async (settings: Partial<DomoticzServer['settings']> = { trustedNetworks: '127.0.0.1' }): Promise<DomoticzServer> => {
    const server = await DomoticzServer.start({ settings });
    servers.push(server);
    const setup = new DomoticzClient({ url: server.url, auth: { kind: 'none' }, timeoutMs: 5000, ca: null });
    server.settings.trustedNetworks = '127.0.0.1';
    await setup.command('addhardware', { htype: 15, name: 'Kamstrup' });
    await setup.command('createdevice', { idx: 2, sensorname: 'heat', sensormappedtype: '0xF31D' });
    await setup.command('createdevice', { idx: 2, sensorname: 'T1', sensormappedtype: '0x5005' });
    await setup.close();
    Object.assign(server.settings, settings);
    server.requests.length = 0;
    return server;
  };
  const devices: DomoticzDeviceConfig[] = [
    { idx: 1, type: 'electric', meter: 'home', powerRegisterId: 80, energyRegisterId: 60 },
    { idx: 2, type: 'temperature', meter: 'home', registerId: 86, unit: null },
  ];
  const sink = (url: string, more: Partial<DomoticzSinkConfig> = {}): NewestValueSink => {
    const made = createDomoticzSink({ url, auth: { kind: 'none' }, refreshMs: 55 * 60_000, timeoutMs: 5000, ca: null, devices, ...more }, MODELS);
    sinks.push(made);
    return made;
  };

  it('is a newest-per-key sink named domoticz, one payload per write, refreshed after refresh_minutes', async () => {
    const server = await domoticz();
    const dz = sink(server.url);
    assert.equal(dz.name, 'domoticz');
    assert.equal(dz.description, `Domoticz at ${server.url}`);
    assert.equal(dz.batchSize, 1);
    assert.equal(dz.refreshMs, 55 * 60_000);
    assert.equal(dz.delivery, 'newest-per-key');
    assert.equal(dz.format, 'domoticz-udevice/1');
    assert.deepEqual(dz.keys, ['idx=1 type=electric meter=home registers=80,60', 'idx=2 type=temperature meter=home registers=86']);
  });

  it('writes each rendered payload as one udevice call, in order, and Domoticz shows the values', async () => {
    const server = await domoticz();
    const dz = sink(server.url);
    const entries = dz.renderEntries(RUN, () => null);
    await dz.write(entries.map((entry) => entry.payload));
    assert.deepEqual(
      server.requests.map((request) => request.url),
      ['/json.htm?type=command&param=udevice&idx=1&nvalue=0&svalue=12300%3B55648000', '/json.htm?type=command&param=udevice&idx=2&nvalue=0&svalue=67.25'],
    );
    const read = await fetch(`${server.url}/json.htm?type=command&param=getdevices&rid=1`, { signal: AbortSignal.timeout(5000) });
    const [device] = ((await read.json()) as { result: Record<string, unknown>[] }).result;
    assert.equal(device?.['Data'], '55648.000 kWh');
    assert.equal(device?.['Usage'], '12300 Watt');
  });

  it('a refused idx ("status":"ERR") is rejected, naming the idx, the type, the register and what to check in Domoticz', async () => {
    const server = await domoticz();
    const dz = sink(server.url, { devices: [...devices, { idx: 9, type: 'temperature', meter: 'home', registerId: 87, unit: null }] });
    const error = await failure(dz.write(['{"idx":9,"nvalue":0,"svalue":"41.5"}']));
    assert.equal(error.kind, 'rejected');
    assert.equal(
      error.message,
      `Domoticz at ${server.url} refused the update of device idx 9 (temperature, register t2 (87)) ("status":"ERR"): check in Domoticz that idx 9 exists and is a Temperature device (\`kamstrup-logger domoticz check --config FILE\` shows it)`,
    );
    await dz.write(['{"idx":2,"nvalue":0,"svalue":"41.5"}']);
  });

  it('a 401 stays an auth error with the fix for the auth kind; a payload that is no device update is not sent', async () => {
    const server = await domoticz({ trustedNetworks: '' });
    const dz = sink(server.url);
    const error = await failure(dz.write(['{"idx":2,"nvalue":0,"svalue":"41.5"}']));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /Trusted Networks/);
    const before = server.requests.length;
    assert.equal((await failure(dz.write(['']))).kind, 'rejected');
    assert.equal(server.requests.length, before);
  });

  it('check(): null when all is well; otherwise the problem in words, never a rejection', async () => {
    const server = await domoticz();
    assert.equal(await sink(server.url).check(), null);
    // Every device is read back, as `domoticz check` does: a missing one and one of the wrong type
    // are both named, after the first, with what to do; the device that is right is not listed.
    const problems = await sink(server.url, {
      devices: [
        devices[0] ?? assert.fail(),
        { idx: 44, type: 'counter', meter: 'home', registerId: 68, meterType: 'water', divider: 1000, unit: null },
        { idx: 2, type: 'waterflow', meter: 'home', registerId: 74, unit: null },
      ],
    }).check();
    assert.equal(
      problems,
      [
        `2 of 3 devices in Domoticz at ${server.url} need attention (\`kamstrup-logger domoticz check --config FILE\` shows them all):`,
        'idx 44 counter (water) (volume): missing: Domoticz has no device with idx 44: check the idx under Setup → Devices, or create a Counter device (`kamstrup-logger domoticz setup` does) and put its idx in the config',
        'idx 2 waterflow (flow): wrong type: idx 2 ("T1") is a Temp / LaCrosse TX3 device, but a waterflow device needs a Waterflow (General / Waterflow): Domoticz would store the values and show nonsense. Point the config at a Waterflow device, or change this device\'s type in the config to match',
      ].join('\n    '),
    );
    server.settings.trustedNetworks = '';
    assert.match((await sink(server.url).check()) ?? '', /answered 401 Unauthorized: Domoticz asks for credentials: add this machine's address to Setup → Settings → Security → Trusted Networks/);
    server.settings.allowPlainBasicAuth = true;
    const secret = 'Wr0ng-Secret';
    const refused = (await sink(server.url, { auth: { kind: 'basic', username: 'admin', password: secret } }).check()) ?? '';
    assert.match(refused, /Domoticz refuses the account/);
    assert.ok(!refused.includes(secret));
    assert.ok(server.requests.every((request) => !request.url.includes(secret) && !request.url.includes('admin')), 'no credentials in a URL');
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    assert.match((await sink(`http://127.0.0.1:${port}`).check()) ?? '', /^cannot reach Domoticz at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('after close() nothing more is written', async () => {
    const server = await domoticz();
    const dz = sink(server.url);
    await dz.close();
    assert.equal((await failure(dz.write(['{"idx":2,"nvalue":0,"svalue":"41.5"}']))).kind, 'unavailable');
    assert.equal(server.requests.length, 0);
  });
});
