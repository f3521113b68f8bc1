// A register as read: the codec's record joined with the catalogue, value kept exact.

import { formatDateTime, formatDecimal, isDateTimeUnit, unitSymbol, type KmpNumber, type RegisterRecord } from '../kmp/index.js';
import { registerById } from './catalogue.js';

export interface RegisterReading {
  readonly registerId: number;
  /** Catalogue name, or null for an id the catalogue does not know. */
  readonly name: string | null;
  /** Exact decimal text at the meter's resolution, e.g. "55.648". */
  readonly value: string;
  readonly unit: string;
  readonly unitCode: number;
  /** For date and time units: "2022-01-12", "20:02:43"; null when the meter holds no date yet. */
  readonly text?: string | null;
  /** Sign, mantissa and exponent exactly as sent. */
  readonly raw: KmpNumber;
}

export function toReading(record: RegisterRecord): RegisterReading {
  const reading: RegisterReading = {
    registerId: record.registerId,
    name: registerById(record.registerId)?.name ?? null,
    value: formatDecimal(record.value),
    unit: unitSymbol(record.unitCode),
    unitCode: record.unitCode,
    raw: record.value,
  };
  return isDateTimeUnit(record.unitCode)
    ? { ...reading, text: formatDateTime(record.unitCode, record.value, record.mantissaBytes) }
    : reading;
}

/** A reading as people read it: "74.561 MWh", "2.6 kW", a date as the date ("2026-11-17"), "(no date yet)". */
export function shownValue(reading: Pick<RegisterReading, 'value' | 'unit' | 'text'>): string {
  return reading.text !== undefined ? (reading.text ?? '(no date yet)') : `${reading.value} ${reading.unit}`.trim();
}
