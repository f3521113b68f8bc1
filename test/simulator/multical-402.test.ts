// The simulated MULTICAL 402's values move as a real meter's do.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDateTime, formatDecimal, type RegisterAnswer } from '../../src/kmp/index.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';

class ManualClock {
  time: number;
  constructor(start: Date) {
    this.time = start.getTime();
  }
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

function value(registers: Map<number, RegisterAnswer>, id: number): number {
  const answer = registers.get(id);
  assert.ok(answer, `register ${id} answered`);
  return Number(formatDecimal(answer.value));
}

function text(registers: Map<number, RegisterAnswer>, id: number): string | null {
  const answer = registers.get(id);
  assert.ok(answer, `register ${id} answered`);
  return formatDateTime(answer.unitCode, answer.value, new Uint8Array(0));
}

const HOUR = 3_600_000;

describe('simulated MULTICAL 402', () => {
  it('integrates energy and volume, and keeps ΔT = T1 − T2', () => {
    const clock = new ManualClock(new Date(2026, 0, 20, 8, 0, 0));
    const meter = new SimulatedMultical402({ now: clock.now });
    const first = meter.registers();
    clock.advance(6 * HOUR);
    const later = meter.registers();
    assert.ok(value(later, 60) > value(first, 60), 'energy grows in winter');
    assert.ok(value(later, 68) > value(first, 68), 'volume grows');
    assert.ok(value(later, 1004) >= value(first, 1004) + 6, 'operating hours count');
    assert.ok(value(later, 97) > value(first, 97), 'm³×T1 grows');
    for (const registers of [first, later]) {
      const diff = value(registers, 86) - value(registers, 87) - value(registers, 89);
      assert.ok(Math.abs(diff) <= 0.011, `ΔT matches T1 − T2 within the meter's resolution (off by ${diff})`);
      assert.ok(value(registers, 86) > value(registers, 87));
    }
  });

  it('ticks its clock and date in local time', () => {
    const clock = new ManualClock(new Date(2026, 10, 24, 23, 59, 58));
    const meter = new SimulatedMultical402({ now: clock.now });
    let registers = meter.registers();
    assert.equal(text(registers, 1002), '23:59:58');
    assert.equal(text(registers, 1003), '2026-11-24');
    clock.advance(3000);
    registers = meter.registers();
    assert.equal(text(registers, 1002), '00:00:01');
    assert.equal(text(registers, 1003), '2026-11-25');
  });

  it('keeps monthly and yearly extremes with their dates, and starts a new month afresh', () => {
    const clock = new ManualClock(new Date(2026, 2, 31, 20, 0, 0));
    const meter = new SimulatedMultical402({ now: clock.now });
    let registers = meter.registers();
    const maxFlowYear = value(registers, 124);
    assert.ok(maxFlowYear >= value(registers, 139), 'the year max covers the month max');
    assert.ok(value(registers, 126) <= value(registers, 141), 'the year min is below the month min');
    assert.ok(value(registers, 128) >= value(registers, 143));
    assert.match(text(registers, 138) ?? '', /^2026-03-\d\d$/);
    assert.match(text(registers, 123) ?? '', /^2026-0[1-3]-\d\d$/);
    assert.ok(value(registers, 146) > value(registers, 147), 'average T1 above average T2');

    clock.advance(6 * HOUR); // into April
    registers = meter.registers();
    assert.match(text(registers, 138) ?? '', /^2026-04-01$/);
    assert.match(text(registers, 142) ?? '', /^2026-04-01$/);
    assert.ok(value(registers, 124) >= maxFlowYear, 'the year max never drops within a year');
  });

  it('answers the energy register in the configured unit', () => {
    const clock = new ManualClock(new Date(2026, 5, 1));
    const kwh = new SimulatedMultical402({ now: clock.now, energyUnit: 'kWh' }).registers().get(60);
    const gj = new SimulatedMultical402({ now: clock.now, energyUnit: 'GJ' }).registers().get(60);
    assert.equal(kwh?.unitCode, 0x02);
    assert.equal(kwh?.value.exponent, 0);
    assert.equal(gj?.unitCode, 0x08);
    assert.equal(gj?.value.exponent, -2);
  });

  it('gives the same values for the same seed and time', () => {
    const clock = new ManualClock(new Date(2026, 1, 14, 12, 0, 0));
    const a = new SimulatedMultical402({ now: clock.now, seed: 7 }).registers();
    const b = new SimulatedMultical402({ now: clock.now, seed: 7 }).registers();
    assert.deepEqual(a, b);
  });
});
