// The KMP number format [SiEx][mantissa], its exact decimal text, date/time registers and units.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_EXPONENT,
  MAX_MANTISSA_BYTES,
  decodeGetRegisterResponse,
  decodeNumber,
  encodeNumber,
  formatDateTime,
  formatDecimal,
  fromHex,
  isDateTimeUnit,
  parseDecimal,
  toHex,
  unitSymbol,
  type KmpNumber,
} from '../../src/kmp/index.js';
import { assertKmpError } from '../support/assertions.js';

const num = (negative: boolean, mantissa: bigint, exponent: number): KmpNumber => ({ negative, mantissa, exponent });
const MAX_U64 = (1n << 64n) - 1n;

/** The fewest bytes (at least one) that hold the mantissa. */
function minimalByteCount(mantissa: bigint): number {
  let count = 1;
  while (mantissa >= 1n << BigInt(8 * count)) count++;
  return count;
}

describe('decodeNumber', () => {
  const cases: { siex: number; mantissa: string; negative: boolean; value: bigint; exponent: number }[] = [
    { siex: 0x00, mantissa: '01', negative: false, value: 1n, exponent: 0 },
    { siex: 0x80, mantissa: '01', negative: true, value: 1n, exponent: 0 },
    { siex: 0x03, mantissa: '05 39 7F B1', negative: false, value: 87654321n, exponent: 3 },
    { siex: 0x43, mantissa: '00 00 00 FB', negative: false, value: 251n, exponent: -3 },
    { siex: 0xc2, mantissa: '00 00 30 39', negative: true, value: 12345n, exponent: -2 },
    { siex: 0x3f, mantissa: '01', negative: false, value: 1n, exponent: 63 },
    { siex: 0x7f, mantissa: '01', negative: false, value: 1n, exponent: -63 },
    { siex: 0xff, mantissa: '01', negative: true, value: 1n, exponent: -63 },
    { siex: 0x00, mantissa: 'FF FF FF FF FF FF FF FF', negative: false, value: MAX_U64, exponent: 0 },
    { siex: 0x00, mantissa: '00 18 0C 1F 00 00 04', negative: false, value: 0x00180c1f000004n, exponent: 0 },
  ];
  for (const c of cases) {
    it(`SiEx ${c.siex.toString(16).padStart(2, '0')} with mantissa ${c.mantissa}`, () => {
      const value = decodeNumber(c.siex, fromHex(c.mantissa));
      assert.equal(value.negative, c.negative, 'sign');
      assert.equal(value.mantissa, c.value, 'mantissa');
      assert.equal(value.exponent, c.exponent, 'exponent');
    });
  }

  it('reads an empty mantissa as zero', () => {
    assert.equal(decodeNumber(0x00, new Uint8Array(0)).mantissa, 0n);
  });

  it('reads SiEx 0x40 (negative exponent sign, exponent 0) as exponent zero', () => {
    const value = decodeNumber(0x40, Uint8Array.of(5));
    assert.ok(value.exponent === 0, `exponent ${value.exponent} == 0`);
    assert.equal(formatDecimal(value), '5');
  });
});

describe('formatDecimal', () => {
  const cases: { value: KmpNumber; text: string }[] = [
    { value: num(false, 0n, 0), text: '0' },
    { value: num(true, 0n, 0), text: '0' }, // negative zero prints as zero
    { value: num(true, 0n, 3), text: '0' },
    { value: num(false, 0n, 5), text: '0' },
    { value: num(true, 0n, -2), text: '0.00' }, // keeps the meter's resolution, without a sign
    { value: num(false, 0n, -1), text: '0.0' },
    { value: num(false, 2000n, -2), text: '20.00' },
    { value: num(false, 5n, -3), text: '0.005' },
    { value: num(false, 251n, -3), text: '0.251' },
    { value: num(false, 6344n, -2), text: '63.44' },
    { value: num(true, 12345n, -2), text: '-123.45' },
    { value: num(true, 74n, -2), text: '-0.74' },
    { value: num(false, 1n, 1), text: '10' },
    { value: num(true, 7n, 3), text: '-7000' },
    { value: num(false, 87654321n, 3), text: '87654321000' },
    { value: num(false, 255n, 3), text: '255000' },
    { value: num(false, 1n, 63), text: `1${'0'.repeat(63)}` },
    { value: num(false, 1n, -63), text: `0.${'0'.repeat(62)}1` },
    { value: num(false, MAX_U64, 0), text: '18446744073709551615' },
    { value: num(true, MAX_U64, -20), text: '-0.18446744073709551615' },
    { value: num(false, MAX_U64, -19), text: '1.8446744073709551615' },
  ];
  for (const c of cases) {
    it(`${c.value.negative ? '-' : '+'}${c.value.mantissa} × 10^${c.value.exponent} is "${c.text}"`, () => {
      assert.equal(formatDecimal(c.value), c.text);
    });
  }
});

describe('parseDecimal', () => {
  const cases: { text: string; value: KmpNumber }[] = [
    { text: '0', value: num(false, 0n, 0) },
    { text: '-0', value: num(true, 0n, 0) },
    { text: '63.44', value: num(false, 6344n, -2) },
    { text: '-12.340', value: num(true, 12340n, -3) },
    { text: '0.005', value: num(false, 5n, -3) },
    { text: '255000', value: num(false, 255000n, 0) },
    { text: '18446744073709551615', value: num(false, MAX_U64, 0) },
  ];
  for (const c of cases) {
    it(`reads "${c.text}"`, () => {
      const value = parseDecimal(c.text);
      assert.equal(value.negative, c.value.negative);
      assert.equal(value.mantissa, c.value.mantissa);
      assert.ok(value.exponent === c.value.exponent, `exponent ${value.exponent} == ${c.value.exponent}`);
    });
  }

  for (const text of ['', '-', '+1', '1.', '.5', '1e3', ' 1', '1 ', '1,5', '--1', '1.2.3', 'NaN', '0x10']) {
    it(`rejects ${JSON.stringify(text)} with bad-value`, () => {
      assertKmpError(() => parseDecimal(text), 'bad-value');
    });
  }
});

describe('encodeNumber', () => {
  it('writes the documented examples', () => {
    assert.equal(toHex(encodeNumber(num(true, 12345n, -2), 4)), 'C2 00 00 30 39');
    assert.equal(toHex(encodeNumber(num(false, 87654321n, 3), 4)), '03 05 39 7F B1');
    assert.equal(toHex(encodeNumber(num(false, 255n, 3), 1)), '03 FF');
    assert.equal(toHex(encodeNumber(num(false, 6344n, -2), 2)), '42 18 C8');
    assert.equal(toHex(encodeNumber(num(false, 251n, -3), 4)), '43 00 00 00 FB');
  });

  it('fills the largest 8-byte mantissa', () => {
    assert.equal(MAX_MANTISSA_BYTES, 8);
    assert.equal(toHex(encodeNumber(num(false, MAX_U64, 0), 8)), '00 FF FF FF FF FF FF FF FF');
  });

  it('sets the exponent sign bit and the value sign bit independently', () => {
    assert.equal(toHex(encodeNumber(num(false, 1n, 63), 1)), '3F 01');
    assert.equal(toHex(encodeNumber(num(false, 1n, -63), 1)), '7F 01');
    assert.equal(toHex(encodeNumber(num(true, 1n, 63), 1)), 'BF 01');
    assert.equal(toHex(encodeNumber(num(true, 1n, -63), 1)), 'FF 01');
  });

  describe('rejects values the format cannot carry with bad-value', () => {
    const bad: { name: string; value: KmpNumber; byteCount: number }[] = [
      { name: 'exponent 64', value: num(false, 1n, MAX_EXPONENT + 1), byteCount: 4 },
      { name: 'exponent -64', value: num(false, 1n, -MAX_EXPONENT - 1), byteCount: 4 },
      { name: 'exponent 1000', value: num(false, 1n, 1000), byteCount: 4 },
      { name: 'fractional exponent 1.5', value: num(false, 1n, 1.5), byteCount: 4 },
      { name: 'NaN exponent', value: num(false, 1n, Number.NaN), byteCount: 4 },
      { name: 'negative mantissa', value: num(false, -1n, 0), byteCount: 4 },
      { name: 'mantissa 256 in 1 byte', value: num(false, 256n, 0), byteCount: 1 },
      { name: 'mantissa 65536 in 2 bytes', value: num(false, 65536n, 0), byteCount: 2 },
      { name: 'mantissa 2^32 in 4 bytes', value: num(false, 1n << 32n, 0), byteCount: 4 },
      { name: 'mantissa 2^64 in 8 bytes', value: num(false, 1n << 64n, 0), byteCount: 8 },
    ];
    for (const c of bad) {
      it(c.name, () => {
        assertKmpError(() => encodeNumber(c.value, c.byteCount), 'bad-value');
      });
    }
  });
});

describe('number round trips', () => {
  const mantissas = [0n, 1n, 9n, 255n, 256n, 6344n, 65535n, 65536n, (1n << 32n) - 1n, 1n << 32n, (1n << 56n) - 1n, 1n << 56n, MAX_U64];
  const exponents = [-63, -40, -3, -2, -1, 0, 1, 3, 17, 40, 63];

  it('encodeNumber → decodeNumber gives the value back, in the fewest bytes and in 8 bytes', () => {
    let checked = 0;
    for (const negative of [false, true]) {
      for (const mantissa of mantissas) {
        for (const exponent of exponents) {
          for (const byteCount of new Set([minimalByteCount(mantissa), 8])) {
            const value = num(negative, mantissa, exponent);
            const bytes = encodeNumber(value, byteCount);
            assert.equal(bytes.length, byteCount + 1);
            assert.deepEqual(decodeNumber(bytes[0] ?? -1, bytes.subarray(1)), value, `${formatDecimal(value)} (e${exponent}) in ${byteCount} bytes`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 400);
  });

  it('formatDecimal → parseDecimal → formatDecimal is stable for every value', () => {
    for (const negative of [false, true]) {
      for (const mantissa of mantissas) {
        for (const exponent of exponents) {
          const text = formatDecimal(num(negative, mantissa, exponent));
          assert.equal(formatDecimal(parseDecimal(text)), text, text);
        }
      }
    }
  });

  it('parseDecimal keeps the value of a formatted number with a positive exponent (as an integer)', () => {
    const value = parseDecimal(formatDecimal(num(false, 87654321n, 3)));
    assert.equal(value.mantissa, 87654321000n);
    assert.ok(value.exponent === 0);
  });

  const texts = ['0', '0.0', '0.00', '1', '-1', '63.44', '-123.45', '0.251', '255000', '-0.74', '55.006', '0.005', '18446744073709551615', '-1844674407370955161.5'];
  for (const text of texts) {
    it(`"${text}" survives parseDecimal → encodeNumber → decodeNumber → formatDecimal`, () => {
      const parsed = parseDecimal(text);
      const bytes = encodeNumber(parsed, minimalByteCount(parsed.mantissa));
      assert.equal(formatDecimal(decodeNumber(bytes[0] ?? -1, bytes.subarray(1))), text);
    });
  }

  for (const text of ['-0', '-0.00']) {
    it(`negative zero "${text}" comes back without its sign`, () => {
      const bytes = encodeNumber(parseDecimal(text), 1);
      assert.equal(formatDecimal(decodeNumber(bytes[0] ?? -1, bytes.subarray(1))), text.slice(1));
    });
  }

  it('a 64-digit fraction does not fit the exponent and is rejected when encoded', () => {
    const parsed = parseDecimal(`0.${'0'.repeat(63)}1`);
    assert.equal(parsed.exponent, -64);
    assertKmpError(() => encodeNumber(parsed, 1), 'bad-value');
  });
});

describe('formatDateTime', () => {
  const integer = (value: bigint): KmpNumber => num(false, value, 0);
  const bytesOf = (value: bigint): Uint8Array => encodeNumber(integer(value), 4).subarray(1);
  const decimalCoded: { unit: number; value: bigint; text: string | null; name: string }[] = [
    { unit: 0x2f, value: 0n, text: '00:00:00', name: 'time 0 is midnight' },
    { unit: 0x2f, value: 103000n, text: '10:30:00', name: 'time 103000' },
    { unit: 0x2f, value: 200243n, text: '20:02:43', name: 'time 200243' },
    { unit: 0x2f, value: 235959n, text: '23:59:59', name: 'time 235959' },
    { unit: 0x2f, value: 5n, text: '00:00:05', name: 'time 5 is padded' },
    { unit: 0x30, value: 0n, text: null, name: 'yy:mm:dd 0 is no date yet' },
    { unit: 0x30, value: 220112n, text: '2022-01-12', name: 'yy:mm:dd 220112' },
    { unit: 0x30, value: 60824n, text: '2006-08-24', name: 'yy:mm:dd 60824 (one-digit year)' },
    { unit: 0x30, value: 10101n, text: '2001-01-01', name: 'yy:mm:dd 10101' },
    { unit: 0x31, value: 0n, text: null, name: 'yyyy:mm:dd 0 is no date yet' },
    { unit: 0x31, value: 20250102n, text: '2025-01-02', name: 'yyyy:mm:dd 20250102' },
    { unit: 0x32, value: 0n, text: null, name: 'mm:dd 0 is no date yet' },
    { unit: 0x32, value: 1231n, text: '12-31', name: 'mm:dd 1231' },
    { unit: 0x32, value: 101n, text: '01-01', name: 'mm:dd 101' },
  ];
  for (const c of decimalCoded) {
    it(c.name, () => {
      assert.equal(formatDateTime(c.unit, integer(c.value), bytesOf(c.value)), c.text);
    });
  }

  it('reads the 7-byte DST date-time (unit 0x4F)', () => {
    const bytes = fromHex('00 18 0C 1F 00 00 04');
    assert.equal(formatDateTime(0x4f, decodeNumber(0x00, bytes), bytes), '2024-12-31 00:00:04');
  });

  it('ignores the DST offset byte of unit 0x4F', () => {
    const bytes = fromHex('01 19 06 0F 0C 1E 3B');
    assert.equal(formatDateTime(0x4f, decodeNumber(0x00, bytes), bytes), '2025-06-15 12:30:59');
  });

  it('gives null for an all-zero DST date-time and for one that is not 7 bytes', () => {
    const zero = new Uint8Array(7);
    assert.equal(formatDateTime(0x4f, decodeNumber(0x00, zero), zero), null);
    const short = fromHex('18 0C 1F 00 00 04');
    assert.equal(formatDateTime(0x4f, decodeNumber(0x00, short), short), null);
  });

  it('reads a DST date-time straight out of a GetRegister answer (register 348)', () => {
    const [record] = decodeGetRegisterResponse(fromHex('01 5C 4F 07 00 00 18 0C 1F 00 00 04'));
    assert.ok(record);
    assert.equal(record.registerId, 348);
    assert.equal(formatDateTime(record.unitCode, record.value, record.mantissaBytes), '2024-12-31 00:00:04');
  });

  it('gives null for units that are not dates or times', () => {
    for (const unit of [0x00, 0x02, 0x16, 0x25, 0x2e, 0x33, 0x40, 0x48]) {
      assert.equal(formatDateTime(unit, integer(200243n), bytesOf(200243n)), null, `unit 0x${unit.toString(16)}`);
    }
  });
});

describe('units', () => {
  // The unit list of the protocol notes (§3), unit byte → symbol.
  const documented: readonly (readonly [number, string])[] = [
    [0x00, ''], [0x01, 'Wh'], [0x02, 'kWh'], [0x03, 'MWh'], [0x04, 'GWh'], [0x05, 'J'], [0x06, 'kJ'],
    [0x07, 'MJ'], [0x08, 'GJ'], [0x09, 'Cal'], [0x0a, 'kCal'], [0x0b, 'Mcal'], [0x0c, 'Gcal'],
    [0x0d, 'varh'], [0x0e, 'kvarh'], [0x0f, 'Mvarh'], [0x10, 'Gvarh'], [0x11, 'VAh'], [0x12, 'kVAh'],
    [0x13, 'MVAh'], [0x14, 'GVAh'], [0x15, 'W'], [0x16, 'kW'], [0x17, 'MW'], [0x18, 'GW'], [0x19, 'var'],
    [0x1a, 'kvar'], [0x1b, 'Mvar'], [0x1c, 'Gvar'], [0x1d, 'VA'], [0x1e, 'kVA'], [0x1f, 'MVA'],
    [0x20, 'GVA'], [0x21, 'V'], [0x22, 'A'], [0x23, 'kV'], [0x24, 'kA'], [0x25, '°C'], [0x26, 'K'],
    [0x27, 'l'], [0x28, 'm³'], [0x29, 'l/h'], [0x2a, 'm³/h'], [0x2b, 'm³×°C'], [0x2c, 'ton'],
    [0x2d, 'ton/h'], [0x2e, 'h'], [0x2f, 'hh:mm:ss'], [0x30, 'yy:mm:dd'], [0x31, 'yyyy:mm:dd'],
    [0x32, 'mm:dd'], [0x33, 'number'], [0x34, 'bar'], [0x35, 'RTC'], [0x36, 'ASCII'], [0x37, 'm³×10'],
    [0x38, 'ton×10'], [0x39, 'GJ×10'], [0x3a, 'minutes'], [0x3b, 'bitfield'], [0x3c, 's'], [0x3d, 'ms'],
    [0x3e, 'days'], [0x3f, 'RTC-Q'], [0x40, 'datetime'], [0x41, 'imp/l'], [0x42, 'l/imp'], [0x43, 'Hz'],
    [0x44, 'degree'], [0x45, '%'], [0x46, 'US gal'], [0x47, 'US gal/min'], [0x48, 'KamDateTime'],
    [0x49, 'IPv4'], [0x4a, 'IPv6'], [0x55, '%RH'], [0x56, '%O₂'], [0x57, 'm/s'], [0x58, 'kJ/kg'],
    [0x59, 'pH'], [0x5a, 'g/kg'],
  ];

  it("uses Kamstrup's W and var for 0x15 and 0x19 (not kW / kvar)", () => {
    assert.equal(unitSymbol(0x15), 'W');
    assert.equal(unitSymbol(0x16), 'kW');
    assert.equal(unitSymbol(0x19), 'var');
    assert.equal(unitSymbol(0x1a), 'kvar');
  });

  it('knows every unit of the protocol notes', () => {
    for (const [code, symbol] of documented) assert.equal(unitSymbol(code), symbol, `unit 0x${code.toString(16)}`);
  });

  it('gives the DST date-time unit 0x4F a name', () => {
    assert.ok(!unitSymbol(0x4f).startsWith('unit 0x'));
  });

  it('shows an unknown unit byte as "unit 0x.." instead of failing', () => {
    assert.equal(unitSymbol(0x5b), 'unit 0x5B');
    assert.equal(unitSymbol(0x4b), 'unit 0x4B');
    assert.equal(unitSymbol(0xff), 'unit 0xFF');
    assert.equal(unitSymbol(0x0a0), 'unit 0xA0');
  });

  it('isDateTimeUnit is true exactly for 0x2F, 0x30, 0x31, 0x32 and 0x4F', () => {
    const dateUnits: number[] = [];
    for (let code = 0; code < 256; code++) if (isDateTimeUnit(code)) dateUnits.push(code);
    assert.deepEqual(dateUnits, [0x2f, 0x30, 0x31, 0x32, 0x4f]);
  });
});
