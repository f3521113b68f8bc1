// A simulated MULTICAL 402 heat meter: a small house on district heating whose values move
// plausibly with the season and the hour. Power follows the weather and the household's day,
// flow follows from power and ΔT (P = q × ΔT × 1.163 kWh/(m³·K)), energy and volume integrate
// them, and the monthly/yearly min/max of hourly averages, with their dates, follow as the
// meter keeps them. All values are answered in the meter's own encodings.

import {
  CommandId,
  encodeGetRegisterResponse,
  encodeGetSerialNoResponse,
  encodeGetTypeResponse,
  type ApplicationMessage,
  type KmpNumber,
  type KmpRequest,
  type RegisterAnswer,
} from '../kmp/index.js';

export const energyUnits = ['kWh', 'MWh', 'GJ'] as const;
export type EnergyUnit = (typeof energyUnits)[number];

export interface Multical402Options {
  /** Varies the weather and the household; the same seed gives the same values for the same time. */
  readonly seed?: number;
  readonly serialNumber?: number;
  /** The meter's configured energy unit (register 60's unit byte follows it). */
  readonly energyUnit?: EnergyUnit;
  /** Simulated seconds per real second, to watch months pass in minutes. */
  readonly speed?: number;
  /** Wall clock, injectable for tests. */
  readonly now?: () => number;
  /**
   * The counters hold their base values at the start of this instant's year (default: the
   * start's). `simulate --history` starts years earlier and passes the present, so that its
   * history ends exactly where a simulator started this year continues.
   */
  readonly baseYearOf?: number;
}

/** Kamstrup does not publish a type code for the 402 in the sources used here: the simulator uses its own. */
export const SIMULATED_402_TYPE = 0x0402;
export const SIMULATED_402_REVISION = 'G1';

/** Configuration registers: fixed, made-up numbers (a real meter's come from its order). */
const PROGRAM_NUMBER = 15016105;
const CONFIG_NUMBER_1 = 11316;
const CONFIG_NUMBER_2 = 0;

const STEP_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Specific heat of water per volume, kWh/(m³·K): P[kW] = q[m³/h] × ΔT[K] × 1.163. */
const WATER_HEAT_CAPACITY = 1.163;

interface Extreme {
  value: number;
  date: number; // yymmdd, 0 = none yet
}

interface PeriodStatistics {
  maxFlow: Extreme;
  minFlow: Extreme;
  maxPower: Extreme;
  minPower: Extreme;
  t1Sum: number;
  t2Sum: number;
  hours: number;
}

function emptyStatistics(): PeriodStatistics {
  return {
    maxFlow: { value: 0, date: 0 },
    minFlow: { value: 0, date: 0 },
    maxPower: { value: 0, date: 0 },
    minPower: { value: 0, date: 0 },
    t1Sum: 0,
    t2Sum: 0,
    hours: 0,
  };
}

/** The cumulative registers. */
interface Counters {
  energyKwh: number;
  volumeM3: number;
  m3T1: number;
  m3T2: number;
  hours: number;
}

/** A meter installed years ago: the counters at the base year's start, a history behind them. */
function baseCounters(seed: number): Counters {
  const volumeM3 = 1_900 + (seed % 100) * 3;
  return { energyKwh: 48_000 + (seed % 1000) * 7, volumeM3, m3T1: volumeM3 * 62, m3T2: volumeM3 * 38, hours: 26_280 };
}

function newYearOf(time: number): number {
  return new Date(new Date(time).getFullYear(), 0, 1).getTime();
}

interface Instant {
  powerKw: number;
  flowLh: number;
  t1: number;
  t2: number;
}

export class SimulatedMultical402 {
  readonly serialNumber: number;
  readonly energyUnit: EnergyUnit;
  private readonly seed: number;
  private readonly speed: number;
  private readonly wallClock: () => number;
  private readonly startedAt: number;
  private readonly simulatedStart: number;
  private time = 0;
  private counters: Counters;
  private readonly base: { readonly at: number; readonly counters: Counters };
  /** Whether reaching the base year's start sets the counters to their base values. */
  private snapAtBase = false;
  private infoEvents = 3;
  private hour = { flow: 0, power: 0, t1: 0, t2: 0, steps: 0 };
  private month = emptyStatistics();
  private periodOf = { year: -1, month: -1 };
  private day = { start: NaN, end: NaN, dayOfYear: 0 };
  private readonly scratch: Instant = { powerKw: 0, flowLh: 0, t1: 0, t2: 0 };
  private year = emptyStatistics();
  private answered: { readonly time: number; readonly registers: Map<number, RegisterAnswer> } | null = null;

  constructor(options: Multical402Options = {}) {
    this.seed = options.seed ?? 402;
    this.serialNumber = options.serialNumber ?? 70000402;
    this.energyUnit = options.energyUnit ?? 'MWh';
    this.speed = options.speed ?? 1;
    this.wallClock = options.now ?? Date.now;
    this.startedAt = this.wallClock();
    this.simulatedStart = this.startedAt;
    // The year so far is simulated from its start, so the statistics registers hold real extremes.
    this.base = { at: newYearOf(options.baseYearOf ?? this.startedAt), counters: baseCounters(this.seed) };
    const begin = Math.min(newYearOf(this.startedAt), this.base.at);
    this.counters = { ...this.base.counters };
    if (begin < this.base.at) {
      // The years before the base year once to learn their use, then again from counters that
      // much lower, so they reach the base values at its start.
      this.restart(begin, this.base.counters);
      this.advanceTo(this.base.at);
      const used = this.counters;
      const b = this.base.counters;
      this.restart(begin, {
        energyKwh: 2 * b.energyKwh - used.energyKwh,
        volumeM3: 2 * b.volumeM3 - used.volumeM3,
        m3T1: 2 * b.m3T1 - used.m3T1,
        m3T2: 2 * b.m3T2 - used.m3T2,
        hours: 2 * b.hours - used.hours,
      });
      this.snapAtBase = true;
    } else {
      this.restart(begin, this.base.counters);
    }
    this.advanceTo(this.startedAt);
  }

  private restart(at: number, counters: Counters): void {
    this.time = at;
    this.counters = { ...counters };
    this.hour = { flow: 0, power: 0, t1: 0, t2: 0, steps: 0 };
    this.month = emptyStatistics();
    this.year = emptyStatistics();
    this.periodOf = { year: -1, month: -1 };
  }

  /** Simulated time now, as epoch milliseconds. */
  simulatedNow(): number {
    return this.simulatedStart + (this.wallClock() - this.startedAt) * this.speed;
  }

  /** The meter's side of one exchange; null means the meter stays silent. */
  answer(request: KmpRequest): ApplicationMessage | null {
    switch (request.command) {
      case 'get-type':
        return { commandId: CommandId.GetType, data: encodeGetTypeResponse({ meterType: SIMULATED_402_TYPE, softwareRevision: SIMULATED_402_REVISION }) };
      case 'get-serial-no':
        return { commandId: CommandId.GetSerialNo, data: encodeGetSerialNoResponse(this.serialNumber) };
      case 'get-register': {
        const registers = this.registers();
        const answers = request.registerIds.flatMap((id) => registers.get(id) ?? []);
        return { commandId: CommandId.GetRegister, data: encodeGetRegisterResponse(answers) };
      }
    }
  }

  /** Every register this meter answers, as it would encode it now. */
  registers(): Map<number, RegisterAnswer> {
    const time = this.simulatedNow();
    // A run's batches come at one moment when the clock is a tick (simulate --history): answer them from one state.
    if (this.answered?.time === time) return this.answered.registers;
    this.advanceTo(time);
    const now = this.instant(time);
    const date = new Date(time);
    const energy = this.encodedEnergy(this.counters.energyKwh);
    const c = this.counters;
    const m = this.month;
    const y = this.year;
    const answers: [number, number, KmpNumber][] = [
      [60, energy.unitCode, energy.value],
      [63, energy.unitCode, { ...energy.value, mantissa: 0n }],
      [64, energy.unitCode, { ...energy.value, mantissa: 0n }],
      [66, 0x00, fixed(0, 0)],
      [67, 0x00, fixed(0, 0)],
      [68, 0x28, fixed(c.volumeM3, 2)],
      [74, 0x29, fixed(now.flowLh, 0)],
      [80, 0x16, fixed(now.powerKw, 1)],
      [86, 0x25, fixed(now.t1, 2)],
      [87, 0x25, fixed(now.t2, 2)],
      [84, 0x28, fixed(0, 2)],
      [85, 0x28, fixed(0, 2)],
      [89, 0x26, fixed(now.t1 - now.t2, 2)],
      [97, 0x2b, fixed(c.m3T1, 0)],
      [110, 0x2b, fixed(c.m3T2, 0)],
      [98, 0x32, fixed(601, 0)],
      [99, 0x00, fixed(0, 0)],
      [113, 0x00, fixed(this.infoEvents, 0)],
      [152, 0x00, fixed(PROGRAM_NUMBER, 0)],
      [153, 0x00, fixed(CONFIG_NUMBER_1, 0)],
      [168, 0x00, fixed(CONFIG_NUMBER_2, 0)],
      [1001, 0x00, fixed(this.serialNumber, 0)],
      [1002, 0x2f, fixed(date.getHours() * 10000 + date.getMinutes() * 100 + date.getSeconds(), 0)],
      [1003, 0x30, fixed(yymmdd(time), 0)],
      [1004, 0x2e, fixed(c.hours, 0)],
      [123, 0x30, fixed(y.maxFlow.date, 0)],
      [124, 0x29, fixed(y.maxFlow.value, 0)],
      [125, 0x30, fixed(y.minFlow.date, 0)],
      [126, 0x29, fixed(y.minFlow.value, 0)],
      [127, 0x30, fixed(y.maxPower.date, 0)],
      [128, 0x16, fixed(y.maxPower.value, 1)],
      [129, 0x30, fixed(y.minPower.date, 0)],
      [130, 0x16, fixed(y.minPower.value, 1)],
      [146, 0x25, fixed(average(y.t1Sum, y.hours), 2)],
      [147, 0x25, fixed(average(y.t2Sum, y.hours), 2)],
      [138, 0x30, fixed(m.maxFlow.date, 0)],
      [139, 0x29, fixed(m.maxFlow.value, 0)],
      [140, 0x30, fixed(m.minFlow.date, 0)],
      [141, 0x29, fixed(m.minFlow.value, 0)],
      [142, 0x30, fixed(m.maxPower.date, 0)],
      [143, 0x16, fixed(m.maxPower.value, 1)],
      [144, 0x30, fixed(m.minPower.date, 0)],
      [145, 0x16, fixed(m.minPower.value, 1)],
      [149, 0x25, fixed(average(m.t1Sum, m.hours), 2)],
      [150, 0x25, fixed(average(m.t2Sum, m.hours), 2)],
    ];
    const registers = new Map(answers.map(([registerId, unitCode, value]) => [registerId, { registerId, unitCode, value, byteCount: 4 }]));
    this.answered = { time, registers };
    return registers;
  }

  private encodedEnergy(kwh: number): { unitCode: number; value: KmpNumber } {
    switch (this.energyUnit) {
      case 'kWh':
        return { unitCode: 0x02, value: fixed(kwh, 0) };
      case 'MWh':
        return { unitCode: 0x03, value: fixed(kwh / 1000, 3) };
      case 'GJ':
        return { unitCode: 0x08, value: fixed(kwh * 0.0036, 2) };
    }
  }

  /** Integrates in one-minute steps up to `target`; hour boundaries close an averaging period. */
  private advanceTo(target: number): void {
    while (this.time + STEP_MS <= target) {
      const now = this.instant(this.time);
      const hours = STEP_MS / HOUR_MS;
      const c = this.counters;
      c.energyKwh += now.powerKw * hours;
      const cubicMetres = (now.flowLh / 1000) * hours;
      c.volumeM3 += cubicMetres;
      c.m3T1 += cubicMetres * now.t1;
      c.m3T2 += cubicMetres * now.t2;
      this.hour.flow += now.flowLh;
      this.hour.power += now.powerKw;
      this.hour.t1 += now.t1;
      this.hour.t2 += now.t2;
      this.hour.steps++;
      this.time += STEP_MS;
      if (this.time % HOUR_MS === 0) this.closeHour();
      // Exactly the base values, as a simulator started this year has them: no rounding step.
      if (this.snapAtBase && this.time === this.base.at) this.counters = { ...this.base.counters };
    }
  }

  private closeHour(): void {
    const steps = Math.max(1, this.hour.steps);
    const flow = Math.round(this.hour.flow / steps);
    const power = Math.round((this.hour.power / steps) * 10) / 10;
    const closedAt = this.time - 1; // the hour that just ended belongs to its own day
    const date = yymmdd(closedAt);
    // The meter starts new monthly and yearly statistics with the first hour of a new period.
    const closed = new Date(closedAt);
    if (closed.getFullYear() !== this.periodOf.year) this.year = emptyStatistics();
    if (closed.getFullYear() !== this.periodOf.year || closed.getMonth() !== this.periodOf.month) this.month = emptyStatistics();
    this.periodOf = { year: closed.getFullYear(), month: closed.getMonth() };
    for (const period of [this.month, this.year]) {
      const first = period.hours === 0;
      if (first || flow > period.maxFlow.value) period.maxFlow = { value: flow, date };
      if (first || flow < period.minFlow.value) period.minFlow = { value: flow, date };
      if (first || power > period.maxPower.value) period.maxPower = { value: power, date };
      if (first || power < period.minPower.value) period.minPower = { value: power, date };
      period.t1Sum += this.hour.t1 / steps;
      period.t2Sum += this.hour.t2 / steps;
      period.hours++;
    }
    this.counters.hours++;
    this.hour = { flow: 0, power: 0, t1: 0, t2: 0, steps: 0 };
  }

  /** Weather-compensated supply temperature and a household's heat demand at one moment. */
  private instant(time: number): Instant {
    // A year is integrated minute by minute at start-up: find the local day without a Date per step.
    if (!(time >= this.day.start && time < this.day.end)) {
      const date = new Date(time);
      const start = new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
      this.day = {
        start,
        end: new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime(),
        dayOfYear: (start - new Date(date.getFullYear(), 0, 1).getTime()) / 86_400_000,
      };
    }
    const dayOfYear = this.day.dayOfYear + (time - this.day.start) / 86_400_000;
    const hourOfDay = (time - this.day.start) / HOUR_MS;
    const outdoor = 9 - 11 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365) + 3 * this.noise(Math.floor(time / 86_400_000), 1);
    const heatingKw = Math.max(0, 18 - outdoor) * 0.22;
    const dailyProfile = 0.75 + 0.35 * Math.exp(-((hourOfDay - 7) ** 2) / 3) + 0.3 * Math.exp(-((hourOfDay - 19) ** 2) / 5);
    const minute = Math.floor(time / STEP_MS);
    const hotWaterKw = this.noise(minute, 2) > 0.93 ? 18 + 10 * this.noise(minute, 3) : 0;
    const powerKw = Math.max(0, heatingKw * dailyProfile * (0.9 + 0.2 * this.noise(minute, 4)) + hotWaterKw);
    const t1 = Math.min(80, Math.max(58, 60 + Math.max(0, 18 - outdoor) * 0.8)) + 0.6 * this.noise(minute, 5);
    const deltaT = powerKw > 0.05 ? 18 + 14 * Math.min(1, powerKw / 20) + this.noise(minute, 6) : 4 + this.noise(minute, 6);
    // Filled in place: the start-up integration calls this half a million times.
    const out = this.scratch;
    out.powerKw = powerKw;
    out.flowLh = (powerKw / (WATER_HEAT_CAPACITY * deltaT)) * 1000;
    out.t1 = t1;
    out.t2 = t1 - deltaT;
    return out;
  }

  /** Deterministic noise in [0, 1) for a time slot and a channel. */
  private noise(slot: number, channel: number): number {
    let h = (slot * 374761393 + channel * 668265263 + this.seed * 2246822519) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 1274126177) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    return h / 4294967296;
  }
}

/** The meter's fixed-point encoding: `decimals` digits after the point, truncated as a meter displays. */
function fixed(value: number, decimals: number): KmpNumber {
  const scaled = Math.trunc(Math.abs(value) * 10 ** decimals + 1e-9);
  return { negative: value < 0 && scaled !== 0, mantissa: BigInt(scaled), exponent: decimals === 0 ? 0 : -decimals };
}

function average(sum: number, count: number): number {
  return count === 0 ? 0 : sum / count;
}

function yymmdd(time: number): number {
  const d = new Date(time);
  return (d.getFullYear() % 100) * 10000 + (d.getMonth() + 1) * 100 + d.getDate();
}
