// The Domoticz renderer: a run → one payload per configured device, checked against the Domoticz
// double (test/support/domoticz-server.ts), whose read-back is compared with what the real
// Domoticz 2025.1 showed for the same svalue in the recording (test/fixtures, a copy of
// ../shared/fixtures/domoticz-2025.1-recorded.jsonl).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { DomoticzDeviceConfig } from '../../src/config/index.js';
import type { MeterModel } from '../../src/registers/index.js';
import { DomoticzClient } from '../../src/sinks/domoticz/client.js';
import { deviceKey, DomoticzRenderer } from '../../src/sinks/domoticz/devices.js';
import type { KeyedPayload, PayloadReading, PayloadRun } from '../../src/store/index.js';
import { DomoticzServer } from '../support/domoticz-server.js';

const KWH = 0x02, MWH = 0x03, GJ = 0x08, GCAL = 0x0c, KW = 0x16, C = 0x25, K = 0x26, M3 = 0x28, LH = 0x29, PERCENT = 0x45, DATE = 0x30, NONE = 0x00;

interface Recorded {
  readonly label: string;
  readonly body: string;
}
const recording: Recorded[] = readFileSync(new URL('../../../test/fixtures/domoticz-2025.1-recorded.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Recorded);

/** What the real server showed in a recorded getdevices answer. */
function recorded(label: string, fields: readonly string[]): Record<string, unknown> {
  const entry = recording.find((e) => e.label.startsWith(label));
  assert.ok(entry, `recording ${label}`);
  const [device] = (JSON.parse(entry.body) as { result: Record<string, unknown>[] }).result;
  return Object.fromEntries(fields.map((field) => [field, device?.[field]]));
}

/** The example config, on meter "home". */
const DEVICES: readonly DomoticzDeviceConfig[] = [
  { idx: 12, type: 'electric', meter: 'home', powerRegisterId: 80, energyRegisterId: 60 },
  { idx: 13, type: 'temperature', meter: 'home', registerId: 86, unit: null },
  { idx: 14, type: 'temperature', meter: 'home', registerId: 87, unit: null },
  { idx: 15, type: 'custom', meter: 'home', registerId: 89, unit: 'K' },
  { idx: 16, type: 'waterflow', meter: 'home', registerId: 74, unit: null },
  { idx: 17, type: 'counter', meter: 'home', registerId: 68, meterType: 'water', divider: 1000, unit: null },
  { idx: 18, type: 'alert', meter: 'home', registerId: 99, unit: null },
];
const MODELS: ReadonlyMap<string, MeterModel> = new Map([['home', 'multical-402']]);

const reading = (registerId: number, value: string, unitCode: number, text: string | null = null): PayloadReading => ({ registerId, name: null, value, unitCode, text });

/** A MULTICAL 402 live run as the daemon records it. */
function liveRun(overrides: readonly PayloadReading[] = [], meter = 'home', model = 'multical-402'): PayloadRun {
  const base = [reading(60, '55648', KWH), reading(68, '123.456', M3), reading(74, '245', LH), reading(80, '12.3', KW), reading(86, '67.25', C), reading(87, '41.5', C), reading(89, '25.75', K), reading(99, '0', NONE)];
  const readings = base.filter((r) => !overrides.some((o) => o.registerId === r.registerId)).concat(overrides.filter((o) => o.value !== ''));
  return { meter, model, serial: 6001234, job: 'live', readAt: new Date('2026-01-10T12:00:00Z'), readings };
}

const nothingSent = (): null => null;

describe('Domoticz devices: keys and payloads', () => {
  const renderer = new DomoticzRenderer(DEVICES, MODELS);

  it('a device key names idx, type (counter/<meter type>), meter and registers, as pinned', () => {
    assert.equal(deviceKey(DEVICES[0] as DomoticzDeviceConfig), 'idx=12 type=electric meter=home registers=80,60');
    assert.equal(deviceKey(DEVICES[5] as DomoticzDeviceConfig), 'idx=17 type=counter/water meter=home registers=68');
    assert.deepEqual(renderer.keys, DEVICES.map(deviceKey));
    assert.equal(renderer.format, 'domoticz-udevice/1');
    assert.equal(renderer.delivery, 'newest-per-key');
  });

  it('a live run gives one payload per device, in Domoticz\'s domoticz/in JSON', () => {
    assert.deepEqual(
      renderer.renderEntries(liveRun(), nothingSent).map((entry) => [entry.key.split(' ')[0], entry.payload, entry.held]),
      [
        ['idx=12', '{"idx":12,"nvalue":0,"svalue":"12300;55648000"}', null],
        ['idx=13', '{"idx":13,"nvalue":0,"svalue":"67.25"}', null],
        ['idx=14', '{"idx":14,"nvalue":0,"svalue":"41.5"}', null],
        ['idx=15', '{"idx":15,"nvalue":0,"svalue":"25.75"}', null],
        ['idx=16', '{"idx":16,"nvalue":0,"svalue":"4.08"}', null],
        ['idx=17', '{"idx":17,"nvalue":0,"svalue":"123456"}', null],
        ['idx=18', '{"idx":18,"nvalue":1,"svalue":"OK"}', null],
      ],
    );
  });

  it('the electric device sends Wh whatever the meter\'s energy unit: kWh, MWh, GJ, Gcal', () => {
    const electric = new DomoticzRenderer([DEVICES[0] as DomoticzDeviceConfig], MODELS);
    for (const [value, unit, svalue] of [['55648', KWH, '12300;55648000'], ['55.648', MWH, '12300;55648000'], ['200.3328', GJ, '12300;55648000'], ['47.849', GCAL, '12300;55648387']] as const) {
      assert.deepEqual(electric.renderEntries(liveRun([reading(60, value, unit)]), nothingSent).map((e) => e.payload), [`{"idx":12,"nvalue":0,"svalue":"${svalue}"}`], `${value} ${unit}`);
    }
  });

  it('a run that lacks one of a device\'s registers gives no entry for it; runs of other meters give none', () => {
    const withoutEnergy = renderer.renderEntries(liveRun([reading(60, '', KWH)]), nothingSent);
    assert.ok(!withoutEnergy.some((entry) => entry.key.startsWith('idx=12 ')), 'no electric entry without its energy register');
    assert.equal(withoutEnergy.length, DEVICES.length - 1, 'the other devices still get theirs');
    const onlyTemperatures: PayloadRun = { ...liveRun(), readings: [reading(86, '70.1', C)] };
    assert.deepEqual(renderer.renderEntries(onlyTemperatures, nothingSent).map((e) => e.payload), ['{"idx":13,"nvalue":0,"svalue":"70.1"}']);
    assert.deepEqual(renderer.renderEntries(liveRun([], 'garage'), nothingSent), []);
  });

  it('info codes are decoded with the run\'s model table: 601 leak is an alarm, a 402 flag is shown by number', () => {
    const info = (model: string, code: string, type: 'alert' | 'text'): KeyedPayload[] => [
      ...new DomoticzRenderer([{ idx: 18, type, meter: 'home', registerId: 99, unit: null }], MODELS).renderEntries(liveRun([reading(99, code, NONE)], 'home', model), nothingSent),
    ];
    assert.equal(info('multical-601', '256', 'alert')[0]?.payload, '{"idx":18,"nvalue":4,"svalue":"leak in the heating system"}');
    assert.equal(info('multical-402', '8', 'alert')[0]?.payload, '{"idx":18,"nvalue":3,"svalue":"flag 8"}');
    assert.equal(info('multical-403', '8', 'text')[0]?.payload, '{"idx":18,"nvalue":0,"svalue":"t1 above measuring range or disconnected"}');
    assert.equal(info('multical-602', '12', 'text')[0]?.payload, '{"idx":18,"nvalue":0,"svalue":"T2 outside measuring range, T1 outside measuring range"}');
  });

  it('usage, percentage, text of a value or a date, energy and custom counters', () => {
    const devices: DomoticzDeviceConfig[] = [
      { idx: 20, type: 'usage', meter: 'home', registerId: 80, unit: null },
      { idx: 21, type: 'percentage', meter: 'home', registerId: 200, unit: null },
      { idx: 22, type: 'text', meter: 'home', registerId: 86, unit: null },
      { idx: 23, type: 'text', meter: 'home', registerId: 98, unit: null },
      { idx: 24, type: 'counter', meter: 'home', registerId: 60, meterType: 'energy', divider: 1000, unit: null },
      { idx: 25, type: 'counter', meter: 'home', registerId: 97, meterType: 'custom', divider: 100, unit: 'm³×°C' },
    ];
    const run = liveRun([reading(200, '42.5', PERCENT), reading(98, '260101', DATE, '2026-01-01'), reading(97, '1234.567', 0x2b)]);
    assert.deepEqual(new DomoticzRenderer(devices, MODELS).renderEntries(run, nothingSent).map((e) => e.payload), [
      '{"idx":20,"nvalue":0,"svalue":"12300"}',
      '{"idx":21,"nvalue":0,"svalue":"42.5"}',
      '{"idx":22,"nvalue":0,"svalue":"67.25 °C"}',
      '{"idx":23,"nvalue":0,"svalue":"2026-01-01"}',
      '{"idx":24,"nvalue":0,"svalue":"55648000"}',
      '{"idx":25,"nvalue":0,"svalue":"123457"}',
    ]);
  });
});

describe('Domoticz devices: what is held instead of sent', () => {
  const renderer = new DomoticzRenderer(DEVICES, MODELS);
  const sentOf = (entries: readonly KeyedPayload[]) => (key: string): string | null => entries.find((entry) => entry.key === key)?.payload ?? null;

  it('a counter that would go backwards is held, saying the meter was probably replaced or reset and what to do in Domoticz; equal is sent', () => {
    const before = renderer.renderEntries(liveRun(), nothingSent);
    const after = renderer.renderEntries(liveRun([reading(68, '0.012', M3), reading(60, '3', KWH)]), sentOf(before));
    const counter = after.find((entry) => entry.key.startsWith('idx=17 '));
    assert.equal(counter?.payload, '{"idx":17,"nvalue":0,"svalue":"12"}', 'the payload is kept, for status');
    assert.equal(
      counter?.held,
      'device idx 17 (counter, meter_type water, register volume (68)): the counter would go back from 123456 litres to 12 litres, so the meter was probably replaced or reset. ' +
        'Sent, Domoticz would show a huge negative use for today, so it is held. ' +
        'In Domoticz, create a new device (`kamstrup-logger domoticz setup`, or Setup → Hardware → Dummy → Create Virtual Sensors) and put its idx in the config in place of 17: the old device keeps its history.',
    );
    const electric = after.find((entry) => entry.key.startsWith('idx=12 '));
    assert.match(electric?.held ?? '', /^device idx 12 \(electric, registers power \(80\) and heat_energy \(60\)\): the counter would go back from 55648000 Wh to 3000 Wh/);
    assert.equal(after.filter((entry) => entry.held !== null).length, 2, 'the other devices go on');
    const same = renderer.renderEntries(liveRun(), sentOf(before));
    assert.deepEqual(same.map((entry) => entry.held), DEVICES.map(() => null), 'an unchanged total is no step back');
    const forward = renderer.renderEntries(liveRun([reading(68, '123.457', M3)]), sentOf(before));
    assert.equal(forward.find((entry) => entry.key.startsWith('idx=17 '))?.held, null);
  });

  it('a reading the device type cannot take is held with the reason and the device', () => {
    const entries = renderer.renderEntries(liveRun([reading(86, '67.25', K), reading(68, '-5', M3)]), nothingSent);
    const temperature = entries.find((entry) => entry.key.startsWith('idx=13 '));
    assert.equal(temperature?.payload, '');
    assert.equal(temperature?.held, 'device idx 13 (temperature, register t1 (86)): a temperature device takes a temperature in °C, but this register is in K: map a register of that kind to it');
    assert.match(entries.find((entry) => entry.key.startsWith('idx=17 '))?.held ?? '', /^device idx 17 \(counter, meter_type water, register volume \(68\)\): a counter cannot go below zero/);
    assert.equal(entries.find((entry) => entry.key.startsWith('idx=14 '))?.held, null, 'the other devices go on');
  });
});

describe('Domoticz devices: sent to the double, read back as the real Domoticz 2025.1 showed them', () => {
  let server: DomoticzServer;
  let client: DomoticzClient;
  const devices: DomoticzDeviceConfig[] = [];

  before(async () => {
    server = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    client = new DomoticzClient({ url: server.url, auth: { kind: 'none' }, timeoutMs: 5000, ca: null });
    await client.command('addhardware', { htype: 15, name: 'Kamstrup', port: 1, enabled: 'true' });
    const create = async (mapped: string, options: Record<string, string> = {}): Promise<number> => Number((await client.command('createdevice', { idx: 2, sensorname: mapped, sensormappedtype: mapped, ...options }))['idx']);
    const electric = await create('0xF31D');
    const temperature = await create('0x5005');
    const custom = await create('0xF31F', { sensoroptions: '1;l/h' });
    const waterflow = await create('0xF31E');
    const energy = await create('0x7100');
    const water = await create('0x7100');
    await client.command('setused', { idx: water, name: 'water', used: 'true', switchtype: 2, addjvalue2: 1000 });
    devices.push(
      { idx: electric, type: 'electric', meter: 'home', powerRegisterId: 80, energyRegisterId: 60 },
      { idx: temperature, type: 'temperature', meter: 'home', registerId: 86, unit: null },
      { idx: custom, type: 'custom', meter: 'home', registerId: 74, unit: 'l/h' },
      { idx: waterflow, type: 'waterflow', meter: 'home', registerId: 74, unit: null },
      { idx: energy, type: 'counter', meter: 'home', registerId: 60, meterType: 'energy', divider: 1000, unit: null },
      { idx: water, type: 'counter', meter: 'home', registerId: 68, meterType: 'water', divider: 1000, unit: null },
    );
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  const readBack = async (idx: number, fields: readonly string[]): Promise<Record<string, unknown>> => {
    const [device] = (await client.command('getdevices', { rid: idx }))['result'] as Record<string, unknown>[];
    return Object.fromEntries(fields.map((field) => [field, device?.[field]]));
  };

  for (const [value, unit] of [['55648', KWH], ['55.648', MWH], ['200.3328', GJ]] as const) {
    it(`a live run with energy in ${value} ${unit === KWH ? 'kWh' : unit === MWH ? 'MWh' : 'GJ'}: every tile shows what the real server showed`, async () => {
      const entries = new DomoticzRenderer(devices, MODELS).renderEntries(liveRun([reading(60, value, unit)]), nothingSent);
      assert.equal(entries.length, devices.length);
      for (const entry of entries) {
        const payload = JSON.parse(entry.payload) as { idx: number; nvalue: number; svalue: string };
        await client.command('udevice', payload);
      }
      const [electric, temperature, custom, waterflow, energy, water] = devices.map((device) => device.idx) as number[];
      assert.deepEqual(await readBack(electric ?? 0, ['Data', 'Usage']), recorded('S3-2b', ['Data', 'Usage']));
      assert.deepEqual(await readBack(temperature ?? 0, ['Data', 'Temp']), recorded('S3-1b', ['Data', 'Temp']));
      assert.deepEqual(await readBack(custom ?? 0, ['Data']), recorded('S3-3b', ['Data']));
      assert.deepEqual(await readBack(waterflow ?? 0, ['Data']), recorded('S3-4b', ['Data']));
      assert.deepEqual(await readBack(energy ?? 0, ['Data', 'Counter']), recorded('S3-5b', ['Data', 'Counter']));
      assert.deepEqual(await readBack(water ?? 0, ['Data', 'Counter']), recorded('S3-6d', ['Data', 'Counter']));
    });
  }
});
