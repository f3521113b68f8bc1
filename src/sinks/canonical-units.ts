// Canonical units for every sink, whatever the meter is configured in: energy kWh, power kW,
// volume m³, flow l/h, temperature °C, temperature difference K. Dashboards and analyses then
// never care that one meter counts in GJ and another in MWh. Powers of ten are applied by
// moving the decimal point, so 55.648 MWh becomes exactly 55648 kWh; only factors such as
// GJ → kWh go through floating point, here at the sink, where numbers are due anyway.

export type CanonicalUnit = 'kWh' | 'kW' | 'm³' | 'l/h' | '°C' | 'K';

type Conversion = { readonly canonical: CanonicalUnit } & ({ readonly shift: number } | { readonly factor: number });

const kWh = (conversion: { shift: number } | { factor: number }): Conversion => ({ canonical: 'kWh', ...conversion });

const conversions: ReadonlyMap<number, Conversion> = new Map<number, Conversion>([
  [0x01, kWh({ shift: -3 })], // Wh
  [0x02, kWh({ shift: 0 })],
  [0x03, kWh({ shift: 3 })], // MWh
  [0x04, kWh({ shift: 6 })], // GWh
  [0x05, kWh({ factor: 1 / 3_600_000 })], // J
  [0x06, kWh({ factor: 1 / 3600 })], // kJ
  [0x07, kWh({ factor: 1 / 3.6 })], // MJ
  [0x08, kWh({ factor: 1000 / 3.6 })], // GJ
  [0x39, kWh({ factor: 10_000 / 3.6 })], // GJ×10
  [0x09, kWh({ factor: 1.163e-6 })], // Cal (1 kcal = 4.1868 kJ = 1.163 Wh)
  [0x0a, kWh({ factor: 1.163e-3 })], // kCal
  [0x0b, kWh({ factor: 1.163 })], // Mcal
  [0x0c, kWh({ factor: 1163 })], // Gcal
  [0x15, { canonical: 'kW', shift: -3 }], // W
  [0x16, { canonical: 'kW', shift: 0 }],
  [0x17, { canonical: 'kW', shift: 3 }], // MW
  [0x18, { canonical: 'kW', shift: 6 }], // GW
  [0x27, { canonical: 'm³', shift: -3 }], // l
  [0x28, { canonical: 'm³', shift: 0 }],
  [0x37, { canonical: 'm³', shift: 1 }], // m³×10
  [0x29, { canonical: 'l/h', shift: 0 }],
  [0x2a, { canonical: 'l/h', shift: 3 }], // m³/h
  [0x25, { canonical: '°C', shift: 0 }],
  [0x26, { canonical: 'K', shift: 0 }],
]);

export interface CanonicalValue {
  readonly value: number;
  /** The canonical unit, or null where the meter's unit has none (counts, codes, hours). */
  readonly unit: CanonicalUnit | null;
}

/** The reading's exact decimal in its canonical unit, as a number for the sink. */
export function toCanonical(value: string, unitCode: number): CanonicalValue {
  const conversion = conversions.get(unitCode);
  if (!conversion) return { value: Number(value), unit: null };
  if ('shift' in conversion) return { value: Number(shiftDecimal(value, conversion.shift)), unit: conversion.canonical };
  return { value: Number(value) * conversion.factor, unit: conversion.canonical };
}

/** Multiplies a decimal string by 10^places by moving its point: exact, no float rounding. */
export function shiftDecimal(value: string, places: number): string {
  if (places === 0) return value;
  const negative = value.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? value.slice(1) : value).split('.');
  let digits = whole + fraction;
  let point = whole.length + places;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const shifted = `${digits.slice(0, point) || '0'}${point < digits.length ? `.${digits.slice(point)}` : ''}`;
  const trimmed = shifted.replace(/^0+(?=\d)/, '');
  return negative ? `-${trimmed}` : trimmed;
}
