// Why a serial device would not open, told from what the file system says about it. (Tests run
// as root in CI, where every device is accessible, so the probe stands in for the file system.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openError, type DeviceProbe } from '../../src/links/serial-link.js';

function probe(exists: boolean, accessible: boolean): DeviceProbe {
  return { exists: () => Promise.resolve(exists), readableAndWritable: () => Promise.resolve(accessible) };
}

const openFailure = new Error('Error: Permission denied, cannot open /dev/ttyUSB0');

describe('serial open errors', () => {
  it('a missing device: plug the head in, use the by-id path', async () => {
    const error = await openError('/dev/ttyUSB0', openFailure, probe(false, false));
    assert.equal(error.code, 'device-not-found');
    assert.match(error.message, /no serial device \/dev\/ttyUSB0: is the optical head plugged in\? .*\/dev\/serial\/by-id/);
    assert.equal(error.cause, openFailure);
  });

  it('no permission: join the dialout group', async () => {
    const error = await openError('/dev/ttyUSB0', openFailure, probe(true, false));
    assert.equal(error.code, 'permission-denied');
    assert.match(error.message, /permission denied opening \/dev\/ttyUSB0: .*sudo usermod -aG dialout \$USER/);
    assert.equal(error.retryable, false);
  });

  it('a device another program holds: one process per head', async () => {
    const error = await openError('/dev/ttyUSB0', new Error('Error Resource temporarily unavailable Cannot lock port'), probe(true, true));
    assert.equal(error.code, 'device-busy');
    assert.match(error.message, /in use by another program/);
  });

  it('a file or device that is no serial port: point at the head', async () => {
    const error = await openError('/dev/null', new Error('Error: Inappropriate ioctl for device, cannot open /dev/null'), probe(true, true));
    assert.equal(error.code, 'not-a-serial-device');
    assert.match(error.message, /\/dev\/null is not a serial device: point the meter URL at the optical head's device/);
  });

  it('anything else keeps the system message, without a doubled "Error:"', async () => {
    const error = await openError('/dev/ttyUSB0', new Error('Error: Input/output error, cannot open /dev/ttyUSB0'), probe(true, true));
    assert.equal(error.code, 'io');
    assert.equal(error.message, 'cannot open /dev/ttyUSB0: Input/output error, cannot open /dev/ttyUSB0');
  });

  it('asks the real file system by default', async () => {
    const error = await openError('/dev/ttyKamstrupNone9', openFailure);
    assert.equal(error.code, 'device-not-found');
  });
});
