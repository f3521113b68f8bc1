// Every vector of test/fixtures/kmp-vectors.json, checked against the meaning its `decoded`
// text states. The expectation table below is keyed by vector id and must cover the fixture
// exactly: a new vector without an expectation (or a stale expectation) fails the suite.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  CommandId,
  FrameSplitter,
  decodeDataLink,
  decodeFrame,
  decodeGetRegisterResponse,
  decodeGetSerialNoResponse,
  decodeGetTypeResponse,
  decodeNumber,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeDataLink,
  encodeFrame,
  encodeGetRegisterResponse,
  encodeGetSerialNoResponse,
  encodeGetTypeResponse,
  encodeNumber,
  encodeRequestFrame,
  encodeResponseFrame,
  formatDateTime,
  formatDecimal,
  fromHex,
  isDateTimeUnit,
  stuff,
  toHex,
  unitSymbol,
  unstuff,
  type KmpErrorCode,
  type KmpRequest,
  type RegisterRecord,
} from '../../src/kmp/index.js';
import { assertKmpError } from '../support/assertions.js';

// ---------------------------------------------------------------------------------------------
// The fixture file, read relative to the compiled test (dist/test/kmp/vectors.test.js).

type VectorKind = 'frame' | 'stuffing' | 'float' | 'datetime' | 'ack';

interface KmpVector {
  readonly id: string;
  readonly hex: string;
  readonly decoded: string;
  readonly kind: VectorKind;
  /** Only frame vectors say whether their CRC verifies. */
  readonly crcOk: boolean | undefined;
}

const vectorKinds: readonly string[] = ['frame', 'stuffing', 'float', 'datetime', 'ack'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// From dist/test/kmp/ to the repository's root, and to ../shared beside it.
const VECTORS = new URL('../../../test/fixtures/kmp-vectors.json', import.meta.url);
const SHARED_VECTORS = new URL('../../../../shared/fixtures/kmp-vectors.json', import.meta.url);

function isVectorKind(value: unknown): value is VectorKind {
  return typeof value === 'string' && vectorKinds.includes(value);
}

function loadVectors(): KmpVector[] {
  const parsed: unknown = JSON.parse(readFileSync(VECTORS, 'utf8'));
  if (!isRecord(parsed) || !Array.isArray(parsed['vectors'])) throw new Error('kmp-vectors.json has no "vectors" array');
  return parsed['vectors'].map((entry: unknown, index: number): KmpVector => {
    if (!isRecord(entry)) throw new Error(`vector #${index} is not an object`);
    const { id, hex, decoded, kind, crc_ok: crcOk } = entry;
    if (typeof id !== 'string' || typeof hex !== 'string' || typeof decoded !== 'string' || !isVectorKind(kind)) {
      throw new Error(`vector #${index} lacks id, hex, decoded or a known kind`);
    }
    if (crcOk !== undefined && typeof crcOk !== 'boolean') throw new Error(`vector ${id}: crc_ok is not a boolean`);
    return { id, hex, decoded, kind, crcOk };
  });
}

const vectors = loadVectors();

// ---------------------------------------------------------------------------------------------
// What each vector means, written out from its `decoded` text.

interface ExpectedRecord {
  readonly registerId: number;
  readonly unit: string;
  /** NoB: mantissa bytes on the wire. */
  readonly byteCount: number;
  /** formatDecimal of the value. */
  readonly decimal: string;
  /** formatDateTime, for date and time units. */
  readonly dateTime?: string;
}

type Expectation =
  | { readonly kind: 'request'; readonly destination: number; readonly request: KmpRequest }
  | {
      readonly kind: 'set-clock-request';
      readonly destination: number;
      /** The two decimal-coded integers of the SetClock data, as dates. */
      readonly date: string;
      readonly time: string;
    }
  | { readonly kind: 'type-answer'; readonly destination: number; readonly meterType: number; readonly softwareRevision: string | null }
  | { readonly kind: 'serial-answer'; readonly destination: number; readonly serial: number }
  | {
      readonly kind: 'register-answer';
      readonly destination: number;
      readonly registerIds: readonly number[];
      readonly records: readonly ExpectedRecord[];
    }
  | { readonly kind: 'crc-error'; readonly request: KmpRequest; readonly givenCrc: string; readonly computedCrc: string }
  | { readonly kind: 'echo-then-answer'; readonly echoedIds: readonly number[]; readonly records: readonly ExpectedRecord[] }
  | { readonly kind: 'stuffing'; readonly plain: string; readonly stuffed: string }
  | { readonly kind: 'stuffing-error'; readonly code: KmpErrorCode }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'date-time'; readonly text: string }
  | { readonly kind: 'ack' };

const HEAT_METER = 0x3f;
const getType: KmpRequest = { command: 'get-type' };
const getSerialNo: KmpRequest = { command: 'get-serial-no' };
const getRegisters = (...registerIds: number[]): KmpRequest => ({ command: 'get-register', registerIds });
const registerAnswer = (registerIds: number[], ...records: ExpectedRecord[]): Expectation => ({
  kind: 'register-answer',
  destination: HEAT_METER,
  registerIds,
  records,
});
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const e1Reg60: ExpectedRecord = { registerId: 60, unit: 'MWh', byteCount: 4, decimal: '55.006' };

const expectations: Readonly<Record<string, Expectation>> = {
  'DOC-1': { kind: 'request', destination: HEAT_METER, request: getType },
  'DOC-2': { kind: 'type-answer', destination: HEAT_METER, meterType: 0x0004, softwareRevision: 'F1' },
  'DOC-3': { kind: 'request', destination: HEAT_METER, request: getSerialNo },
  'DOC-4': { kind: 'serial-answer', destination: HEAT_METER, serial: 19088743 },
  'DOC-5': { kind: 'request', destination: HEAT_METER, request: getRegisters(128) },
  // 19591204 × 10^17 kW: a nonsense value in Kamstrup's example, but a valid positive exponent.
  'DOC-6': registerAnswer([128], { registerId: 128, unit: 'kW', byteCount: 4, decimal: '1959120400000000000000000' }),
  'DOC-7': { kind: 'set-clock-request', destination: HEAT_METER, date: '2007-07-30', time: '16:15:57' },
  'DOC-8': { kind: 'stuffing', plain: '04 0D 00 06', stuffed: '04 1B F2 00 1B F9' },
  'DOC-F1': { kind: 'number', text: '-123.45' },
  'DOC-F2': { kind: 'number', text: '87654321000' },
  'DOC-F3': { kind: 'number', text: '255000' },
  'DOC-T1': { kind: 'date-time', text: '10:30:00' },
  'DOC-T2': { kind: 'date-time', text: '23:59:59' },
  'DOC-T3': { kind: 'date-time', text: '2006-08-24' },
  'DOC-T4': { kind: 'date-time', text: '2099-12-31' },
  'DOC-T5': { kind: 'date-time', text: '08-24' },
  'DOC-T6': { kind: 'date-time', text: '12-31' },
  'PYKMP-1': { kind: 'request', destination: HEAT_METER, request: getRegisters(1002) },
  'PYKMP-2': registerAnswer([1002], { registerId: 1002, unit: 'hh:mm:ss', byteCount: 4, decimal: '200243', dateTime: '20:02:43' }),
  'PYKMP-3': { kind: 'number', text: '0.251' },
  'PYKMP-4': { kind: 'number', text: '63.44' },
  'PYKMP-5': { kind: 'request', destination: 0x3a, request: getType },
  'PYKMP-6': { kind: 'serial-answer', destination: 0x3a, serial: 1234567 },
  'PYKMP-7': { kind: 'crc-error', request: getSerialNo, givenCrc: '0xE957', computedCrc: '0xE956' },
  'TAS38-1q': { kind: 'request', destination: HEAT_METER, request: getRegisters(60) },
  'TAS38-1r': registerAnswer([60], e1Reg60),
  'TAS38-2q': { kind: 'request', destination: HEAT_METER, request: getRegisters(80) },
  'TAS38-2r': registerAnswer([80], { registerId: 80, unit: 'kW', byteCount: 2, decimal: '0.0' }),
  'TAS38-3q': { kind: 'request', destination: HEAT_METER, request: getRegisters(86) },
  'TAS38-3r': registerAnswer([86], { registerId: 86, unit: '°C', byteCount: 2, decimal: '53.65' }),
  'TAS38-4q': { kind: 'request', destination: HEAT_METER, request: getRegisters(87) },
  'TAS38-4r': registerAnswer([87], { registerId: 87, unit: '°C', byteCount: 2, decimal: '45.79' }),
  'TAS38-5q': { kind: 'request', destination: HEAT_METER, request: getRegisters(89) },
  'TAS38-5r': registerAnswer([89], { registerId: 89, unit: 'K', byteCount: 2, decimal: '7.86' }),
  // An answer without any record: every requested id was unsupported.
  'SYN-1': registerAnswer([123, 124]),
  'SYN-2': { kind: 'request', destination: HEAT_METER, request: getRegisters(...range(123, 130)) },
  'SYN-3': { kind: 'request', destination: HEAT_METER, request: getRegisters(...range(138, 145)) },
  'SYN-4': registerAnswer([89], { registerId: 89, unit: 'K', byteCount: 2, decimal: '-0.74' }),
  'SYN-5': { kind: 'echo-then-answer', echoedIds: [60], records: [e1Reg60] },
  'SYN-6': { kind: 'stuffing-error', code: 'bad-escape' },
  'SYN-7': { kind: 'stuffing-error', code: 'truncated-escape' },
  'SYN-8': { kind: 'ack' },
};

const fixtureKindOf: Readonly<Record<Expectation['kind'], VectorKind>> = {
  request: 'frame',
  'set-clock-request': 'frame',
  'type-answer': 'frame',
  'serial-answer': 'frame',
  'register-answer': 'frame',
  'crc-error': 'frame',
  'echo-then-answer': 'frame',
  stuffing: 'stuffing',
  'stuffing-error': 'stuffing',
  number: 'float',
  'date-time': 'datetime',
  ack: 'ack',
};

// ---------------------------------------------------------------------------------------------
// Checks per expectation kind.


function assertRecords(records: readonly RegisterRecord[], expected: readonly ExpectedRecord[]): void {
  assert.equal(records.length, expected.length, 'number of register records');
  records.forEach((record, i) => {
    const want = expected[i];
    assert.ok(want);
    assert.equal(record.registerId, want.registerId, 'register id');
    assert.equal(unitSymbol(record.unitCode), want.unit, 'unit');
    assert.equal(record.mantissaBytes.length, want.byteCount, 'NoB');
    assert.equal(formatDecimal(record.value), want.decimal, 'value');
    assert.equal(isDateTimeUnit(record.unitCode), want.dateTime !== undefined, 'is a date or time unit');
    if (want.dateTime !== undefined) {
      assert.equal(formatDateTime(record.unitCode, record.value, record.mantissaBytes), want.dateTime, 'date/time');
    }
  });
}

/** The meter side re-encodes the decoded records into the very same answer bytes. */
function assertRegisterAnswerReencodes(records: readonly RegisterRecord[], data: Uint8Array): void {
  const reencoded = encodeGetRegisterResponse(
    records.map((r) => ({ registerId: r.registerId, unitCode: r.unitCode, value: r.value, byteCount: r.mantissaBytes.length })),
  );
  assert.equal(toHex(reencoded), toHex(data));
}

function assertResponseFrameReencodes(bytes: Uint8Array, destination: number, commandId: number, data: Uint8Array): void {
  assert.equal(toHex(encodeResponseFrame(destination, { commandId, data })), toHex(bytes));
}

/** The parts of "2F: 00 01 92 58" (unit, mantissa) or "04 0D <-> 04 1B F2" (plain, stuffed). */
function splitFixtureHex(hex: string, separator: string): [string, string] {
  const parts = hex.split(separator);
  assert.equal(parts.length, 2, `"${hex}" should have two parts separated by "${separator}"`);
  return [parts[0] ?? '', parts[1] ?? ''];
}

function checkVector(vector: KmpVector, expectation: Expectation): void {
  switch (expectation.kind) {
    case 'request': {
      const bytes = fromHex(vector.hex);
      const decoded = decodeRequestFrame(bytes);
      assert.equal(decoded.destination, expectation.destination);
      assert.deepEqual(decoded.request, expectation.request);
      assert.equal(toHex(encodeRequestFrame(expectation.request, expectation.destination)), toHex(bytes));
      return;
    }
    case 'set-clock-request': {
      // SetClock is not one of the requests the codec models (KmpRequest), so the frame is
      // checked a layer lower: frame → data link → two decimal-coded 32-bit integers.
      const bytes = fromHex(vector.hex);
      const message = decodeDataLink(decodeFrame('to-meter', bytes));
      assert.equal(message.destination, expectation.destination);
      assert.equal(message.commandId, CommandId.SetClock);
      assert.equal(message.data.length, 8);
      const date = decodeNumber(0, message.data.subarray(0, 4));
      const time = decodeNumber(0, message.data.subarray(4, 8));
      assert.equal(formatDateTime(0x30, date, message.data.subarray(0, 4)), expectation.date);
      assert.equal(formatDateTime(0x2f, time, message.data.subarray(4, 8)), expectation.time);
      assert.equal(toHex(encodeFrame('to-meter', encodeDataLink(message))), toHex(bytes));
      assertKmpError(() => decodeRequestFrame(bytes), 'unexpected-command');
      return;
    }
    case 'type-answer': {
      const bytes = fromHex(vector.hex);
      const data = decodeResponseFrame(bytes, getType, expectation.destination);
      assert.deepEqual(decodeGetTypeResponse(data), {
        meterType: expectation.meterType,
        softwareRevision: expectation.softwareRevision,
      });
      assert.equal(toHex(encodeGetTypeResponse(decodeGetTypeResponse(data))), toHex(data));
      assertResponseFrameReencodes(bytes, expectation.destination, CommandId.GetType, data);
      return;
    }
    case 'serial-answer': {
      const bytes = fromHex(vector.hex);
      const data = decodeResponseFrame(bytes, getSerialNo, expectation.destination);
      assert.equal(decodeGetSerialNoResponse(data), expectation.serial);
      assert.equal(toHex(encodeGetSerialNoResponse(expectation.serial)), toHex(data));
      assertResponseFrameReencodes(bytes, expectation.destination, CommandId.GetSerialNo, data);
      return;
    }
    case 'register-answer': {
      const bytes = fromHex(vector.hex);
      const request: KmpRequest = { command: 'get-register', registerIds: expectation.registerIds };
      const data = decodeResponseFrame(bytes, request, expectation.destination);
      const records = decodeGetRegisterResponse(data);
      assertRecords(records, expectation.records);
      assertRegisterAnswerReencodes(records, data);
      assertResponseFrameReencodes(bytes, expectation.destination, CommandId.GetRegister, data);
      return;
    }
    case 'crc-error': {
      assert.equal(vector.crcOk, false);
      const error = assertKmpError(() => decodeResponseFrame(fromHex(vector.hex), expectation.request), 'crc-mismatch');
      assert.equal(error.details.actual, expectation.givenCrc);
      assert.equal(error.details.expected, expectation.computedCrc);
      return;
    }
    case 'echo-then-answer': {
      const bytes = fromHex(vector.hex);
      const request: KmpRequest = { command: 'get-register', registerIds: expectation.echoedIds };
      // The reader's side skips the echo and finds the answer…
      const events = new FrameSplitter('from-meter').push(bytes);
      assert.equal(events.length, 1);
      const event = events[0];
      assert.ok(event?.kind === 'frame');
      const records = decodeGetRegisterResponse(decodeResponseFrame(event.frame, request));
      assertRecords(records, expectation.records);
      // …and what it skipped is exactly the echoed request.
      const echoes = new FrameSplitter('to-meter').push(bytes);
      assert.equal(echoes.length, 1);
      const echo = echoes[0];
      assert.ok(echo?.kind === 'frame');
      assert.deepEqual(decodeRequestFrame(echo.frame).request, request);
      assert.equal(toHex(concat(echo.frame, event.frame)), toHex(bytes));
      return;
    }
    case 'stuffing': {
      const [plainHex, stuffedHex] = splitFixtureHex(vector.hex, '<->');
      const plain = fromHex(plainHex);
      const stuffed = fromHex(stuffedHex);
      assert.equal(toHex(plain), toHex(fromHex(expectation.plain)));
      assert.equal(toHex(stuffed), toHex(fromHex(expectation.stuffed)));
      assert.equal(toHex(stuff(plain)), toHex(stuffed));
      assert.equal(toHex(unstuff(stuffed)), toHex(plain));
      return;
    }
    case 'stuffing-error':
      assertKmpError(() => decodeFrame('from-meter', fromHex(vector.hex)), expectation.code);
      return;
    case 'number': {
      // [NoB][SiEx][mantissa × NoB]
      const bytes = fromHex(vector.hex);
      const byteCount = bytes[0] ?? -1;
      assert.equal(bytes.length, byteCount + 2, 'NoB matches the mantissa length');
      const mantissa = bytes.subarray(2);
      const value = decodeNumber(bytes[1] ?? 0, mantissa);
      assert.equal(formatDecimal(value), expectation.text);
      assert.equal(toHex(encodeNumber(value, byteCount)), toHex(bytes.subarray(1)));
      return;
    }
    case 'date-time': {
      // "2F: 00 01 92 58": the unit byte, then the mantissa (exponent 0).
      const [unitHex, mantissaHex] = splitFixtureHex(vector.hex, ':');
      const unit = fromHex(unitHex)[0] ?? -1;
      const mantissa = fromHex(mantissaHex);
      assert.ok(isDateTimeUnit(unit), `unit ${unitHex} is a date or time unit`);
      assert.equal(formatDateTime(unit, decodeNumber(0x00, mantissa), mantissa), expectation.text);
      return;
    }
    case 'ack': {
      assert.deepEqual(new FrameSplitter('from-meter').push(fromHex(vector.hex)), [{ kind: 'ack' }]);
      return;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('kmp-vectors.json', () => {
  it('holds vectors with unique ids', () => {
    assert.ok(vectors.length > 0);
    assert.equal(new Set(vectors.map((v) => v.id)).size, vectors.length);
  });

  it('is covered exactly by the expectation table (no vector without expectation, no stale expectation)', () => {
    const fixtureIds = vectors.map((v) => v.id).sort();
    const tableIds = Object.keys(expectations).sort();
    assert.deepEqual(fixtureIds, tableIds);
  });

  // The copy under test/fixtures keeps the suite runnable in a clone without ../shared; where the
  // project's reference set sits beside the clone, the copy must not have drifted from it.
  it('is the same as the shared reference set, ../shared/fixtures/kmp-vectors.json', { skip: existsSync(SHARED_VECTORS) ? false : `${SHARED_VECTORS.pathname} absent: the copy is not compared` }, () => {
    assert.deepEqual(JSON.parse(readFileSync(VECTORS, 'utf8')), JSON.parse(readFileSync(SHARED_VECTORS, 'utf8')));
  });

  it('accepts both hex styles of the fixture (spaced upper case, compact lower case)', () => {
    assert.equal(toHex(fromHex('80 3F 10 01 00 3C B2 5F 0D')), toHex(fromHex('803f1001003cb25f0d')));
  });

  for (const vector of vectors) {
    it(vector.id, () => {
      const expectation = expectations[vector.id];
      assert.ok(expectation, `vector ${vector.id} ("${vector.decoded}") has no entry in the expectation table`);
      assert.equal(vector.kind, fixtureKindOf[expectation.kind], 'fixture kind');
      if (vector.kind === 'frame') assert.equal(vector.crcOk, expectation.kind !== 'crc-error', 'crc_ok');
      checkVector(vector, expectation);
    });
  }
});
