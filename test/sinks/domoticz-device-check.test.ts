import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DomoticzDeviceConfig } from '../../src/config/index.js';
import { SinkError } from '../../src/delivery/sink.js';
import { DomoticzClient } from '../../src/sinks/domoticz/client.js';
import { checkDevices, summarizeChecks } from '../../src/sinks/domoticz/device-check.js';
import { unusedPort } from '../cli/helpers.js';
import { DomoticzServer } from '../support/domoticz-server.js';

const T1 = 86;
const T_DIFF = 89;
const FLOW = 74;
const VOLUME = 68;
const POWER = 80;
const HEAT_ENERGY = 60;
const INFO = 99;

describe('Domoticz device check: each configured idx read back and compared with its type', () => {
  let server: DomoticzServer;
  let client: DomoticzClient;
  /** idx by device name, as the double gave them. */
  const idx = new Map<string, number>();

  const create = async (hardware: number, name: string, mappedType: string, options?: string): Promise<number> => {
    const answer = await client.command('createdevice', { idx: hardware, sensorname: name, sensormappedtype: mappedType, ...(options === undefined ? {} : { sensoroptions: options }) });
    const created = Number(answer['idx']);
    idx.set(name, created);
    return created;
  };
  const byName = (name: string): number => {
    const found = idx.get(name);
    assert.ok(found !== undefined, `no device ${name}`);
    return found;
  };

  before(async () => {
    server = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    client = new DomoticzClient({ url: server.url, auth: { kind: 'none' }, timeoutMs: 5000, ca: null });
    const hardware = Number((await client.command('addhardware', { htype: 15, port: 1, name: 'test', enabled: 'true' }))['idx']);
    await create(hardware, 'heat', '0xF31D');
    await create(hardware, 'T1', '0x5005');
    await create(hardware, 'dT', '0xF31F', '1;K');
    await create(hardware, 'flow', '0xF31E');
    const water = await create(hardware, 'volume', '0x7100');
    await client.command('setused', { idx: water, name: 'volume', used: 'true', switchtype: 2, addjvalue2: 1000 });
    await create(hardware, 'energy counter', '0x7100');
    const defaultWater = await create(hardware, 'water, default divider', '0x7100');
    await client.command('setused', { idx: defaultWater, name: 'water, default divider', used: 'true', switchtype: 2 });
    await create(hardware, 'info', '0xF316');
    await create(hardware, 'power', '0xF801');
    await create(hardware, 'percent', '0xF306');
    await create(hardware, 'text', '0xF313');
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  const single = (type: Exclude<DomoticzDeviceConfig['type'], 'electric' | 'counter'>, name: string, registerId: number, unit: string | null = null): DomoticzDeviceConfig => ({
    idx: byName(name),
    meter: 'home',
    type,
    registerId,
    unit,
  });
  const counter = (name: string, meterType: 'energy' | 'water', registerId: number): DomoticzDeviceConfig => ({
    idx: byName(name),
    meter: 'home',
    type: 'counter',
    registerId,
    meterType,
    divider: 1000,
    unit: null,
  });

  it('finds every device type on the tile it feeds: ok, with the Type and SubType Domoticz shows', async () => {
    const devices: DomoticzDeviceConfig[] = [
      { idx: byName('heat'), meter: 'home', type: 'electric', powerRegisterId: POWER, energyRegisterId: HEAT_ENERGY },
      single('temperature', 'T1', T1),
      single('custom', 'dT', T_DIFF, 'K'),
      single('waterflow', 'flow', FLOW),
      counter('volume', 'water', VOLUME),
      counter('energy counter', 'energy', HEAT_ENERGY),
      single('alert', 'info', INFO),
      single('usage', 'power', POWER),
      single('percentage', 'percent', FLOW),
      single('text', 'text', INFO),
    ];
    const checks = await checkDevices(client, devices);
    assert.deepEqual(
      checks.map((c) => [c.device.idx, c.found?.name, `${c.found?.type ?? ''} / ${c.found?.subType ?? ''}`, c.problem]),
      [
        [byName('heat'), 'heat', 'General / kWh', null],
        [byName('T1'), 'T1', 'Temp / LaCrosse TX3', null],
        [byName('dT'), 'dT', 'General / Custom Sensor', null],
        [byName('flow'), 'flow', 'General / Waterflow', null],
        [byName('volume'), 'volume', 'RFXMeter / RFXMeter counter', null],
        [byName('energy counter'), 'energy counter', 'RFXMeter / RFXMeter counter', null],
        [byName('info'), 'info', 'General / Alert', null],
        [byName('power'), 'power', 'Usage / Electric', null],
        [byName('percent'), 'percent', 'General / Percentage', null],
        [byName('text'), 'text', 'General / Text', null],
      ],
    );
    assert.deepEqual(summarizeChecks(checks.slice(0, 2)), [`idx ${byName('heat')} electric (power, heat_energy): ok`, `idx ${byName('T1')} temperature (t1): ok`]);
  });

  it('reports an idx Domoticz does not have as missing (getdevices answers OK without a result), and what to do', async () => {
    const [check] = await checkDevices(client, [{ idx: 999, meter: 'home', type: 'temperature', registerId: T1, unit: null }]);
    assert.equal(check?.found, null);
    assert.equal(check?.problem?.kind, 'missing');
    assert.match(check?.problem?.message ?? '', /no device with idx 999.*Temperature device.*domoticz setup/);
    assert.match(summarizeChecks(check === undefined ? [] : [check])[0] ?? '', /^idx 999 temperature \(t1\): missing: /);
  });

  it('reports a temperature register mapped to a Counter device as the wrong type, naming both', async () => {
    const [check] = await checkDevices(client, [single('temperature', 'volume', T1)]);
    assert.equal(check?.problem?.kind, 'wrong-type');
    assert.match(check?.problem?.message ?? '', /is a RFXMeter \/ RFXMeter counter device, but a temperature device needs a Temperature \(Temp \/ LaCrosse TX3\)/);
    assert.match(summarizeChecks(check === undefined ? [] : [check])[0] ?? '', /: wrong type: /);
  });

  it("reports a counter of another meter type, or with Domoticz's default divider, with the setting to change", async () => {
    const [energyAsWater, defaultDivider] = await checkDevices(client, [counter('energy counter', 'water', VOLUME), counter('water, default divider', 'water', VOLUME)]);
    assert.equal(energyAsWater?.problem?.kind, 'wrong-meter-type');
    assert.match(energyAsWater?.problem?.message ?? '', /meter type Energy, but the config feeds it water: set Type to Water/);
    assert.equal(defaultDivider?.problem?.kind, 'wrong-divider');
    assert.match(defaultDivider?.problem?.message ?? '', /divides its count by 100, .*litres for a divider of 1000: set Counter Divider to 1000/);
  });

  it('reports a custom sensor whose unit label is not the configured one', async () => {
    const [check] = await checkDevices(client, [single('custom', 'dT', T_DIFF, '°C')]);
    assert.equal(check?.problem?.kind, 'wrong-unit');
    assert.match(check?.problem?.message ?? '', /shows its value in "K", but the config says °C/);
  });

  it("passes the client's error through when Domoticz does not answer", async () => {
    const unreachable = new DomoticzClient({ url: `http://127.0.0.1:${await unusedPort()}`, auth: { kind: 'none' }, timeoutMs: 2000, ca: null });
    try {
      await assert.rejects(checkDevices(unreachable, [single('temperature', 'T1', T1)]), (error: unknown) => error instanceof SinkError && error.kind === 'unavailable');
    } finally {
      await unreachable.close();
    }
  });
});
