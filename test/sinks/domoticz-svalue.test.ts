import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ALERT_LEVEL,
  SvalueError,
  alertUpdate,
  counterUpdate,
  customUpdate,
  electricUpdate,
  percentageUpdate,
  temperatureUpdate,
  textUpdate,
  usageUpdate,
  waterflowUpdate,
  type DeviceUpdate,
} from '../../src/sinks/domoticz/svalue.js';
import { MULTICAL_601_INFO_FLAGS } from '../../src/registers/index.js';
import { DomoticzServer } from '../support/domoticz-server.js';

const GJ = 0x08, MWH = 0x03, KWH = 0x02, GCAL = 0x0c, WH = 0x01, KW = 0x16, W = 0x15, C = 0x25, K = 0x26, LH = 0x29, M3H = 0x2a, M3 = 0x28, L = 0x27, DATE = 0x30, NONE = 0x00;

describe('Domoticz svalue, read back from the test double as the real 2025.1 stored it', () => {
  let server: DomoticzServer;
  const idx = new Map<string, string>();

  async function call(query: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}/json.htm?type=command&${query}`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as Record<string, unknown>;
  }

  async function sendAndRead(device: string, update: DeviceUpdate): Promise<Record<string, unknown>> {
    const answer = await call(`param=udevice&idx=${idx.get(device)}&nvalue=${update.nvalue}&svalue=${encodeURIComponent(update.svalue)}`);
    assert.equal(answer['status'], 'OK');
    const read = await call(`param=getdevices&rid=${idx.get(device)}`);
    return (read['result'] as Record<string, unknown>[])[0] as Record<string, unknown>;
  }

  before(async () => {
    server = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    await call('param=addhardware&htype=15&port=1&name=Dummy&enabled=true');
    const create = async (name: string, mapped: string, options = ''): Promise<void> => {
      const answer = await call(`param=createdevice&idx=2&sensorname=${name}&sensormappedtype=${mapped}${options}`);
      idx.set(name, String(answer['idx']));
    };
    await create('temp', '0x5005');
    await create('electric', '0xF31D');
    await create('flow', '0xF31F', '&sensoroptions=1;l%2Fh');
    await create('waterflow', '0xF31E');
    await create('energycounter', '0x7100');
    await create('watercounter', '0x7100');
    await create('text', '0xF313');
    await call(`param=setused&idx=${idx.get('energycounter')}&name=energycounter&switchtype=0&used=true`);
    await call(`param=setused&idx=${idx.get('watercounter')}&name=watercounter&switchtype=2&addjvalue2=1000&used=true`);
  });
  after(async () => server.close());

  it('temperature: 67.25 °C is stored 67.25 and shown "67.2 C" (recording S3-1)', async () => {
    const update = temperatureUpdate({ value: '67.25', unitCode: C });
    assert.deepEqual(update, { nvalue: 0, svalue: '67.25' });
    const device = await sendAndRead('temp', update);
    assert.equal(device['Temp'], 67.25);
    assert.equal(device['Data'], '67.2 C');
  });

  // The recording's electric tile: 12300;55648000 → "55648.000 kWh", "12300 Watt" (S3-2). The same
  // energy and power in every unit a MULTICAL can be configured in must give that tile.
  const energies = [
    { unit: 'kWh', reading: { value: '55648', unitCode: KWH }, shown: '55648.000 kWh' },
    { unit: 'MWh', reading: { value: '55.648', unitCode: MWH }, shown: '55648.000 kWh' },
    { unit: 'Wh', reading: { value: '55648000', unitCode: WH }, shown: '55648.000 kWh' },
    // 200.33 GJ = 55 647 222.2… Wh: whole Wh, the last digit Domoticz shows.
    { unit: 'GJ', reading: { value: '200.33', unitCode: GJ }, shown: '55647.222 kWh' },
    // 47.85 Gcal × 1163 kWh/Gcal = 55 649.55 kWh exactly.
    { unit: 'Gcal', reading: { value: '47.85', unitCode: GCAL }, shown: '55649.550 kWh' },
  ];
  const powers = [
    { unit: 'kW', reading: { value: '12.3', unitCode: KW } },
    { unit: 'W', reading: { value: '12300', unitCode: W } },
  ];
  for (const energy of energies) {
    for (const power of powers) {
      it(`electric: energy in ${energy.unit}, power in ${power.unit} → W;Wh, shown as the real tile`, async () => {
        const update = electricUpdate(power.reading, energy.reading);
        assert.match(update.svalue, /^\d+;\d+$/, 'integers, no comma, no exponent');
        const device = await sendAndRead('electric', update);
        assert.equal(device['Data'], energy.shown);
        assert.equal(device['Usage'], '12300 Watt');
      });
      it(`energy counter: energy in ${energy.unit} → whole Wh, shown with divider 1000 (S3-5)`, async () => {
        const update = counterUpdate(energy.reading, 'energy');
        assert.match(update.svalue, /^\d+$/);
        const device = await sendAndRead('energycounter', update);
        assert.equal(device['Counter'], energy.shown);
      });
    }
  }

  it('custom: 245 l/h shown "245 l/h" (S3-3)', async () => {
    const device = await sendAndRead('flow', customUpdate({ value: '245', unitCode: LH }));
    assert.equal(device['Data'], '245 l/h');
  });

  it('waterflow: 245 l/h is 4.08 l/min (S3-4), 0.245 m³/h too', async () => {
    assert.deepEqual(waterflowUpdate({ value: '245', unitCode: LH }), { nvalue: 0, svalue: '4.08' });
    const device = await sendAndRead('waterflow', waterflowUpdate({ value: '0.245', unitCode: M3H }));
    assert.equal(device['Data'], '4.08 l/min');
  });

  it('water counter: m³ and l → litres, shown in m³ with divider 1000 (S3-6)', async () => {
    assert.deepEqual(counterUpdate({ value: '123456', unitCode: L }, 'water'), { nvalue: 0, svalue: '123456' });
    const device = await sendAndRead('watercounter', counterUpdate({ value: '123.456', unitCode: M3 }, 'water'));
    assert.equal(device['Counter'], '123.456 m3');
  });

  it('text: a value with its unit, a date as its date (S3-8)', async () => {
    const device = await sendAndRead('text', textUpdate({ value: '245', unitCode: LH }));
    assert.equal(device['Data'], '245 l/h');
    assert.deepEqual(textUpdate({ value: '260112', unitCode: DATE, text: '2026-01-12' }), { nvalue: 0, svalue: '2026-01-12' });
  });

  it('keeps exact decimals: no float artefacts, no exponent, never a comma', () => {
    assert.deepEqual(electricUpdate({ value: '0.1', unitCode: KW }, { value: '0.3', unitCode: KWH }), { nvalue: 0, svalue: '100;300' });
    assert.deepEqual(usageUpdate({ value: '0.0123', unitCode: KW }), { nvalue: 0, svalue: '12.3' });
    assert.deepEqual(usageUpdate({ value: '12300.5', unitCode: W }), { nvalue: 0, svalue: '12300.5' });
    assert.deepEqual(electricUpdate({ value: '0.0000001', unitCode: KW }, { value: '99999999.999', unitCode: MWH }), { nvalue: 0, svalue: '0.0001;99999999999000' });
    assert.deepEqual(temperatureUpdate({ value: '-0.74', unitCode: C }), { nvalue: 0, svalue: '-0.74' });
    assert.deepEqual(customUpdate({ value: '-0.00', unitCode: K }), { nvalue: 0, svalue: '0' });
    assert.deepEqual(percentageUpdate({ value: '12.50', unitCode: 0x45 }), { nvalue: 0, svalue: '12.5' });
  });

  it('alert: info code → level 0-4 and its flags in words', () => {
    assert.deepEqual(alertUpdate({ value: '0', unitCode: NONE }, MULTICAL_601_INFO_FLAGS), { nvalue: ALERT_LEVEL.normal, svalue: 'OK' });
    assert.deepEqual(alertUpdate({ value: '1', unitCode: NONE }, MULTICAL_601_INFO_FLAGS), { nvalue: ALERT_LEVEL.notice, svalue: 'supply voltage was interrupted' });
    assert.deepEqual(alertUpdate({ value: '12', unitCode: NONE }, MULTICAL_601_INFO_FLAGS), { nvalue: ALERT_LEVEL.warning, svalue: 'T2 outside measuring range, T1 outside measuring range' });
    assert.deepEqual(alertUpdate({ value: '257', unitCode: NONE }, MULTICAL_601_INFO_FLAGS), { nvalue: ALERT_LEVEL.alarm, svalue: 'supply voltage was interrupted, leak in the heating system' });
    assert.deepEqual(alertUpdate({ value: '65536', unitCode: NONE }, []), { nvalue: ALERT_LEVEL.warning, svalue: 'flag 65536' });
  });
});

describe('Domoticz svalue errors', () => {
  const fails = (run: () => unknown, code: string, words: RegExp): void => {
    assert.throws(run, (error: unknown) => error instanceof SvalueError && error.code === code && words.test(error.message));
  };

  it('a date register on a temperature device', () => {
    fails(() => temperatureUpdate({ value: '260112', unitCode: DATE, text: '2026-01-12' }), 'date-register', /takes a number.*text device/);
  });
  it('a unit the device type cannot take', () => {
    fails(() => temperatureUpdate({ value: '5.2', unitCode: K }), 'unit-not-accepted', /°C.*K/);
    fails(() => electricUpdate({ value: '12.3', unitCode: KW }, { value: '5', unitCode: M3 }), 'unit-not-accepted', /energy/);
    fails(() => electricUpdate({ value: '5', unitCode: KWH }, { value: '5', unitCode: KWH }), 'unit-not-accepted', /power/);
    fails(() => waterflowUpdate({ value: '5', unitCode: M3 }), 'unit-not-accepted', /flow/);
    fails(() => counterUpdate({ value: '5', unitCode: KWH }, 'water'), 'unit-not-accepted', /volume/);
    fails(() => percentageUpdate({ value: '5', unitCode: C }), 'unit-not-accepted', /%/);
    fails(() => usageUpdate({ value: '5', unitCode: 0x5b }), 'unit-not-accepted', /unit 0x5B/);
  });
  it('a value that is not a decimal', () => {
    fails(() => customUpdate({ value: '1e3', unitCode: NONE }), 'not-a-decimal', /not a decimal/);
    fails(() => temperatureUpdate({ value: '67,25', unitCode: C }), 'not-a-decimal', /not a decimal/);
    fails(() => alertUpdate({ value: '1.5', unitCode: NONE }, MULTICAL_601_INFO_FLAGS), 'not-a-decimal', /whole number/);
  });
  it('a counter below zero', () => {
    fails(() => counterUpdate({ value: '-1', unitCode: KWH }, 'energy'), 'negative-count', /below zero/);
  });
});
