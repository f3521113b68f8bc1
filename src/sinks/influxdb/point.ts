// One InfluxDB point per meter per job run: tags meter, serial and model; one field per
// register, named after the catalogue, in canonical units; date registers as text fields
// ("2026-11-17") so a panel can show when a monthly maximum happened. The read time is the
// point's timestamp, so a point sent twice overwrites itself. Tag and field names never clash
// (InfluxDB 3 requires that): no register is called meter, serial or model.

import { Point } from '@influxdata/influxdb-client';
import { isDateTimeUnit } from '../../kmp/index.js';
import { registerById } from '../../registers/index.js';
import { toCanonical } from '../canonical-units.js';

export const MEASUREMENT = 'kamstrup';

export interface PointReading {
  readonly registerId: number;
  readonly name: string | null;
  readonly value: string;
  readonly unitCode: number;
  /** Date and time registers' text; null while the meter holds no date. */
  readonly text: string | null;
}

export interface PointRun {
  readonly meter: string;
  readonly serial: number | null;
  readonly model: string;
  readonly readAt: Date;
  readonly readings: readonly PointReading[];
}

export function fieldName(reading: Pick<PointReading, 'registerId' | 'name'>): string {
  return reading.name ?? `register_${reading.registerId}`;
}

export function toPoint(run: PointRun): Point {
  const point = new Point(MEASUREMENT).tag('meter', run.meter).tag('model', run.model).timestamp(run.readAt);
  if (run.serial !== null) point.tag('serial', String(run.serial));
  for (const reading of run.readings) {
    const field = fieldName(reading);
    if (isDateTimeUnit(reading.unitCode)) {
      // No date yet (a fresh month) is no field, not an empty or zero one: field types must not change.
      if (reading.text) point.stringField(field, reading.text);
      continue;
    }
    const { value } = toCanonical(reading.value, reading.unitCode);
    if (registerById(reading.registerId)?.quantity === 'code') point.intField(field, value);
    else point.floatField(field, value);
  }
  return point;
}

export type LinePrecision = 'ms' | 'ns';

/** The run as one line of line protocol with its timestamp in the given precision; null when it has no field. */
export function toLine(run: PointRun, precision: LinePrecision): string | null {
  const line = toPoint(run).toLineProtocol(precision === 'ms' ? { convertTime: (time) => String(time instanceof Date ? time.getTime() : time) } : undefined);
  return line ?? null;
}
