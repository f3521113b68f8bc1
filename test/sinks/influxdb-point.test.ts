import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPoint } from '../../src/sinks/influxdb/point.js';

describe('InfluxDB point of a job run', () => {
  it('has the meter tags, canonical fields, date text and the read time', () => {
    const line = toPoint({
      meter: 'home',
      serial: 70000402,
      model: 'multical-402',
      readAt: new Date('2026-11-17T06:00:00.000Z'),
      readings: [
        { registerId: 60, name: 'heat_energy', value: '55.648', unitCode: 0x03, text: null },
        { registerId: 86, name: 't1', value: '63.44', unitCode: 0x25, text: null },
        { registerId: 99, name: 'info', value: '0', unitCode: 0x00, text: null },
        { registerId: 138, name: 'max_flow_date_month', value: '261117', unitCode: 0x30, text: '2026-11-17' },
        { registerId: 140, name: 'min_flow_date_month', value: '0', unitCode: 0x30, text: null },
        { registerId: 4242, name: null, value: '1.5', unitCode: 0x00, text: null },
      ],
    }).toLineProtocol();
    assert.equal(
      line,
      'kamstrup,meter=home,model=multical-402,serial=70000402 heat_energy=55648,info=0i,max_flow_date_month="2026-11-17",register_4242=1.5,t1=63.44 ' +
        `${Date.UTC(2026, 10, 17, 6)}000000`,
    );
  });
});
