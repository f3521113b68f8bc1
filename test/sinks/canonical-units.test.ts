import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shiftDecimal, toCanonical } from '../../src/sinks/canonical-units.js';

describe('canonical units', () => {
  it('moves the decimal point exactly for powers of ten', () => {
    assert.equal(shiftDecimal('55.648', 3), '55648');
    assert.equal(shiftDecimal('55.6481', 3), '55648.1');
    assert.equal(shiftDecimal('0.5', 3), '500');
    assert.equal(shiftDecimal('12300', -3), '12.300');
    assert.equal(shiftDecimal('5', -3), '0.005');
    assert.equal(shiftDecimal('-0.74', 0), '-0.74');
    assert.equal(shiftDecimal('-1.5', 1), '-15');
    assert.equal(shiftDecimal('0.0', 3), '0');
  });

  it('converts energy, power, volume and flow to kWh, kW, m³ and l/h', () => {
    assert.deepEqual(toCanonical('55.648', 0x03), { value: 55648, unit: 'kWh' });
    assert.deepEqual(toCanonical('55648', 0x02), { value: 55648, unit: 'kWh' });
    assert.deepEqual(toCanonical('12300', 0x15), { value: 12.3, unit: 'kW' });
    assert.deepEqual(toCanonical('1234567', 0x27), { value: 1234.567, unit: 'm³' });
    assert.deepEqual(toCanonical('0.812', 0x2a), { value: 812, unit: 'l/h' });
    assert.equal(toCanonical('200.33', 0x08).unit, 'kWh');
    assert.ok(Math.abs(toCanonical('200.33', 0x08).value - 55647.2222) < 0.001, 'GJ → kWh');
    assert.ok(Math.abs(toCanonical('47.85', 0x0c).value - 55649.55) < 0.001, 'Gcal → kWh');
  });

  it('keeps temperatures and leaves unitless values alone', () => {
    assert.deepEqual(toCanonical('63.44', 0x25), { value: 63.44, unit: '°C' });
    assert.deepEqual(toCanonical('-0.74', 0x26), { value: -0.74, unit: 'K' });
    assert.deepEqual(toCanonical('34140', 0x2e), { value: 34140, unit: null });
  });
});
