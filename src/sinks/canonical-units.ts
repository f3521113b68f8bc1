// Canonical units for every sink, whatever the meter is configured in: energy kWh, power kW,
// volume m³, flow l/h, temperature °C, temperature difference K. Dashboards and analyses then
// never care that one meter counts in GJ and another in MWh. Powers of ten are applied by
// moving the decimal point, so 55.648 MWh becomes exactly 55648 kWh; other factors such as
// GJ → kWh are kept as exact ratios (a sink that needs exact decimals, Domoticz, scales by them
// in integers) and go through floating point only in toCanonical, where numbers are due anyway.

export type CanonicalUnit = 'kWh' | 'kW' | 'm³' | 'l/h' | '°C' | 'K';

/** value × 10^shift, or value × numerator / denominator: exact either way. */
export type Conversion = { readonly canonical: CanonicalUnit } & (
  | { readonly shift: number }
  | { readonly numerator: bigint; readonly denominator: bigint }
);

type Scaling = { shift: number } | { numerator: bigint; denominator: bigint };

const kWh = (scaling: Scaling): Conversion => ({ canonical: 'kWh', ...scaling });
const ratio = (numerator: bigint, denominator: bigint): Scaling => ({ numerator, denominator });

const conversions: ReadonlyMap<number, Conversion> = new Map<number, Conversion>([
  [0x01, kWh({ shift: -3 })], // Wh
  [0x02, kWh({ shift: 0 })],
  [0x03, kWh({ shift: 3 })], // MWh
  [0x04, kWh({ shift: 6 })], // GWh
  [0x05, kWh(ratio(1n, 3_600_000n))], // J
  [0x06, kWh(ratio(1n, 3600n))], // kJ
  [0x07, kWh(ratio(10n, 36n))], // MJ
  [0x08, kWh(ratio(10_000n, 36n))], // GJ
  [0x39, kWh(ratio(100_000n, 36n))], // GJ×10
  [0x09, kWh(ratio(1163n, 1_000_000_000n))], // Cal (1 kcal = 4.1868 kJ = 1.163 Wh)
  [0x0a, kWh(ratio(1163n, 1_000_000n))], // kCal
  [0x0b, kWh(ratio(1163n, 1000n))], // Mcal
  [0x0c, kWh(ratio(1163n, 1n))], // Gcal
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

/** How a unit byte converts to its canonical unit; undefined where it has none. */
export function canonicalConversion(unitCode: number): Conversion | undefined {
  return conversions.get(unitCode);
}

/** The reading's exact decimal in its canonical unit, as a number for the sink. */
export function toCanonical(value: string, unitCode: number): CanonicalValue {
  const conversion = conversions.get(unitCode);
  if (!conversion) return { value: Number(value), unit: null };
  if ('shift' in conversion) return { value: Number(shiftDecimal(value, conversion.shift)), unit: conversion.canonical };
  // The ratios were chosen so that numerator / denominator is the same double as the factor the
  // InfluxDB sink always used (10000 / 36 === 1000 / 3.6): stored points do not change.
  return { value: Number(value) * (Number(conversion.numerator) / Number(conversion.denominator)), unit: conversion.canonical };
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
