// Application layer: requests and answers in both directions, and whole frames (request frames
// towards the meter, answer frames from it), with their error codes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommandId,
  DESTINATION_HEAT_METER,
  ESCAPE,
  MAX_REGISTERS_PER_REQUEST,
  commandIdOf,
  decodeGetRegisterResponse,
  decodeGetSerialNoResponse,
  decodeGetTypeResponse,
  decodeRequest,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeDataLink,
  encodeFrame,
  encodeGetRegisterResponse,
  encodeGetSerialNoResponse,
  encodeGetTypeResponse,
  encodeRequest,
  encodeRequestFrame,
  encodeResponseFrame,
  formatDecimal,
  fromHex,
  isReserved,
  toHex,
  type KmpRequest,
  type RegisterAnswer,
} from '../../src/kmp/index.js';
import { assertKmpError } from '../support/assertions.js';


const getType: KmpRequest = { command: 'get-type' };
const getSerialNo: KmpRequest = { command: 'get-serial-no' };
const getRegisters = (...registerIds: number[]): KmpRequest => ({ command: 'get-register', registerIds });

/** Register ids with a reserved byte (80 40 0D 06 1B) in the high byte, the low byte or both. */
const trickyIds = [
  0x0080, 0x8000, 0x0040, 0x4000, 0x000d, 0x0d00, 0x0006, 0x0600, 0x001b, 0x1b00,
  0x1b1b, 0x8040, 0x0d06, 0x061b, 0x0000, 0xffff, 60, 1002, 1924,
];

/** The body between start and stop byte contains no raw reserved byte (0x1B only as an escape). */
function assertNoRawReservedByte(frame: Uint8Array): void {
  const body = frame.subarray(1, -1);
  for (let i = 0; i < body.length; i++) {
    const b = body[i] ?? -1;
    if (b === ESCAPE) i++;
    else assert.ok(!isReserved(b), `raw reserved byte 0x${b.toString(16)} at body offset ${i} of ${toHex(frame)}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('requests', () => {
  it('know their command ids', () => {
    assert.equal(commandIdOf(getType), 0x01);
    assert.equal(commandIdOf(getSerialNo), 0x02);
    assert.equal(commandIdOf(getRegisters(60)), 0x10);
    assert.equal(CommandId.SetClock, 0x09);
    assert.equal(CommandId.PutRegister, 0x11);
  });

  it('GetType and GetSerialNo carry no data', () => {
    assert.deepEqual(encodeRequest(getType), { commandId: 0x01, data: new Uint8Array(0) });
    assert.deepEqual(encodeRequest(getSerialNo), { commandId: 0x02, data: new Uint8Array(0) });
    assert.deepEqual(decodeRequest({ commandId: 0x01, data: new Uint8Array(0) }), getType);
    assert.deepEqual(decodeRequest({ commandId: 0x02, data: new Uint8Array(0) }), getSerialNo);
  });

  it('GetRegister carries the count, then each id MSB first', () => {
    assert.equal(toHex(encodeRequest(getRegisters(60)).data), '01 00 3C');
    assert.equal(toHex(encodeRequest(getRegisters(1002, 128, 0xabcd)).data), '03 03 EA 00 80 AB CD');
  });

  for (let count = 1; count <= MAX_REGISTERS_PER_REQUEST; count++) {
    it(`GetRegister with ${count} id(s), including ids with reserved bytes, round-trips`, () => {
      for (let first = 0; first + count <= trickyIds.length; first++) {
        const request = getRegisters(...trickyIds.slice(first, first + count));
        const message = encodeRequest(request);
        assert.equal(message.commandId, CommandId.GetRegister);
        assert.equal(message.data.length, 1 + 2 * count);
        assert.deepEqual(decodeRequest(message), request);

        const frame = encodeRequestFrame(request);
        assertNoRawReservedByte(frame);
        assert.deepEqual(decodeRequestFrame(frame), { destination: DESTINATION_HEAT_METER, request });
      }
    });
  }

  it('keeps the order of the ids, and duplicates', () => {
    const request = getRegisters(87, 86, 87, 60);
    assert.deepEqual(decodeRequest(encodeRequest(request)), request);
  });

  describe('errors', () => {
    it('GetRegister with 0 ids: bad-register-count', () => {
      assertKmpError(() => encodeRequest(getRegisters()), 'bad-register-count');
      assertKmpError(() => encodeRequestFrame(getRegisters()), 'bad-register-count');
    });

    it('GetRegister with 9 ids: bad-register-count', () => {
      const error = assertKmpError(() => encodeRequest(getRegisters(1, 2, 3, 4, 5, 6, 7, 8, 9)), 'bad-register-count');
      assert.equal(error.details.actual, '9');
    });

    it('a register id that is not a 16-bit integer: bad-value', () => {
      for (const id of [-1, 0x10000, 1.5, Number.NaN]) {
        assertKmpError(() => encodeRequest(getRegisters(60, id)), 'bad-value');
      }
    });

    it('decoding a GetRegister request asking for 0 or 9 registers: bad-register-count', () => {
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: fromHex('00') }), 'bad-register-count');
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: new Uint8Array(0) }), 'bad-register-count');
      const nine = Uint8Array.from([9, ...new Array<number>(18).fill(1)]);
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: nine }), 'bad-register-count');
    });

    it('decoding a GetRegister request whose ids do not match its count: bad-length', () => {
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: fromHex('02 00 3C') }), 'bad-length');
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: fromHex('01 00') }), 'bad-length');
      assertKmpError(() => decodeRequest({ commandId: 0x10, data: fromHex('01 00 3C 00') }), 'bad-length');
    });

    it('decoding GetType / GetSerialNo with data: bad-length', () => {
      assertKmpError(() => decodeRequest({ commandId: 0x01, data: fromHex('00') }), 'bad-length');
      assertKmpError(() => decodeRequest({ commandId: 0x02, data: fromHex('00 01') }), 'bad-length');
    });

    it('decoding a command the codec does not serve (SetClock, PutRegister, logger reads): unexpected-command', () => {
      for (const commandId of [0x09, 0x11, 0xa0, 0xb8, 0x00, 0xff]) {
        assertKmpError(() => decodeRequest({ commandId, data: new Uint8Array(0) }), 'unexpected-command');
      }
    });
  });
});

describe('GetType answer', () => {
  it('reads type and software revision (00 01 07 01 = type 1, "G1")', () => {
    assert.deepEqual(decodeGetTypeResponse(fromHex('00 01 07 01')), { meterType: 1, softwareRevision: 'G1' });
  });

  it('reads revision 00 00 as unavailable', () => {
    assert.deepEqual(decodeGetTypeResponse(fromHex('00 04 00 00')), { meterType: 4, softwareRevision: null });
  });

  const infos = [
    { meterType: 0x0001, softwareRevision: 'G1' },
    { meterType: 0x0004, softwareRevision: 'F1' },
    { meterType: 0xabcd, softwareRevision: 'A0' },
    { meterType: 0xffff, softwareRevision: 'Z255' },
    { meterType: 0x0000, softwareRevision: null },
  ];
  for (const info of infos) {
    it(`round-trips type 0x${info.meterType.toString(16)} revision ${String(info.softwareRevision)}`, () => {
      assert.deepEqual(decodeGetTypeResponse(encodeGetTypeResponse(info)), info);
    });
  }

  it('encodes "G1" as letter index 7, number 1', () => {
    assert.equal(toHex(encodeGetTypeResponse({ meterType: 1, softwareRevision: 'G1' })), '00 01 07 01');
    assert.equal(toHex(encodeGetTypeResponse({ meterType: 1, softwareRevision: null })), '00 01 00 00');
  });

  it('rejects a revision that is not a capital letter and a number up to 255: bad-value', () => {
    for (const softwareRevision of ['g1', 'G', '1', 'GG1', 'G256', 'G-1', '']) {
      assertKmpError(() => encodeGetTypeResponse({ meterType: 1, softwareRevision }), 'bad-value');
    }
  });

  it('rejects an answer that is not 4 bytes: bad-length', () => {
    for (const hex of ['', '00 01 07', '00 01 07 01 00']) {
      assertKmpError(() => decodeGetTypeResponse(fromHex(hex)), 'bad-length');
    }
  });
});

describe('GetSerialNo answer', () => {
  for (const serial of [0, 1, 1234567, 19088743, 0x80400d06, 0xffffffff]) {
    it(`round-trips serial ${serial}`, () => {
      const data = encodeGetSerialNoResponse(serial);
      assert.equal(data.length, 4);
      assert.equal(decodeGetSerialNoResponse(data), serial);
    });
  }

  it('reads 01 23 45 67 as 19088743, also from a view into a larger buffer', () => {
    assert.equal(decodeGetSerialNoResponse(fromHex('01 23 45 67')), 19088743);
    assert.equal(decodeGetSerialNoResponse(fromHex('FF 01 23 45 67').subarray(1)), 19088743);
  });

  it('rejects an answer that is not 4 bytes: bad-length', () => {
    for (const hex of ['', '01 23 45', '01 23 45 67 89']) {
      assertKmpError(() => decodeGetSerialNoResponse(fromHex(hex)), 'bad-length');
    }
  });
});

describe('GetRegister answer', () => {
  const answers: RegisterAnswer[] = [
    { registerId: 60, unitCode: 0x03, byteCount: 4, value: { negative: false, mantissa: 55006n, exponent: -3 } },
    { registerId: 86, unitCode: 0x25, byteCount: 2, value: { negative: false, mantissa: 5365n, exponent: -2 } },
    { registerId: 89, unitCode: 0x26, byteCount: 2, value: { negative: true, mantissa: 74n, exponent: -2 } },
    { registerId: 99, unitCode: 0x00, byteCount: 1, value: { negative: false, mantissa: 0n, exponent: 0 } },
    { registerId: 128, unitCode: 0x16, byteCount: 4, value: { negative: false, mantissa: 19591204n, exponent: 17 } },
    { registerId: 348, unitCode: 0x4f, byteCount: 7, value: { negative: false, mantissa: 0x00180c1f000004n, exponent: 0 } },
    { registerId: 0x1b0d, unitCode: 0x40, byteCount: 8, value: { negative: false, mantissa: (1n << 64n) - 1n, exponent: 0 } },
    { registerId: 0x0680, unitCode: 0x06, byteCount: 3, value: { negative: true, mantissa: 0x80400dn, exponent: -63 } },
  ];

  it('writes id, unit, NoB, SiEx and mantissa per record', () => {
    assert.equal(toHex(encodeGetRegisterResponse(answers.slice(0, 1))), '00 3C 03 04 43 00 00 D6 DE');
  });

  it('writes nothing for no records', () => {
    assert.equal(encodeGetRegisterResponse([]).length, 0);
    assert.deepEqual(decodeGetRegisterResponse(new Uint8Array(0)), []);
  });

  it('round-trips records of NoB 1, 2, 3, 4, 7 and 8, walking by NoB', () => {
    const data = encodeGetRegisterResponse(answers);
    assert.equal(data.length, answers.reduce((sum, a) => sum + 5 + a.byteCount, 0));
    const records = decodeGetRegisterResponse(data);
    assert.deepEqual(
      records.map((r) => ({ registerId: r.registerId, unitCode: r.unitCode, byteCount: r.mantissaBytes.length, value: r.value })),
      answers,
    );
  });

  it('returns records in the meter order, so callers key them on the id', () => {
    const records = decodeGetRegisterResponse(encodeGetRegisterResponse([answers[2], answers[0]].filter((a) => a !== undefined)));
    const byId = new Map(records.map((r) => [r.registerId, formatDecimal(r.value)]));
    assert.deepEqual(records.map((r) => r.registerId), [89, 60]);
    assert.equal(byId.get(60), '55.006');
    assert.equal(byId.get(89), '-0.74');
  });

  it('keeps the mantissa bytes as sent', () => {
    const [record] = decodeGetRegisterResponse(fromHex('00 56 25 02 42 14 F5'));
    assert.ok(record);
    assert.equal(toHex(record.mantissaBytes), '14 F5');
    assert.equal(formatDecimal(record.value), '53.65');
  });

  it('rejects a value the number format cannot carry: bad-value', () => {
    assertKmpError(
      () => encodeGetRegisterResponse([{ registerId: 1, unitCode: 0, byteCount: 1, value: { negative: false, mantissa: 256n, exponent: 0 } }]),
      'bad-value',
    );
    assertKmpError(
      () => encodeGetRegisterResponse([{ registerId: 1, unitCode: 0, byteCount: 4, value: { negative: false, mantissa: 1n, exponent: 64 } }]),
      'bad-value',
    );
  });

  describe('rejects a truncated record with truncated-record', () => {
    const full = '00 3C 03 04 43 00 00 D6 DE';
    const bytes = fromHex(full);
    for (let length = 1; length < bytes.length; length++) {
      it(`a ${length}-byte cut of ${full}`, () => {
        const error = assertKmpError(() => decodeGetRegisterResponse(bytes.subarray(0, length)), 'truncated-record');
        assert.equal(error.details.offset, 0);
      });
    }

    it('a second record cut short, reported at its offset', () => {
      const error = assertKmpError(() => decodeGetRegisterResponse(fromHex(`${full} 00 56 25 02 42 14`)), 'truncated-record');
      assert.equal(error.details.offset, 9);
    });

    it('a NoB larger than what follows', () => {
      assertKmpError(() => decodeGetRegisterResponse(fromHex('00 3C 03 FF 43 00 00 D6 DE')), 'truncated-record');
    });
  });
});

describe('request frames (towards the meter)', () => {
  it('encodes the documented request for register 60', () => {
    assert.equal(toHex(encodeRequestFrame(getRegisters(60))), '80 3F 10 01 00 3C B2 5F 0D');
  });

  it('encodes GetType and GetSerialNo', () => {
    assert.equal(toHex(encodeRequestFrame(getType)), '80 3F 01 05 8A 0D');
    assert.equal(toHex(encodeRequestFrame(getSerialNo)), '80 3F 02 35 E9 0D');
  });

  it('round-trips every request to every destination address', () => {
    const requests = [getType, getSerialNo, getRegisters(60), getRegisters(...trickyIds.slice(0, 8))];
    for (let destination = 0; destination < 256; destination++) {
      for (const request of requests) {
        const frame = encodeRequestFrame(request, destination);
        assertNoRawReservedByte(frame);
        assert.deepEqual(decodeRequestFrame(frame), { destination, request });
      }
    }
  });

  it('rejects an answer frame (start byte 0x40) with bad-start-byte', () => {
    assertKmpError(() => decodeRequestFrame(fromHex('40 3F 01 05 8A 0D')), 'bad-start-byte');
  });

  it('rejects a request frame with a corrupt CRC with crc-mismatch', () => {
    assertKmpError(() => decodeRequestFrame(fromHex('80 3F 10 01 00 3C B2 5E 0D')), 'crc-mismatch');
  });

  it('rejects a SetClock request (not modelled) with unexpected-command', () => {
    assertKmpError(() => decodeRequestFrame(fromHex('80 3F 09 00 01 14 4A 00 02 77 15 77 4E 0D')), 'unexpected-command');
  });
});

describe('answer frames (from the meter)', () => {
  const serialAnswer = encodeResponseFrame(0x3f, { commandId: CommandId.GetSerialNo, data: encodeGetSerialNoResponse(19088743) });

  it('encodes the documented GetSerialNo answer', () => {
    assert.equal(toHex(serialAnswer), '40 3F 02 01 23 45 67 E9 56 0D');
  });

  it('encodes the documented GetType answer, stuffing the 06', () => {
    const frame = encodeResponseFrame(0x3f, { commandId: CommandId.GetType, data: encodeGetTypeResponse({ meterType: 4, softwareRevision: 'F1' }) });
    assert.equal(toHex(frame), '40 3F 01 00 04 1B F9 01 26 99 0D');
  });

  it('round-trips GetType, GetSerialNo and GetRegister answers for several addresses', () => {
    for (const destination of [0x3f, 0x7f, 0xbf, 0x3a, 0x40, 0x80, 0x0d, 0x06, 0x1b]) {
      const typeFrame = encodeResponseFrame(destination, { commandId: 0x01, data: encodeGetTypeResponse({ meterType: 0x0d06, softwareRevision: 'M1' }) });
      assertNoRawReservedByte(typeFrame);
      assert.deepEqual(decodeGetTypeResponse(decodeResponseFrame(typeFrame, getType, destination)), { meterType: 0x0d06, softwareRevision: 'M1' });

      const serialFrame = encodeResponseFrame(destination, { commandId: 0x02, data: encodeGetSerialNoResponse(0x1b40800d) });
      assertNoRawReservedByte(serialFrame);
      assert.equal(decodeGetSerialNoResponse(decodeResponseFrame(serialFrame, getSerialNo, destination)), 0x1b40800d);

      const request = getRegisters(60, 0x1b0d);
      const records: RegisterAnswer[] = [
        { registerId: 0x1b0d, unitCode: 0x0d, byteCount: 2, value: { negative: true, mantissa: 0x4006n, exponent: -1 } },
        { registerId: 60, unitCode: 0x06, byteCount: 4, value: { negative: false, mantissa: 0x80808080n, exponent: 0 } },
      ];
      const registerFrame = encodeResponseFrame(destination, { commandId: 0x10, data: encodeGetRegisterResponse(records) });
      assertNoRawReservedByte(registerFrame);
      const decoded = decodeGetRegisterResponse(decodeResponseFrame(registerFrame, request, destination));
      assert.deepEqual(decoded.map((r) => [r.registerId, r.unitCode, formatDecimal(r.value)]), [
        [0x1b0d, 0x0d, '-1639.0'],
        [60, 0x06, '2155905152'],
      ]);
    }
  });

  it('accepts an answer without any register record', () => {
    assert.deepEqual(decodeGetRegisterResponse(decodeResponseFrame(fromHex('40 3F 10 07 9A 0D'), getRegisters(60))), []);
  });

  describe('errors', () => {
    it('an answer from another address: unexpected-destination', () => {
      const error = assertKmpError(() => decodeResponseFrame(serialAnswer, getSerialNo, 0x7f), 'unexpected-destination');
      assert.equal(error.details.expected, '0x7F');
      assert.equal(error.details.actual, '0x3F');
      const fromLogger = encodeResponseFrame(0x7f, { commandId: 0x02, data: encodeGetSerialNoResponse(1) });
      assertKmpError(() => decodeResponseFrame(fromLogger, getSerialNo), 'unexpected-destination');
    });

    it('an answer to another command: unexpected-command', () => {
      const error = assertKmpError(() => decodeResponseFrame(serialAnswer, getType), 'unexpected-command');
      assert.equal(error.details.expected, '0x01');
      assert.equal(error.details.actual, '0x02');
      assertKmpError(() => decodeResponseFrame(serialAnswer, getRegisters(60)), 'unexpected-command');
    });

    it('a corrupt CRC: crc-mismatch', () => {
      assertKmpError(() => decodeResponseFrame(fromHex('40 3F 02 01 23 45 67 E9 57 0D'), getSerialNo), 'crc-mismatch');
    });

    it('a corrupt data byte: crc-mismatch', () => {
      assertKmpError(() => decodeResponseFrame(fromHex('40 3F 02 01 23 45 66 E9 56 0D'), getSerialNo), 'crc-mismatch');
    });

    it('fewer than destination + command + CRC: frame-too-short', () => {
      for (const hex of ['40 0D', '40 3F 0D', '40 3F 10 0D', '40 3F 10 07 0D']) {
        assertKmpError(() => decodeResponseFrame(fromHex(hex), getRegisters(60)), 'frame-too-short');
      }
    });

    it('the echoed request instead of the answer: bad-start-byte', () => {
      assertKmpError(() => decodeResponseFrame(encodeRequestFrame(getSerialNo), getSerialNo), 'bad-start-byte');
      assertKmpError(() => decodeResponseFrame(new Uint8Array(0), getSerialNo), 'bad-start-byte');
    });

    it('a frame cut before its stop byte: missing-stop-byte', () => {
      assertKmpError(() => decodeResponseFrame(serialAnswer.subarray(0, -1), getSerialNo), 'missing-stop-byte');
      assertKmpError(() => decodeResponseFrame(fromHex('40'), getSerialNo), 'missing-stop-byte');
    });

    it('a bad escape inside the answer: bad-escape', () => {
      assertKmpError(() => decodeResponseFrame(fromHex('40 3F 02 01 1B 00 45 67 E9 56 0D'), getSerialNo), 'bad-escape');
    });

    it('an answer ending on a lone escape: truncated-escape', () => {
      assertKmpError(() => decodeResponseFrame(fromHex('40 3F 02 01 23 45 67 E9 1B 0D'), getSerialNo), 'truncated-escape');
    });

    it('an intact frame with an answer of the wrong length: bad-length from the answer decoder', () => {
      const frame = encodeFrame('from-meter', encodeDataLink({ destination: 0x3f, commandId: 0x02, data: fromHex('01 23 45') }));
      assertKmpError(() => decodeGetSerialNoResponse(decodeResponseFrame(frame, getSerialNo)), 'bad-length');
    });

    it('an intact frame with a truncated register record: truncated-record from the answer decoder', () => {
      const frame = encodeFrame('from-meter', encodeDataLink({ destination: 0x3f, commandId: 0x10, data: fromHex('00 3C 03 04 43 00 00 D6') }));
      assertKmpError(() => decodeGetRegisterResponse(decodeResponseFrame(frame, getRegisters(60))), 'truncated-record');
    });
  });
});
