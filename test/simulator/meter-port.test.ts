// The simulated meter answers like a real one: silence for anything it cannot or will not read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CommandId,
  FrameSplitter,
  decodeGetRegisterResponse,
  decodeResponseFrame,
  encodeDataLink,
  encodeFrame,
  encodeRequestFrame,
  fromHex,
} from '../../src/kmp/index.js';
import { SimulatedMeterPort, type LineOptions } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';

function exchange(request: Uint8Array, line: LineOptions = {}): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const port = new SimulatedMeterPort(new SimulatedMultical402(), line, (chunk) => sent.push(chunk));
  port.receive(request);
  port.close();
  return sent;
}

function getRegisterFrame(ids: number[]): Uint8Array {
  const data = Uint8Array.from([ids.length, ...ids.flatMap((id) => [id >> 8, id & 0xff])]);
  return encodeFrame('to-meter', encodeDataLink({ destination: 0x3f, commandId: CommandId.GetRegister, data }));
}

describe('simulated meter port', () => {
  it('answers a GetRegister request with the records it knows, keyed by id', () => {
    const request = { command: 'get-register', registerIds: [60, 266, 80] } as const;
    const [answer] = exchange(encodeRequestFrame(request));
    assert.ok(answer);
    const records = decodeGetRegisterResponse(decodeResponseFrame(answer, request));
    assert.deepEqual(records.map((r) => r.registerId), [60, 80]);
  });

  it('answers a request for only unknown ids with an empty record list', () => {
    const request = { command: 'get-register', registerIds: [9999] } as const;
    const [answer] = exchange(encodeRequestFrame(request));
    assert.ok(answer);
    assert.deepEqual(decodeGetRegisterResponse(decodeResponseFrame(answer, request)), []);
  });

  it('stays silent for more than 8 ids, a bad CRC, another address or an unknown command', () => {
    assert.deepEqual(exchange(getRegisterFrame([60, 63, 68, 74, 80, 86, 87, 89, 97])), []);
    assert.deepEqual(exchange(fromHex('80 3F 10 01 00 3C B2 5E 0D')), []);
    assert.deepEqual(exchange(encodeRequestFrame({ command: 'get-type' }, 0x7f)), []);
    assert.deepEqual(exchange(encodeFrame('to-meter', encodeDataLink({ destination: 0x3f, commandId: 0x99, data: new Uint8Array() }))), []);
  });

  it('echoes the request first when asked, as an optical head does', () => {
    const request = encodeRequestFrame({ command: 'get-serial-no' });
    const [echo, answer] = exchange(request, { echo: true });
    assert.deepEqual(echo, request);
    assert.ok(answer);
    assert.equal(answer[0], 0x40);
  });

  it('injects each fault on requests 1, 1 + n, …', () => {
    const sent: Uint8Array[] = [];
    const port = new SimulatedMeterPort(new SimulatedMultical402(), { faults: ['no-answer'], faultEvery: 2 }, (chunk) => sent.push(chunk));
    for (let i = 0; i < 4; i++) port.receive(encodeRequestFrame({ command: 'get-type' }));
    port.close();
    assert.equal(port.requests, 4);
    assert.equal(sent.length, 2);

    const [garbled] = exchange(encodeRequestFrame({ command: 'get-type' }), { faults: ['crc-error'] });
    assert.ok(garbled);
    assert.throws(() => decodeResponseFrame(garbled, { command: 'get-type' }), { code: 'crc-mismatch' });

    const [noisy] = exchange(encodeRequestFrame({ command: 'get-type' }), { faults: ['garbage', 'stray-zero'] });
    assert.ok(noisy);
    assert.equal(noisy[0], 0x00);
    assert.notEqual(noisy[1], 0x40);
    const events = new FrameSplitter('from-meter').push(noisy);
    assert.equal(events.length, 1);
  });
});
