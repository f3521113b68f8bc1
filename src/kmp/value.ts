// The KMP number format (Kamstrup doc 5512-447 §4.2): [NoB][SiEx][integer of NoB bytes].
// SiEx bit 7: the value is negative; bit 6: the exponent is negative; bits 5..0: exponent.
// value = (-1)^SI × integer × 10^((-1)^SE × E). Decoded exactly: BigInt mantissa and a decimal
// string, never binary floating point (63.44 must not become 63.440000000000005).

import { KmpError } from './errors.js';
import {
  UNIT_DATE_MMDD,
  UNIT_DATE_YYMMDD,
  UNIT_DATE_YYYYMMDD,
  UNIT_DST_DATETIME,
  UNIT_TIME,
} from './units.js';

export interface KmpNumber {
  readonly negative: boolean;
  /** The unsigned integer as sent. */
  readonly mantissa: bigint;
  /** The signed decimal exponent, -63 … 63. */
  readonly exponent: number;
}

export const MAX_EXPONENT = 63;
export const MAX_MANTISSA_BYTES = 8;

export function decodeNumber(siex: number, mantissaBytes: Uint8Array): KmpNumber {
  let mantissa = 0n;
  for (const b of mantissaBytes) mantissa = (mantissa << 8n) | BigInt(b);
  const magnitude = siex & 0x3f;
  return {
    negative: (siex & 0x80) !== 0,
    mantissa,
    exponent: siex & 0x40 && magnitude !== 0 ? -magnitude : magnitude,
  };
}

/** SiEx byte followed by the mantissa in `byteCount` bytes, most significant first. */
export function encodeNumber(value: KmpNumber, byteCount: number): Uint8Array {
  if (!Number.isInteger(byteCount) || byteCount < 1 || byteCount > MAX_MANTISSA_BYTES) {
    throw new KmpError('bad-value', `a mantissa takes 1 to ${MAX_MANTISSA_BYTES} bytes, not ${byteCount}`, {
      expected: `1 … ${MAX_MANTISSA_BYTES}`,
      actual: String(byteCount),
    });
  }
  if (Math.abs(value.exponent) > MAX_EXPONENT || !Number.isInteger(value.exponent)) {
    throw new KmpError('bad-value', `exponent ${value.exponent} is outside -63 … 63`, {
      expected: '-63 … 63',
      actual: String(value.exponent),
    });
  }
  if (value.mantissa < 0n || value.mantissa >= 1n << BigInt(8 * byteCount)) {
    throw new KmpError('bad-value', `mantissa ${value.mantissa} does not fit in ${byteCount} bytes`, {
      expected: `0 … ${(1n << BigInt(8 * byteCount)) - 1n}`,
      actual: String(value.mantissa),
    });
  }
  const out = new Uint8Array(byteCount + 1);
  out[0] = (value.negative ? 0x80 : 0) | (value.exponent < 0 ? 0x40 : 0) | Math.abs(value.exponent);
  let rest = value.mantissa;
  for (let i = byteCount; i >= 1; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * The exact decimal text, keeping the meter's resolution: mantissa 2000 with exponent -2 is
 * "20.00", exponent 3 appends zeros. A negative zero prints as zero.
 */
export function formatDecimal(value: KmpNumber): string {
  const digits = value.mantissa.toString();
  let text: string;
  if (value.exponent >= 0) {
    text = value.mantissa === 0n ? '0' : digits + '0'.repeat(value.exponent);
  } else {
    const scale = -value.exponent;
    const padded = digits.padStart(scale + 1, '0');
    text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
  }
  return value.negative && value.mantissa !== 0n ? `-${text}` : text;
}

/** "−12.340" → { negative, mantissa 12340, exponent -3 }: the inverse of formatDecimal. */
export function parseDecimal(text: string): KmpNumber {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) {
    throw new KmpError('bad-value', `"${text}" is not a decimal number`, { expected: 'e.g. 63.44', actual: text });
  }
  const fraction = match[3] ?? '';
  return {
    negative: match[1] === '-',
    mantissa: BigInt((match[2] ?? '') + fraction),
    exponent: fraction.length === 0 ? 0 : -fraction.length,
  };
}

const pad2 = (n: number | bigint): string => n.toString().padStart(2, '0');

/**
 * Date and time registers carry decimal-coded integers chosen by their unit byte (§5.1); the
 * DST date-time (unit 0x4F) carries seven binary bytes. Returns null for "no date yet" (0),
 * and for units that are not dates or times.
 */
export function formatDateTime(unitCode: number, value: KmpNumber, mantissaBytes: Uint8Array): string | null {
  const n = value.mantissa;
  switch (unitCode) {
    case UNIT_TIME:
      return `${pad2(n / 10000n)}:${pad2((n / 100n) % 100n)}:${pad2(n % 100n)}`;
    case UNIT_DATE_YYMMDD:
      return n === 0n ? null : `20${pad2(n / 10000n)}-${pad2((n / 100n) % 100n)}-${pad2(n % 100n)}`;
    case UNIT_DATE_YYYYMMDD:
      return n === 0n ? null : `${(n / 10000n).toString().padStart(4, '0')}-${pad2((n / 100n) % 100n)}-${pad2(n % 100n)}`;
    case UNIT_DATE_MMDD:
      return n === 0n ? null : `${pad2(n / 100n)}-${pad2(n % 100n)}`;
    case UNIT_DST_DATETIME: {
      // [dst offset][YY][MM][DD][hh][mm][ss]; the meter's local time.
      if (mantissaBytes.length !== 7 || n === 0n) return null;
      const [, yy, mm, dd, hh, mi, ss] = Array.from(mantissaBytes);
      return `20${pad2(yy ?? 0)}-${pad2(mm ?? 0)}-${pad2(dd ?? 0)} ${pad2(hh ?? 0)}:${pad2(mi ?? 0)}:${pad2(ss ?? 0)}`;
    }
    default:
      return null;
  }
}
