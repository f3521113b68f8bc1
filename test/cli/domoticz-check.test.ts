// `kamstrup-logger domoticz check`, the real CLI against the Domoticz test double on 127.0.0.1.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomoticzServer } from '../support/domoticz-server.js';
import { assertExit, killAll, run, tempDir, unusedPort } from './helpers.js';

const METER = 'meters:\n  - name: home\n    url: sim://multical-402\nstorage:\n  path: ./logger.sqlite\n';

describe('domoticz check', () => {
  let server: DomoticzServer;
  const temp = tempDir('kamstrup-dz-check-');
  let temperatureIdx = 0;
  let counterIdx = 0;

  const command = async (query: string): Promise<Record<string, unknown>> => (await (await fetch(`${server.url}/json.htm?type=command&${query}`)).json()) as Record<string, unknown>;

  before(async () => {
    server = await DomoticzServer.start({ settings: { trustedNetworks: '127.0.0.1' } });
    await command('param=addhardware&htype=15&port=1&name=kamstrup-logger&enabled=true');
    temperatureIdx = Number((await command('param=createdevice&idx=2&sensorname=T1&sensormappedtype=0x5005'))['idx']);
    counterIdx = Number((await command('param=createdevice&idx=2&sensorname=volume&sensormappedtype=0x7100'))['idx']);
    await command(`param=setused&idx=${counterIdx}&name=volume&used=true&switchtype=2&addjvalue2=1000`);
  });
  after(async () => {
    await server.close();
    temp.remove();
    await killAll();
  });

  const configWith = (name: string, devices: string, url = server.url): string => {
    const path = join(temp.dir, `${name}.yaml`);
    writeFileSync(path, `${METER}sinks:\n  domoticz:\n    url: ${url}\n    auth: none\n    devices:\n${devices}`);
    return path;
  };

  it('with a config that matches Domoticz: a line per device, ok, exit 0', async () => {
    const path = configWith('matching', `      - { idx: ${temperatureIdx}, type: temperature, register: t1 }\n      - { idx: ${counterIdx}, type: counter, register: volume, meter_type: water }\n`);
    const result = await run(['domoticz', 'check', '--config', path]);
    assertExit(result, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^idx +name +type +registers +Domoticz type +result$/);
    assert.match(lines[1] ?? '', new RegExp(`^${temperatureIdx} +T1 +temperature +t1 +Temp / LaCrosse TX3 +ok$`));
    assert.match(lines[2] ?? '', new RegExp(`^${counterIdx} +volume +counter \\(water\\) +volume +RFXMeter / RFXMeter counter +ok$`));
    assert.equal(lines.length, 3);
  });

  it('a missing idx: reported with what to do, exit 1', async () => {
    const path = configWith('missing', `      - { idx: ${temperatureIdx}, type: temperature, register: t1 }\n      - { idx: 77, type: temperature, register: t2 }\n`);
    const result = await run(['domoticz', 'check', '--config', path]);
    assertExit(result, 1);
    assert.match(result.stdout, /\n77 +- +temperature +t2 +- +missing\n/);
    assert.match(result.stdout, /Domoticz has no device with idx 77: check the idx under Setup → Devices/);
  });

  it('a temperature register mapped to a Counter device: wrong type, exit 1', async () => {
    const path = configWith('wrong', `      - { idx: ${counterIdx}, type: temperature, register: t1 }\n`);
    const result = await run(['domoticz', 'check', '--config', path]);
    assertExit(result, 1);
    assert.match(result.stdout, new RegExp(`\\n${counterIdx} +volume +temperature +t1 +RFXMeter / RFXMeter counter +wrong type\\n`));
    assert.match(result.stdout, /is a RFXMeter \/ RFXMeter counter device, but a temperature device needs a Temperature/);
  });

  it('Domoticz unreachable: exit 1, the message names the cause', async () => {
    const path = configWith('unreachable', `      - { idx: ${temperatureIdx}, type: temperature, register: t1 }\n`, `http://127.0.0.1:${await unusedPort()}`);
    const result = await run(['domoticz', 'check', '--config', path]);
    assertExit(result, 1);
    assert.match(result.stderr, /cannot check the devices: Domoticz at http:\/\/127\.0\.0\.1:\d+: .*refused/i);
  });

  it('no sinks.domoticz, or no devices in it: exit 2, saying how to add them', async () => {
    const none = join(temp.dir, 'none.yaml');
    writeFileSync(none, METER);
    const result = await run(['domoticz', 'check', '--config', none]);
    assertExit(result, 2);
    assert.match(result.stderr, /has no sinks\.domoticz section: add a sinks\.domoticz section with the url of your Domoticz and how the logger signs in/);
    const empty = configWith('empty', '      []\n');
    const noDevices = await run(['domoticz', 'check', '--config', empty]);
    assertExit(noDevices, 2);
    assert.match(noDevices.stderr, /lists no devices: `kamstrup-logger domoticz setup --config .*` creates them/);
  });
});
