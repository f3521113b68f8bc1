// From consecutive readings of a meter's cumulative registers to per-period figures. Each
// register is a series of (time, value); the difference between two consecutive values is
// spread over the interval between them in proportion to time and cut at local midnights.
// The parts are cumulative roundings of one exact fraction, so they sum to the difference to
// the last digit. A counter that goes down starts a new series (counted, never negative use);
// an interval longer than the gap threshold is spread all the same but marked on every period
// it touches. Pure: the caller loads and saves the state.

import { divideRounded, scaled } from './decimal.js';
import { addFigures, type PeakPower, type PeriodFigures, type Quantity } from './figures.js';
import { DEFAULT_BILLING_DATE, type Calendar, type MonthDay } from './periods.js';

export const DEFAULT_GAP_MS = 2 * 3_600_000;

/** Register ids of the cumulative counters, by the quantity they count. */
export const seriesRegisters: Readonly<Record<Quantity, number>> = { energy: 60, volume: 68, hours: 1004, m3t1: 97, m3t2: 110 };
export const POWER_REGISTER = 80;
export const TARGET_DATE_REGISTER = 98;
/** Every register the figures are computed from. */
export const consumptionRegisterIds: readonly number[] = [...Object.values(seriesRegisters), POWER_REGISTER, TARGET_DATE_REGISTER];

const quantityOfRegister = new Map(Object.entries(seriesRegisters).map(([quantity, id]) => [id, quantity as Quantity]));

/** value × numerator / denominator gives the figure's unit (kWh, m³, h, m³×°C, kW). */
type Factor = readonly [numerator: bigint, denominator: bigint];

// Unit bytes (src/kmp/units.ts) each register may come in. GJ, MJ and kJ to kWh have no finite
// decimal (1 GJ = 277.777… kWh): such a reading is rounded to 0.000001 kWh as it is converted,
// so a period's energy is off from the true one by less than 0.000001 kWh.
const energyUnits = new Map<number, Factor>([
  [0x01, [1n, 1000n]], // Wh
  [0x02, [1n, 1n]], // kWh
  [0x03, [1000n, 1n]], // MWh
  [0x04, [1_000_000n, 1n]], // GWh
  [0x06, [1n, 3600n]], // kJ
  [0x07, [10n, 36n]], // MJ
  [0x08, [10_000n, 36n]], // GJ
  [0x39, [100_000n, 36n]], // GJ×10
  [0x0a, [1163n, 1_000_000n]], // kcal (1 kcal = 4.1868 kJ = 1.163 Wh, exactly)
  [0x0b, [1163n, 1000n]], // Mcal
  [0x0c, [1163n, 1n]], // Gcal
]);
const unitsOf: Readonly<Record<Quantity | 'power', ReadonlyMap<number, Factor>>> = {
  energy: energyUnits,
  volume: new Map([[0x27, [1n, 1000n]], [0x28, [1n, 1n]], [0x37, [10n, 1n]]]), // l, m³, m³×10
  hours: new Map([[0x2e, [1n, 1n]], [0x3e, [24n, 1n]]]), // h, days
  m3t1: new Map([[0x2b, [1n, 1n]]]), // m³×°C
  m3t2: new Map([[0x2b, [1n, 1n]]]),
  power: new Map([[0x15, [1n, 1000n]], [0x16, [1n, 1n]], [0x17, [1000n, 1n]]]), // W, kW, MW
};

/** A register reading as the series need it. */
export interface SampleReading {
  readonly registerId: number;
  readonly value: string;
  readonly unitCode: number;
  readonly text?: string | null;
}

/** One job run of one meter. */
export interface RunSample {
  /** Epoch ms. */
  readonly at: number;
  readonly simulated: boolean;
  readonly readings: readonly SampleReading[];
}

export interface SeriesPoint {
  readonly at: number;
  /** At the fixed scale, in the figure's unit. */
  readonly value: bigint;
}

/** What a meter's figures go on from: saved after every run. */
export interface MeterSeriesState {
  /** The newest value of each counter. */
  readonly points: Readonly<Partial<Record<Quantity, SeriesPoint>>>;
  /** The newest run that read a counter: gaps are measured from it. */
  readonly seriesAt: number | null;
  /** The newest run that fed the figures; a run before it comes out of order. */
  readonly lastAt: number | null;
  /** The meter's target date (register 98), once read. */
  readonly billing: MonthDay | null;
}

export const emptySeriesState: MeterSeriesState = { points: {}, seriesAt: null, lastAt: null, billing: null };

export interface SeriesOptions {
  readonly calendar: Calendar;
  /** An interval between readings longer than this is a gap. */
  readonly gapMs: number;
  /** Used until the meter's own target date is read. */
  readonly billing: MonthDay | null;
}

export interface SeriesUpdate {
  readonly state: MeterSeriesState;
  /** What the run adds to each period it touches (none for a run out of order). */
  readonly deltas: readonly PeriodFigures[];
  /** The run was read before the newest one already counted (a clock that jumped back): it changes nothing. */
  readonly outOfOrder: boolean;
}

/** A target date's month and day from its text ("06-01", "2026-06-01"); null when there is none. */
export function monthDayOf(text: string | null | undefined): MonthDay | null {
  const match = /(\d{2})-(\d{2})$/.exec(text ?? '');
  if (match === null) return null;
  const month = Number(match[1]);
  const day = Number(match[2]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 ? { month, day } : null;
}

function convert(quantity: Quantity | 'power', reading: SampleReading): bigint | null {
  const factor = unitsOf[quantity].get(reading.unitCode);
  return factor === undefined ? null : scaled(reading.value, factor[0], factor[1]);
}

/** What one run adds to one local day; mutable while the run is fed. */
interface DayDelta {
  readonly sums: Partial<Record<Quantity, bigint>>;
  gapMs: number;
  resets: number;
  simulated: boolean;
  peak: PeakPower | null;
}

/** Feeds one run into a meter's series: the new state and what the run adds to each period. */
export function addRun(state: MeterSeriesState, run: RunSample, options: SeriesOptions): SeriesUpdate {
  if (state.lastAt !== null && run.at < state.lastAt) return { state, deltas: [], outOfOrder: true };
  const values = new Map<Quantity, bigint>();
  let power: bigint | null = null;
  let billing = state.billing;
  for (const reading of run.readings) {
    const quantity = quantityOfRegister.get(reading.registerId);
    if (quantity !== undefined) {
      const value = convert(quantity, reading);
      if (value !== null) values.set(quantity, value);
    } else if (reading.registerId === POWER_REGISTER) power = convert('power', reading);
    else if (reading.registerId === TARGET_DATE_REGISTER) billing = monthDayOf(reading.text) ?? billing;
  }
  if (values.size === 0 && power === null && billing === state.billing) return { state, deltas: [], outOfOrder: false };
  const { calendar } = options;
  // First by local day (a run nearly always touches one), then once per day into every kind of period.
  const days = new Map<number, DayDelta>();
  const dayOf = (ms: number): DayDelta => {
    const start = calendar.dayAt(ms).start;
    let day = days.get(start);
    if (day === undefined) days.set(start, (day = { sums: {}, gapMs: 0, resets: 0, simulated: run.simulated, peak: null }));
    return day;
  };
  const points: Partial<Record<Quantity, SeriesPoint>> = { ...state.points };
  let seriesAt = state.seriesAt;
  if (values.size > 0) {
    const since = state.seriesAt;
    if (since !== null && run.at > since && (run.at - since > options.gapMs || run.simulated)) {
      const gap = run.at - since > options.gapMs;
      for (const part of calendar.dayParts(since, run.at)) dayOf(part.start).gapMs += gap ? part.end - part.start : 0;
    }
    let reset = false;
    for (const [quantity, value] of values) {
      const previous = points[quantity];
      if (previous !== undefined && run.at <= previous.at) continue;
      points[quantity] = { at: run.at, value };
      if (previous === undefined) continue;
      if (value < previous.value) {
        reset = true;
        continue;
      }
      const difference = value - previous.value;
      const span = BigInt(run.at - previous.at);
      // Cumulative rounding: each part is the rounded share up to its end less the rounded share up to its start.
      const upTo = (ms: number): bigint => divideRounded(difference * BigInt(ms - previous.at), span);
      for (const part of calendar.dayParts(previous.at, run.at)) {
        const { sums } = dayOf(part.start);
        sums[quantity] = (sums[quantity] ?? 0n) + upTo(part.end) - upTo(part.start);
      }
    }
    if (reset) dayOf(run.at).resets += 1;
    if (seriesAt === null || run.at > seriesAt) seriesAt = run.at;
  }
  if (power !== null) dayOf(run.at).peak = { kw: power, at: run.at };
  const billingDate = billing ?? options.billing ?? DEFAULT_BILLING_DATE;
  const deltas = new Map<string, PeriodFigures>();
  for (const [start, day] of days) {
    for (const period of calendar.periodsAt(start, billingDate)) {
      const key = `${period.kind}@${period.start}`;
      deltas.set(key, addFigures(deltas.get(key), { ...period, ...day }));
    }
  }
  return { state: { points, seriesAt, lastAt: run.at, billing }, deltas: [...deltas.values()], outOfOrder: false };
}
