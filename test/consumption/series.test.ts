// The arithmetic of consumption figures, without a database: exact splits at local midnights,
// DST days of 23 and 25 hours, resets, gaps, units.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addFigures, addRun, Calendar, derive, emptySeriesState, formatScaled, scaled, type MeterSeriesState, type PeriodFigures, type RunSample } from '../../src/consumption/index.js';
import { Zone } from '../../src/time/zone.js';

const amsterdam = new Calendar(new Zone('Europe/Amsterdam'));
const options = { calendar: amsterdam, gapMs: 2 * 3_600_000, billing: null };

function energy(at: string, mwh: string, simulated = false): RunSample {
  return { at: Date.parse(at), simulated, readings: [{ registerId: 60, value: mwh, unitCode: 0x03 }] };
}

/** Feeds the runs and sums every period's deltas, as the store does. */
function feed(runs: readonly RunSample[], state: MeterSeriesState = emptySeriesState): Map<string, PeriodFigures> {
  const periods = new Map<string, PeriodFigures>();
  for (const run of runs) {
    const update = addRun(state, run, options);
    state = update.state;
    for (const delta of update.deltas) periods.set(`${delta.kind} ${delta.label}`, addFigures(periods.get(`${delta.kind} ${delta.label}`), delta));
  }
  return periods;
}

const energyOf = (periods: Map<string, PeriodFigures>, key: string): string | null => derive(periods.get(key) ?? assert.fail(`no period ${key}`)).energyKwh;

describe('consumption series', () => {
  it('splits an interval that straddles midnight in proportion to time, the parts summing exactly to the difference', () => {
    // 23:00 → 02:00 local (UTC+1 in January): one hour before midnight, two after; 1 kWh.
    const periods = feed([energy('2026-01-12T22:00:00Z', '10.000'), energy('2026-01-13T01:00:00Z', '10.001')]);
    assert.equal(energyOf(periods, 'day 2026-01-12'), '0.333333');
    assert.equal(energyOf(periods, 'day 2026-01-13'), '0.666667');
    assert.equal(energyOf(periods, 'month 2026-01'), '1');
    assert.equal(energyOf(periods, 'week 2026-W03'), '1');
    // Each part is rounded to the nearest 0.000001, never just cut off.
    const later = feed([energy('2026-01-12T21:00:00Z', '10.000'), energy('2026-01-13T00:00:00Z', '10.001')]);
    assert.deepEqual([energyOf(later, 'day 2026-01-12'), energyOf(later, 'day 2026-01-13')], ['0.666667', '0.333333']);
  });

  it('gives the 23-hour spring day and the 25-hour autumn day their own share', () => {
    // 24 kWh from midnight to midnight at a steady rate across each change day and the day after.
    const spring = feed([energy('2026-03-28T23:00:00Z', '0'), energy('2026-03-30T22:00:00Z', '0.047')]);
    assert.equal(energyOf(spring, 'day 2026-03-29'), '23');
    assert.equal(energyOf(spring, 'day 2026-03-30'), '24');
    const autumn = feed([energy('2026-10-24T22:00:00Z', '0'), energy('2026-10-26T23:00:00Z', '0.049')]);
    assert.equal(energyOf(autumn, 'day 2026-10-25'), '25');
    assert.equal(energyOf(autumn, 'day 2026-10-26'), '24');
  });

  it('starts a new series when a counter goes down, counting the reset and no negative use', () => {
    const periods = feed([energy('2026-01-12T10:00:00Z', '5.000'), energy('2026-01-12T10:05:00Z', '5.002'), energy('2026-01-12T10:10:00Z', '0.001'), energy('2026-01-12T10:15:00Z', '0.004')]);
    const day = periods.get('day 2026-01-12') ?? assert.fail();
    assert.equal(derive(day).energyKwh, '5');
    assert.equal(day.resets, 1);
  });

  it('marks a gap on every period it touches, and spreads it all the same', () => {
    const periods = feed([energy('2026-01-11T23:00:00Z', '1.000'), energy('2026-01-13T23:00:00Z', '1.048')]);
    for (const key of ['day 2026-01-12', 'day 2026-01-13']) {
      assert.equal(derive(periods.get(key) ?? assert.fail()).gapHours, '24.000');
      assert.equal(energyOf(periods, key), '24');
    }
    assert.equal(derive(periods.get('month 2026-01') ?? assert.fail()).gapHours, '48.000');
  });

  it('ignores a run read before the last one counted, and says so', () => {
    const first = addRun(emptySeriesState, energy('2026-01-12T10:05:00Z', '1.000'), options);
    const late = addRun(first.state, energy('2026-01-12T10:00:00Z', '0.999'), options);
    assert.equal(late.outOfOrder, true);
    assert.deepEqual(late.deltas, []);
    assert.equal(late.state, first.state);
  });

  it('converts GJ to kWh rounded to 0.000001 kWh, and Gcal exactly', () => {
    assert.equal(formatScaled(scaled('1.000', 10_000n, 36n)), '277.777778');
    const gj = feed([
      { at: Date.parse('2026-01-12T10:00:00Z'), simulated: false, readings: [{ registerId: 60, value: '100.00', unitCode: 0x08 }] },
      { at: Date.parse('2026-01-12T11:00:00Z'), simulated: false, readings: [{ registerId: 60, value: '100.01', unitCode: 0x08 }] },
    ]);
    assert.equal(energyOf(gj, 'day 2026-01-12'), '2.777778');
    assert.equal(formatScaled(scaled('2.5', 1163n, 1n)), '2907.5');
  });

  it('derives volume-weighted mean temperatures from the m³×T registers, and ΔT from energy otherwise', () => {
    const m3t = (at: string, v: string, e: string, t1: string, t2: string): RunSample => ({
      at: Date.parse(at),
      simulated: false,
      readings: [
        { registerId: 60, value: e, unitCode: 0x02 },
        { registerId: 68, value: v, unitCode: 0x28 },
        { registerId: 97, value: t1, unitCode: 0x2b },
        { registerId: 110, value: t2, unitCode: 0x2b },
        { registerId: 80, value: '3.4', unitCode: 0x16 },
      ],
    });
    const periods = feed([m3t('2026-01-12T10:00:00Z', '100.00', '5000', '7000', '4000'), m3t('2026-01-12T11:00:00Z', '100.40', '5010', '7028.4', '4016.2')]);
    const day = derive(periods.get('day 2026-01-12') ?? assert.fail());
    assert.deepEqual([day.t1Mean, day.t2Mean, day.dtMean, day.dtSource, day.coolingM3PerMwh, day.peakPowerKw], ['71.00', '40.50', '30.50', 'm3xT', '40.000', '3.4']);
    const estimated = derive({ ...(periods.get('day 2026-01-12') ?? assert.fail()), sums: { energy: scaled('10'), volume: scaled('0.4') } });
    assert.deepEqual([estimated.dtMean, estimated.dtSource], ['21.50', 'energy']);
  });
});
