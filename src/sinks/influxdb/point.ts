// One InfluxDB point per meter per job run: tags meter, serial and model; one field per
// register, named after the catalogue, in canonical units; date registers as text fields
// ("2026-11-17") so a panel can show when a monthly maximum happened. The read time is the
// point's timestamp, so a point sent twice overwrites itself. Tag and field names never clash
// (InfluxDB 3 requires that): no register is called meter, serial or model.
//
// The line is written here rather than by the client library's Point class, byte for byte as
// Point writes it (test/sinks/influxdb-point.test.ts compares the two over the whole catalogue,
// every escape and the units): Point builds an object per field and sorts and escapes every
// key on every line, which made it the largest cost of draining a backlog and most of its
// garbage. Here a field key is escaped once per register name, and a line is one string.

import { derive, type PeriodFigures } from '../../consumption/index.js';
import { isDateTimeUnit } from '../../kmp/index.js';
import { registerById } from '../../registers/index.js';
import type { EveryReadingRenderer, RunHealth } from '../../store/index.js';
import { toCanonical } from '../canonical-units.js';

export const MEASUREMENT = 'kamstrup';
/** One point per meter and period, at the period's start: rewritten while the period fills. */
export const CONSUMPTION_MEASUREMENT = 'kamstrup_consumption';
/** The logger's own health, with every run that has readings: cumulative run counts per meter and job. */
export const HEALTH_MEASUREMENT = 'kamstrup_health';
/** Each sink's backlog and newest delivery latency, with every run that has readings. */
export const DELIVERY_MEASUREMENT = 'kamstrup_delivery';

export interface PointReading {
  readonly registerId: number;
  readonly name: string | null;
  readonly value: string;
  readonly unitCode: number;
  /** Date and time registers' text; null while the meter holds no date. */
  readonly text?: string | null;
}

export interface PointRun {
  readonly meter: string;
  readonly serial: number | null;
  readonly model: string;
  readonly readAt: Date;
  readonly readings: readonly PointReading[];
}

export type LinePrecision = 'ms' | 'ns';

export function fieldName(reading: Pick<PointReading, 'registerId' | 'name'>): string {
  return reading.name ?? `register_${reading.registerId}`;
}

/** Line protocol escapes for tag keys, tag values and field keys. */
const TAG_SPECIALS = /[, =\n\r\t]/g;
const tagEscapes: Readonly<Record<string, string>> = { ',': '\\,', ' ': '\\ ', '=': '\\=', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeTag(text: string): string {
  return text.replace(TAG_SPECIALS, (special) => tagEscapes[special] ?? special);
}

/** A string field value: quoted, with quote and backslash escaped (and nothing else). */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** Field keys as they go on the line, escaped once per name: there are at most 65 536. */
const fieldKeys = new Map<string, string>();

function fieldKey(name: string): string {
  let key = fieldKeys.get(name);
  if (key === undefined) fieldKeys.set(name, (key = `${escapeTag(name)}=`));
  return key;
}

interface Field {
  readonly name: string;
  readonly key: string;
  readonly value: string;
}

function byName(a: Field, b: Field): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The run as one line of line protocol with its timestamp in the given precision; null when it has no field. */
export function toLine(run: PointRun, precision: LinePrecision): string | null {
  const fields: Field[] = [];
  for (const reading of run.readings) {
    const name = fieldName(reading);
    if (isDateTimeUnit(reading.unitCode)) {
      // No date yet (a fresh month) is no field, not an empty or zero one: field types must not change.
      if (reading.text) fields.push({ name, key: fieldKey(name), value: quoted(reading.text) });
      continue;
    }
    const { value } = toCanonical(reading.value, reading.unitCode);
    fields.push({ name, key: fieldKey(name), value: registerById(reading.registerId)?.quantity === 'code' ? `${Math.floor(value)}i` : String(value) });
  }
  if (fields.length === 0) return null;
  // Keys in code-unit order, as Point sorts them; a key given twice keeps its last value.
  fields.sort(byName);
  const ms = run.readAt.getTime();
  // One join makes one flat string: a line built with + would stay a tree of pieces, several
  // times its size, for as long as its batch waits to be written.
  const parts = [MEASUREMENT, tag('meter', run.meter), tag('model', run.model), run.serial === null ? '' : tag('serial', String(run.serial)), ' '];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as Field;
    if (field.name === fields[i + 1]?.name) continue;
    if (parts.length > 5) parts.push(',');
    parts.push(field.key, field.value);
  }
  parts.push(' ', precision === 'ms' ? String(ms) : `${ms}000000`);
  return parts.join('');
}

/**
 * A consumption period as one line (ms): tags meter and period, fields in alphabetical order,
 * numbers as floats (converted from the exact figures only here), a figure not known left out.
 * `open`: the period had not ended when the run that wrote it was read.
 */
export function consumptionLine(meter: string, figures: PeriodFigures, readAt: Date): string {
  const derived = derive(figures);
  const float = (value: string | null): string | null => (value === null ? null : String(Number(value)));
  // In key order, as Point writes them.
  const fields: [string, string | null][] = [
    ['cooling_m3_per_mwh', float(derived.coolingM3PerMwh)],
    ['dt_mean', float(derived.dtMean)],
    ['energy_kwh', float(derived.energyKwh)],
    ['gap_hours', float(derived.gapHours)],
    ['hours', float(derived.hours)],
    ['open', figures.end > readAt.getTime() ? 'T' : 'F'],
    ['peak_power_kw', float(derived.peakPowerKw)],
    ['resets', `${figures.resets}i`],
    ['simulated', figures.simulated ? 'T' : 'F'],
    ['t1_mean', float(derived.t1Mean)],
    ['t2_mean', float(derived.t2Mean)],
    ['volume_m3', float(derived.volumeM3)],
  ];
  const written = fields.filter(([, value]) => value !== null).map(([key, value]) => `${key}=${value ?? ''}`);
  return `${CONSUMPTION_MEASUREMENT}${tag('meter', meter)}${tag('period', figures.kind)} ${written.join(',')} ${figures.start}`;
}

/**
 * What both API flavours send for a run: its line, then a line per consumption period it
 * changed, with precision=ms. The format's version changes whenever the lines of a run would,
 * so lines stored by an older version are dropped.
 */
export const influxLines: EveryReadingRenderer = {
  format: 'influxdb-line-ms/3',
  render: (run) => {
    const lines = (run.consumption ?? []).map((figures) => consumptionLine(run.meter, figures, run.readAt));
    const line = toLine(run, 'ms');
    if (line !== null) lines.unshift(line);
    if (run.health) lines.push(...healthLines(run.meter, run.job, run.readings.length, run.health, run.readAt));
    return lines.length > 0 ? lines.join('\n') : null;
  },
};

/**
 * The health a run carries, as lines at its read time (ms): its meter's job's cumulative counts,
 * and a line per sink with its backlog. Counters rather than events because a failed run has no
 * readings for the outbox to carry: an outage's failures arrive with the next run that has
 * readings, and the newest point's age is the time since the last good reading.
 */
export function healthLines(meter: string, job: string, readings: number, health: RunHealth, readAt: Date): string[] {
  const { counts } = health;
  const ms = readAt.getTime();
  // In key order, as Point writes them; tags job, meter: no field has a tag's name.
  const fields: [string, number][] = [
    ['corrupt_answer', counts.corruptAnswer],
    ['duration_ms', health.durationMs],
    ['failed', counts.failed],
    ['line_noise', counts.lineNoise],
    ['link_failure', counts.linkFailure],
    ['no_answer', counts.noAnswer],
    ['ok', counts.ok],
    ['other', counts.other],
    ['partial', counts.partial],
    ['readings', readings],
    ['runs', counts.runs],
  ];
  const lines = [`${HEALTH_MEASUREMENT}${tag('job', job)}${tag('meter', meter)} ${fields.map(([key, value]) => `${key}=${Math.round(value)}i`).join(',')} ${ms}`];
  for (const sink of health.sinks) {
    const oldestS = sink.oldestPendingReadAt === null ? 0 : Math.max(0, ms - sink.oldestPendingReadAt.getTime()) / 1000;
    const latency = sink.latencyMs === null ? '' : `latency_ms=${sink.latencyMs},`;
    lines.push(`${DELIVERY_MEASUREMENT}${tag('sink', sink.sink)} ${latency}oldest_pending_s=${oldestS},pending=${sink.pending}i ${ms}`);
  }
  return lines;
}

/** A tag in key order (meter, model, serial); an empty value is left out, as Point does. */
function tag(key: string, value: string): string {
  return value === '' ? '' : `,${key}=${escapeTag(value)}`;
}
