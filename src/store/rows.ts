// Between RegisterReading and a readings row: the mantissa bound losslessly, and read back as
// text so no value ever passes through a JS number.

import { isDateTimeUnit } from '../kmp/index.js';
import type { RegisterReading } from '../registers/index.js';

const INT64_MAX = (1n << 63n) - 1n;

/**
 * The mantissa as bound to the `mantissa ANY` column: a bigint (stored as INTEGER) when it fits
 * SQLite's signed 64-bit integer, else its decimal text (an 8-byte mantissa above 2^63 - 1).
 * Never a JS number: better-sqlite3 binds numbers as REAL, which the column's CHECK refuses.
 */
export function mantissaParameter(mantissa: bigint): bigint | string {
  return mantissa <= INT64_MAX ? mantissa : mantissa.toString();
}

/** The reading columns as queries select them (mantissa cast to TEXT). */
export interface ReadingColumns {
  readonly registerId: number;
  readonly name: string | null;
  readonly value: string;
  readonly unit: string;
  readonly unitCode: number;
  readonly text: string | null;
  readonly mantissa: string;
  readonly exponent: number;
  readonly negative: 0 | 1;
}

/** SELECT list for ReadingColumns; `r` is readings, `g` registers, `u` units (inner joins: the foreign keys guarantee both rows). */
export const readingColumnsSql = `
  r.register_id AS registerId, g.name AS name, r.value AS value, u.symbol AS unit, r.unit_code AS unitCode,
  r.text AS text, CAST(r.mantissa AS TEXT) AS mantissa, r.exponent AS exponent, r.negative AS negative`;

/** Back to the RegisterReading the daemon stored: `text` present exactly for date and time units. */
export function readingFromColumns(row: ReadingColumns): RegisterReading {
  const reading: RegisterReading = {
    registerId: row.registerId,
    name: row.name,
    value: row.value,
    unit: row.unit,
    unitCode: row.unitCode,
    raw: { negative: row.negative === 1, mantissa: BigInt(row.mantissa), exponent: row.exponent },
  };
  return isDateTimeUnit(row.unitCode) ? { ...reading, text: row.text } : reading;
}
