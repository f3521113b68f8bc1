// The InfluxDB line of a job run, and proof that it is byte for byte what the client library's
// Point class writes for the same run: over every catalogue register in every unit, escapes in
// every tag and key, duplicate and missing fields, and both timestamp precisions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Point } from '@influxdata/influxdb-client';
import { isDateTimeUnit, unitSymbols } from '../../src/kmp/index.js';
import { registerById, registerCatalogue } from '../../src/registers/index.js';
import { toCanonical } from '../../src/sinks/canonical-units.js';
import { fieldName, MEASUREMENT, toLine, type LinePrecision, type PointReading, type PointRun } from '../../src/sinks/influxdb/point.js';

/** The reference: the same point built with the client library's Point class. */
function pointLine(run: PointRun, precision: LinePrecision): string | null {
  const point = new Point(MEASUREMENT).tag('meter', run.meter).tag('model', run.model).timestamp(run.readAt);
  if (run.serial !== null) point.tag('serial', String(run.serial));
  for (const reading of run.readings) {
    if (isDateTimeUnit(reading.unitCode)) {
      if (reading.text) point.stringField(fieldName(reading), reading.text);
      continue;
    }
    const { value } = toCanonical(reading.value, reading.unitCode);
    if (registerById(reading.registerId)?.quantity === 'code') point.intField(fieldName(reading), value);
    else point.floatField(fieldName(reading), value);
  }
  const settings = precision === 'ms' ? { convertTime: (time: unknown) => String(time instanceof Date ? time.getTime() : time) } : undefined;
  return point.toLineProtocol(settings) ?? null;
}

function run(readings: readonly PointReading[], overrides: Partial<PointRun> = {}): PointRun {
  return { meter: 'home', serial: 70000402, model: 'multical-402', readAt: new Date('2026-11-17T06:00:00.000Z'), readings, ...overrides };
}

function assertSameAsPoint(subject: PointRun, message?: string): void {
  for (const precision of ['ms', 'ns'] as const) assert.equal(toLine(subject, precision), pointLine(subject, precision), message);
}

describe('InfluxDB point of a job run', () => {
  it('has the meter tags, canonical fields, date text and the read time', () => {
    const line = toLine(
      run([
        { registerId: 60, name: 'heat_energy', value: '55.648', unitCode: 0x03, text: null },
        { registerId: 86, name: 't1', value: '63.44', unitCode: 0x25, text: null },
        { registerId: 99, name: 'info', value: '0', unitCode: 0x00, text: null },
        { registerId: 138, name: 'max_flow_date_month', value: '261117', unitCode: 0x30, text: '2026-11-17' },
        { registerId: 140, name: 'min_flow_date_month', value: '0', unitCode: 0x30, text: null },
        { registerId: 4242, name: null, value: '1.5', unitCode: 0x00, text: null },
      ]),
      'ns',
    );
    assert.equal(
      line,
      'kamstrup,meter=home,model=multical-402,serial=70000402 heat_energy=55648,info=0i,max_flow_date_month="2026-11-17",register_4242=1.5,t1=63.44 ' +
        `${Date.UTC(2026, 10, 17, 6)}000000`,
    );
  });

  it('writes what Point writes for every catalogue register in every unit', () => {
    const values = ['0', '1', '-0.74', '55.648', '0.005', '12300', '18446744073709', '4294967295'];
    for (const unitCode of [...unitSymbols.keys()].filter((code) => !isDateTimeUnit(code))) {
      const readings = registerCatalogue.map((register, i) => ({ registerId: register.id, name: register.name, value: values[i % values.length] ?? '0', unitCode, text: null }));
      assertSameAsPoint(run(readings), `unit 0x${unitCode.toString(16)}`);
    }
  });

  it('writes what Point writes for dates, empty dates and text that needs escaping', () => {
    const dates = [
      { registerId: 138, name: 'max_flow_date_month', value: '261117', unitCode: 0x30, text: '2026-11-17' },
      { registerId: 140, name: 'min_flow_date_month', value: '0', unitCode: 0x30, text: null },
      { registerId: 1002, name: 'clock', value: '60243', unitCode: 0x2f, text: '06:02:43' },
      { registerId: 9999, name: 'odd "text" \\ here', value: '0', unitCode: 0x31, text: 'a "quoted" \\ back\nslash' },
    ];
    assertSameAsPoint(run(dates));
    assert.equal(toLine(run([dates[1] as PointReading]), 'ms'), null, 'a run of empty dates has no field');
    assert.equal(pointLine(run([dates[1] as PointReading]), 'ms'), null);
  });

  it('escapes tags and keys as Point does, and leaves an empty tag out', () => {
    const readings = [
      { registerId: 4001, name: 'with space', value: '1', unitCode: 0x25, text: null },
      { registerId: 4002, name: 'comma,equals=tab\tnew\nline\rreturn', value: '2', unitCode: 0x25, text: null },
      { registerId: 4003, name: 'ünïcode_°C', value: '3', unitCode: 0x25, text: null },
      { registerId: 4004, name: 'A_upper', value: '4', unitCode: 0x25, text: null },
    ];
    for (const meter of ['home', 'my home', 'a,b=c', 'tab\there', 'wärme', '']) {
      for (const model of ['multical-402', 'model with space']) assertSameAsPoint(run(readings, { meter, model }), `${meter} ${model}`);
    }
    assertSameAsPoint(run(readings, { serial: null }));
  });

  it('keeps the last value of a key given twice, in its sorted place, as Point does', () => {
    assertSameAsPoint(
      run([
        { registerId: 4001, name: 'b', value: '1', unitCode: 0x25, text: null },
        { registerId: 4002, name: 'a', value: '2', unitCode: 0x25, text: null },
        { registerId: 4003, name: 'b', value: '3', unitCode: 0x25, text: null },
        { registerId: 4004, name: 'a-b', value: '4', unitCode: 0x25, text: null },
      ]),
    );
  });

  it('writes timestamps before 1970 and far ahead as Point does', () => {
    const readings = [{ registerId: 60, name: 'heat_energy', value: '1', unitCode: 0x02, text: null }];
    for (const readAt of [new Date(-86_400_000), new Date(0), new Date('2099-12-31T23:59:59.999Z')]) assertSameAsPoint(run(readings, { readAt }));
  });
});
