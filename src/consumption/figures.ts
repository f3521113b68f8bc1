// A period's figures: exact sums at the fixed scale (decimal.ts), and what is derived from them
// (means, the cooling figure) only when shown or sent.

import { formatScaled, ratio } from './decimal.js';
import type { Period } from './periods.js';

/** The counters whose differences are summed per period. */
export const quantities = ['energy', 'volume', 'hours', 'm3t1', 'm3t2'] as const;
export type Quantity = (typeof quantities)[number];

export interface PeakPower {
  /** kW at the fixed scale. */
  readonly kw: bigint;
  /** When it was read (epoch ms); the first reading of the highest value. */
  readonly at: number;
}

export interface PeriodFigures extends Period {
  /** By quantity, at the fixed scale: energy kWh, volume m³, hours h, m3t1/m3t2 m³×°C. Absent when never read in the period. */
  readonly sums: Readonly<Partial<Record<Quantity, bigint>>>;
  readonly peak: PeakPower | null;
  /** Time within the period covered by intervals between readings longer than the gap threshold. */
  readonly gapMs: number;
  /** Intervals ending in the period in which a counter went down (meter replaced or reset). */
  readonly resets: number;
  /** Fed by a run recorded from the simulator's model, not read from a meter. */
  readonly simulated: boolean;
}

/** Both sets of figures of one period added together: sums add, the higher peak (the earlier on a tie) wins. */
export function addFigures(base: PeriodFigures | undefined, more: PeriodFigures): PeriodFigures {
  if (base === undefined) return more;
  const sums: Partial<Record<Quantity, bigint>> = { ...base.sums };
  for (const quantity of quantities) {
    const value = more.sums[quantity];
    if (value !== undefined) sums[quantity] = (sums[quantity] ?? 0n) + value;
  }
  const peak = base.peak === null ? more.peak : more.peak === null ? base.peak : more.peak.kw > base.peak.kw || (more.peak.kw === base.peak.kw && more.peak.at < base.peak.at) ? more.peak : base.peak;
  return { ...base, sums, peak, gapMs: base.gapMs + more.gapMs, resets: base.resets + more.resets, simulated: base.simulated || more.simulated };
}

/**
 * Water's volumetric heat capacity for a ΔT estimated from energy and volume, when the meter's
 * m³×T registers are not read: 1.163 kWh/(m³·K), i.e. 1 kcal per litre and kelvin. The meter's
 * own k-factor depends on the temperatures (EN 1434) and differs from it by a few per cent.
 */
const WATER_KWH_PER_M3_K = { numerator: 1163n, denominator: 1000n };

/** What a period's figures come to, as exact or rounded decimal text (never a float). */
export interface DerivedFigures {
  readonly energyKwh: string | null;
  readonly volumeM3: string | null;
  readonly hours: string | null;
  readonly peakPowerKw: string | null;
  readonly peakPowerAt: number | null;
  /** Volume-weighted means, °C, rounded to 0.01: Δ(m³×T) / ΔV, as the meter weighs them. */
  readonly t1Mean: string | null;
  readonly t2Mean: string | null;
  /** K, rounded to 0.01: from the m³×T registers, else estimated from energy and volume (dtSource). */
  readonly dtMean: string | null;
  readonly dtSource: 'm3xT' | 'energy' | null;
  /** m³ per MWh, rounded to 0.001. */
  readonly coolingM3PerMwh: string | null;
  /** Hours, rounded to 0.001. */
  readonly gapHours: string;
}

export function derive(figures: PeriodFigures): DerivedFigures {
  const { energy, volume, hours, m3t1, m3t2 } = figures.sums;
  const show = (value: bigint | undefined): string | null => (value === undefined ? null : formatScaled(value));
  const perVolume = (value: bigint | undefined): string | null => (value === undefined || volume === undefined ? null : ratio(value, volume, 2));
  let dtMean: string | null = null;
  let dtSource: DerivedFigures['dtSource'] = null;
  if (m3t1 !== undefined && m3t2 !== undefined && volume !== undefined && volume > 0n) {
    dtMean = ratio(m3t1 - m3t2, volume, 2);
    dtSource = 'm3xT';
  } else if (energy !== undefined && volume !== undefined && volume > 0n) {
    dtMean = ratio(energy * WATER_KWH_PER_M3_K.denominator, volume * WATER_KWH_PER_M3_K.numerator, 2);
    dtSource = 'energy';
  }
  return {
    energyKwh: show(energy),
    volumeM3: show(volume),
    hours: show(hours),
    peakPowerKw: figures.peak === null ? null : formatScaled(figures.peak.kw),
    peakPowerAt: figures.peak?.at ?? null,
    t1Mean: perVolume(m3t1),
    t2Mean: perVolume(m3t2),
    dtMean,
    dtSource,
    coolingM3PerMwh: volume === undefined || energy === undefined ? null : ratio(volume * 1000n, energy, 3),
    gapHours: ratio(BigInt(figures.gapMs), 3_600_000n, 3) ?? '0.000',
  };
}
