// The InfluxDB line of a job run, and proof that it is byte for byte what the client library's
// Point class writes for the same run: over every catalogue register in every unit, escapes in
// every tag and key, duplicate and missing fields, and both timestamp precisions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Point } from '@influxdata/influxdb-client';
import { isDateTimeUnit, unitSymbols } from '../../src/kmp/index.js';
import { registerById, registerCatalogue } from '../../src/registers/index.js';
import { toCanonical } from '../../src/sinks/canonical-units.js';
import { scaled, type PeriodFigures } from '../../src/consumption/index.js';
import { CONSUMPTION_MEASUREMENT, consumptionLine, fieldName, influxLines, MEASUREMENT, toLine, type LinePrecision, type PointReading, type PointRun } from '../../src/sinks/influxdb/point.js';

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

describe('InfluxDB point of a consumption period', () => {
  const day: PeriodFigures = {
    kind: 'day',
    start: Date.parse('2026-11-16T23:00:00Z'),
    end: Date.parse('2026-11-17T23:00:00Z'),
    label: '2026-11-17',
    sums: { energy: scaled('61.25'), volume: scaled('1.5'), hours: scaled('24'), m3t1: scaled('106.5'), m3t2: scaled('60') },
    peak: { kw: scaled('4.2'), at: Date.parse('2026-11-17T06:00:00Z') },
    gapMs: 1_800_000,
    resets: 1,
    simulated: false,
  };

  it('is what Point writes: tags meter and period, the exact figures as floats, at the period start', () => {
    const point = new Point(CONSUMPTION_MEASUREMENT)
      .tag('meter', 'home')
      .tag('period', 'day')
      .floatField('cooling_m3_per_mwh', 24.49)
      .floatField('dt_mean', 31)
      .floatField('energy_kwh', 61.25)
      .floatField('gap_hours', 0.5)
      .floatField('hours', 24)
      .booleanField('open', true)
      .floatField('peak_power_kw', 4.2)
      .intField('resets', 1)
      .booleanField('simulated', false)
      .floatField('t1_mean', 71)
      .floatField('t2_mean', 40)
      .floatField('volume_m3', 1.5)
      .timestamp(new Date(day.start));
    const reference = point.toLineProtocol({ convertTime: (time: unknown) => String(time instanceof Date ? time.getTime() : time) });
    assert.equal(consumptionLine('home', day, new Date('2026-11-17T06:00:00Z')), reference);
  });

  it('leaves out what is not known, and is closed once a run after its end wrote it', () => {
    const line = consumptionLine('home', { ...day, sums: { energy: scaled('2') }, peak: null }, new Date(day.end));
    assert.equal(line, `${CONSUMPTION_MEASUREMENT},meter=home,period=day energy_kwh=2,gap_hours=0.5,open=F,resets=1i,simulated=F ${day.start}`);
  });

  it('follows the run line, one line per period the run changed', () => {
    const subject = { ...run([{ registerId: 60, name: 'heat_energy', value: '1', unitCode: 0x02, text: null }]), job: 'live', consumption: [day, { ...day, kind: 'month' as const }] };
    const lines = influxLines.render(subject)?.split('\n') ?? [];
    assert.deepEqual(lines.map((line) => line.split(' ')[0]), [`${MEASUREMENT},meter=home,model=multical-402,serial=70000402`, `${CONSUMPTION_MEASUREMENT},meter=home,period=day`, `${CONSUMPTION_MEASUREMENT},meter=home,period=month`]);
  });
});
