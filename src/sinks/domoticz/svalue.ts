// A register reading → the nvalue and svalue a Domoticz device type parses (docs/domoticz-api.md,
// checked against ../shared/fixtures/domoticz-2025.1-recorded.jsonl). Domoticz answers "OK" to
// any svalue and stores garbage silently, so the format is decided here and only here: a decimal
// point, never a comma; no exponent; integers where the device counts raw units (an RFXMeter
// counter takes `55648.5` as 55.648 kWh). Values stay exact decimals to the end: units are
// scaled with BigInt arithmetic on the reading's text, never through a binary float.

import { isDateTimeUnit, unitSymbol } from '../../kmp/index.js';
import { infoCodeSeverity, infoCodeWords, type InfoFlag, type InfoSeverity } from '../../registers/index.js';
import { canonicalConversion, type CanonicalUnit } from '../canonical-units.js';

/** A reading as the store keeps it: the exact decimal text, its unit byte, a date register's text. */
export interface SvalueReading {
  readonly value: string;
  readonly unitCode: number;
  readonly text?: string | null;
}

export interface DeviceUpdate {
  readonly nvalue: number;
  readonly svalue: string;
}

export type SvalueErrorCode = 'date-register' | 'unit-not-accepted' | 'not-a-decimal' | 'negative-count';

export class SvalueError extends Error {
  override readonly name = 'SvalueError';
  constructor(
    readonly code: SvalueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A decimal as integer × 10^-scale. */
interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

function parse(reading: SvalueReading, device: string): Decimal {
  if (isDateTimeUnit(reading.unitCode)) {
    throw new SvalueError(
      'date-register',
      `a ${device} device takes a number, but this register holds a date or time (${unitSymbol(reading.unitCode)}): map it to a text device instead`,
    );
  }
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(reading.value);
  if (!match) {
    throw new SvalueError('not-a-decimal', `"${reading.value}" is not a decimal number, so no ${device} value can be made from it`);
  }
  const fraction = match[3] ?? '';
  const magnitude = BigInt((match[2] ?? '') + fraction);
  return { units: match[1] === '-' ? -magnitude : magnitude, scale: fraction.length };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** numerator / denominator rounded half away from zero to an integer. */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const rounded = (2n * n + d) / (2n * d);
  return negative ? -rounded : rounded;
}

/** The decimal × numerator / denominator, rounded to `places` decimals. */
function scale(value: Decimal, numerator: bigint, denominator: bigint, places: number): Decimal {
  return {
    units: divideRounded(value.units * numerator * pow10(places), denominator * pow10(value.scale)),
    scale: places,
  };
}

/** Plain decimal text: no exponent, no trailing zeros after the point, no "-0". */
function format(value: Decimal): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/**
 * The register's value in `target` × 10^targetShift (kWh × 10^3 is Wh), rounded to `places`
 * decimals, or kept exact: a power of ten only moves the point.
 */
function convert(reading: SvalueReading, device: string, target: CanonicalUnit, accepted: string, targetShift: number, places: number | 'exact'): Decimal {
  const value = parse(reading, device);
  const conversion = canonicalConversion(reading.unitCode);
  if (!conversion || conversion.canonical !== target) {
    throw new SvalueError(
      'unit-not-accepted',
      `a ${device} device takes ${accepted}, but this register is in ${unitSymbol(reading.unitCode) || 'no unit'}: map a register of that kind to it`,
    );
  }
  if ('shift' in conversion) {
    const shift = conversion.shift + targetShift;
    const [numerator, denominator] = shift >= 0 ? [pow10(shift), 1n] : [1n, pow10(-shift)];
    return scale(value, numerator, denominator, places === 'exact' ? Math.max(0, value.scale - shift) : places);
  }
  // Ratios (GJ, Gcal …) have no exact decimal: callers that take them say how far to round.
  return scale(value, conversion.numerator * pow10(targetShift), conversion.denominator, places === 'exact' ? value.scale : places);
}

const ENERGY_UNITS = 'energy (Wh, kWh, MWh, GWh, J … GJ, cal … Gcal)';
const POWER_UNITS = 'power (W, kW, MW, GW)';

/** Energy in whole Wh: Domoticz shows kWh with three decimals, so 1 Wh is all it can show. */
function wattHours(reading: SvalueReading, device: string): Decimal {
  return convert(reading, device, 'kWh', ENERGY_UNITS, 3, 0);
}

/** Power in W, exact for powers of ten (12.3 kW is 12300 W; 0.0123 kW is 12.3 W). */
function watts(reading: SvalueReading, device: string): Decimal {
  return convert(reading, device, 'kW', POWER_UNITS, 3, 'exact');
}

/** Temperature device: °C as the meter resolves it ("67.25"); Domoticz stores it `%.2f`. */
export function temperatureUpdate(reading: SvalueReading): DeviceUpdate {
  const value = convert(reading, 'temperature', '°C', 'a temperature in °C', 0, 'exact');
  return { nvalue: 0, svalue: format(value) };
}

/** Custom sensor: any numeric register as it is; the device shows it with its own unit label. */
export function customUpdate(reading: SvalueReading): DeviceUpdate {
  return { nvalue: 0, svalue: format(parse(reading, 'custom')) };
}

/** Electric (Instant+Counter): "POWER;ENERGY" in W and Wh, whatever the meter is configured in. */
export function electricUpdate(power: SvalueReading, energy: SvalueReading): DeviceUpdate {
  return { nvalue: 0, svalue: `${format(watts(power, 'electric'))};${format(wattHours(energy, 'electric'))}` };
}

/** Usage (Electric): power in W. */
export function usageUpdate(power: SvalueReading): DeviceUpdate {
  return { nvalue: 0, svalue: format(watts(power, 'usage')) };
}

/** Waterflow: l/min to two decimals (0.6 l/h, finer than a heat meter's flow resolution of 1 l/h). */
export function waterflowUpdate(flow: SvalueReading): DeviceUpdate {
  return { nvalue: 0, svalue: format(scale(convert(flow, 'waterflow', 'l/h', 'a flow (l/h, m³/h)', 0, 2), 1n, 60n, 2)) };
}

export type CounterMeterType = 'energy' | 'water';

/**
 * Counter (RFXMeter): an integer raw count, shown as count / divider. Energy counts Wh (divider
 * 1000 shows kWh), water counts litres (`domoticz setup` sets divider 1000 so the tile shows m³).
 */
export function counterUpdate(reading: SvalueReading, meterType: CounterMeterType): DeviceUpdate {
  const count =
    meterType === 'energy'
      ? wattHours(reading, 'energy counter')
      : convert(reading, 'water counter', 'm³', 'a volume (l, m³)', 3, 0);
  if (count.units < 0n) {
    throw new SvalueError(
      'negative-count',
      `a counter cannot go below zero, but this register reads ${reading.value} ${unitSymbol(reading.unitCode)}: Domoticz would take it as a huge drop in use`,
    );
  }
  return { nvalue: 0, svalue: format(count) };
}

/**
 * Counter (RFXMeter) of meter type Custom: the register's value × divider as a whole count, so the
 * tile (count / divider) shows the value in the register's own unit.
 */
export function customCounterUpdate(reading: SvalueReading, divider: number): DeviceUpdate {
  const factor = parse({ value: String(divider), unitCode: 0 }, 'custom counter');
  const value = parse(reading, 'custom counter');
  const count = divideRounded(value.units * factor.units, pow10(value.scale + factor.scale));
  if (count < 0n) {
    throw new SvalueError(
      'negative-count',
      `a counter cannot go below zero, but this register reads ${reading.value} ${unitSymbol(reading.unitCode)}: Domoticz would take it as a huge drop in use`,
    );
  }
  return { nvalue: 0, svalue: count.toString() };
}

/** Percentage: a register in % as it is. */
export function percentageUpdate(reading: SvalueReading): DeviceUpdate {
  parse(reading, 'percentage');
  if (unitSymbol(reading.unitCode) !== '%') {
    throw new SvalueError(
      'unit-not-accepted',
      `a percentage device takes a value in %, but this register is in ${unitSymbol(reading.unitCode) || 'no unit'}: map it to a custom device instead`,
    );
  }
  return { nvalue: 0, svalue: format(parse(reading, 'percentage')) };
}

/** Text: the value with its unit, or a date register's date ("no date yet" while it holds none). */
export function textUpdate(reading: SvalueReading): DeviceUpdate {
  if (isDateTimeUnit(reading.unitCode)) return { nvalue: 0, svalue: reading.text ?? 'no date yet' };
  const symbol = unitSymbol(reading.unitCode);
  const value = format(parse(reading, 'text'));
  return { nvalue: 0, svalue: symbol === '' ? value : `${value} ${symbol}` };
}

/** Domoticz's alert levels: 0 grey (unknown), 1 green, 2 yellow, 3 orange, 4 red. */
export const ALERT_LEVEL = { unknown: 0, normal: 1, notice: 2, warning: 3, alarm: 4 } as const;

export type AlertLevel = (typeof ALERT_LEVEL)[keyof typeof ALERT_LEVEL];

function infoCode(reading: SvalueReading, device: string): bigint {
  const value = parse(reading, device);
  if (value.units < 0n || value.units % pow10(value.scale) !== 0n) {
    throw new SvalueError('not-a-decimal', `an info code is a whole number of flags, not ${reading.value}: map the info register (99) to a ${device} device`);
  }
  return value.units / pow10(value.scale);
}

/** Text device fed the info code: the flags in words. */
export function infoTextUpdate(reading: SvalueReading, flags: readonly InfoFlag[]): DeviceUpdate {
  return { nvalue: 0, svalue: infoCodeWords(infoCode(reading, 'text'), flags) };
}

/** Domoticz's level for each severity of the worst flag set. */
const ALERT_LEVEL_OF: Readonly<Record<InfoSeverity, AlertLevel>> = { notice: ALERT_LEVEL.notice, warning: ALERT_LEVEL.warning, alarm: ALERT_LEVEL.alarm };

/**
 * Alert: nvalue the level of the worst flag set (1 when none is; a flag `flags` does not know is a
 * warning, as its meaning is unknown), svalue the flags in words.
 */
export function alertUpdate(reading: SvalueReading, flags: readonly InfoFlag[]): DeviceUpdate {
  const code = infoCode(reading, 'alert');
  const severity = infoCodeSeverity(code, flags);
  return { nvalue: severity === null ? ALERT_LEVEL.normal : ALERT_LEVEL_OF[severity], svalue: infoCodeWords(code, flags) };
}
