import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkError } from '../../src/links/errors.js';
import { parseMeterUrl } from '../../src/app/meter-url.js';
import { linkFromUrl } from '../../src/app/connect-meter.js';

function badUrl(url: string, message: RegExp): void {
  assert.throws(() => linkFromUrl(url), (error: unknown) => {
    assert.ok(error instanceof LinkError);
    assert.equal(error.code, 'bad-url');
    assert.match(error.message, message);
    return true;
  });
}

describe('meter URLs', () => {
  it('takes a bare device path or a serial URL, with an optional baud rate', () => {
    assert.deepEqual(parseMeterUrl('/dev/ttyUSB0'), { kind: 'serial', path: '/dev/ttyUSB0' });
    assert.deepEqual(parseMeterUrl('serial:///dev/serial/by-id/usb-FTDI_head-if00'), { kind: 'serial', path: '/dev/serial/by-id/usb-FTDI_head-if00' });
    assert.deepEqual(parseMeterUrl('serial:///dev/ttyUSB1?baud=2400'), { kind: 'serial', path: '/dev/ttyUSB1', baudRate: 2400 });
    assert.equal(linkFromUrl('/dev/ttyUSB0').description, 'serial /dev/ttyUSB0');
  });

  it('takes a TCP bridge by host and port', () => {
    assert.deepEqual(parseMeterUrl('tcp://127.0.0.1:2002'), { kind: 'tcp', host: '127.0.0.1', port: 2002 });
    assert.deepEqual(parseMeterUrl('tcp://[::1]:23'), { kind: 'tcp', host: '::1', port: 23 });
    assert.equal(linkFromUrl('tcp://localhost:2002').description, 'tcp localhost:2002');
  });

  it('takes the simulator with its line options and faults', () => {
    const url = parseMeterUrl('sim://multical-402?echo=1&pace=1&turnaround_ms=20&fault=crc-error,garbage&fault_every=3&seed=9&serial=12345678&energy_unit=GJ&speed=60');
    assert.deepEqual(url, {
      kind: 'sim',
      model: 'multical-402',
      echo: true,
      pace: true,
      faults: ['crc-error', 'garbage'],
      turnaroundMs: 20,
      faultEvery: 3,
      seed: 9,
      serialNumber: 12345678,
      speed: 60,
      energyUnit: 'GJ',
    });
    assert.equal(linkFromUrl('sim://multical-402').description, 'simulated multical-402');
  });

  it('says what is wrong with a bad URL and what would be right', () => {
    badUrl('ttyUSB0', /not a meter URL: use a device path/);
    badUrl('http://x:1', /unknown scheme "http:"/);
    badUrl('serial://dev/ttyUSB0', /three slashes/);
    badUrl('tcp://bridge', /needs a host and a port/);
    badUrl('sim://multical-603', /knows multical-402, not "multical-603"/);
    badUrl('sim://multical-402?ecko=1', /unknown parameter "ecko" \(valid: echo/);
    badUrl('sim://multical-402?fault=fire', /unknown fault "fire" \(valid: no-answer, crc-error, garbage, stray-zero\)/);
    badUrl('sim://multical-402?fault_every=0', /fault_every must be a whole number above 0/);
    badUrl('sim://multical-402?energy_unit=BTU', /unknown energy unit "BTU"/);
    badUrl('serial:///dev/ttyUSB0?baud=fast', /baud must be a whole number/);
  });
});
