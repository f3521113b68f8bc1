// Consumption figures in SQLite (migrations/0006_consumption.sql): each job run's share added
// to the periods it touches inside the run's own transaction, from the counters' saved state,
// so a run costs a few row updates whatever the length of the history; and the whole table
// built from the stored readings in one pass when a database has none yet (an upgrade) or
// when the settings it was computed with change. The arithmetic is src/consumption/'s.

import type { Database, Statement } from 'better-sqlite3';
import {
  addFigures,
  addRun,
  Calendar,
  consumptionRegisterIds,
  DEFAULT_GAP_MS,
  emptySeriesState,
  formatScaled,
  monthDayOf,
  quantities,
  scaled,
  seriesRegisters,
  type MeterSeriesState,
  type MonthDay,
  type PeriodFigures,
  type PeriodKind,
  type Quantity,
  type RunSample,
  type SampleReading,
} from '../consumption/index.js';
import { Zone } from '../time/zone.js';
import type { ConsumptionFilter, ConsumptionRow, ConsumptionSettings, JobRunInput } from './types.js';

const quantityOf = new Map(Object.entries(seriesRegisters).map(([quantity, id]) => [id, quantity as Quantity]));

/** The settings as stored: what the figures in the file were computed with. */
interface StoredSettings {
  readonly timeZone: string;
  readonly gapMs: number;
  /** By meter name, MM-DD. */
  readonly billing: Readonly<Record<string, string>>;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const monthDayText = (date: MonthDay): string => `${pad(date.month)}-${pad(date.day)}`;

function storedSettings(settings: ConsumptionSettings): StoredSettings {
  const billing: Record<string, string> = {};
  for (const name of Object.keys(settings.billingDates).sort()) {
    const date = settings.billingDates[name];
    if (date !== undefined) billing[name] = monthDayText(date);
  }
  return { timeZone: settings.timeZone, gapMs: settings.gapMs, billing };
}

/** The process's own zone (TZ) by name, so the stored settings say which zone the figures are in. */
export function processTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

interface PeriodRow {
  readonly kind: PeriodKind;
  readonly start_at: number;
  readonly end_at: number;
  readonly label: string;
  readonly energy_kwh: string | null;
  readonly volume_m3: string | null;
  readonly hours: string | null;
  readonly m3_t1: string | null;
  readonly m3_t2: string | null;
  readonly peak_power_kw: string | null;
  readonly peak_power_at: number | null;
  readonly gap_ms: number;
  readonly resets: number;
  readonly simulated: 0 | 1;
}

const columnOf: Readonly<Record<Quantity, 'energy_kwh' | 'volume_m3' | 'hours' | 'm3_t1' | 'm3_t2'>> = { energy: 'energy_kwh', volume: 'volume_m3', hours: 'hours', m3t1: 'm3_t1', m3t2: 'm3_t2' };
const periodColumns = 'kind, start_at, end_at, label, energy_kwh, volume_m3, hours, m3_t1, m3_t2, peak_power_kw, peak_power_at, gap_ms, resets, simulated';

function figuresOf(row: PeriodRow): PeriodFigures {
  const sums: Partial<Record<Quantity, bigint>> = {};
  for (const quantity of quantities) {
    const text = row[columnOf[quantity]];
    if (text !== null) sums[quantity] = scaled(text);
  }
  return {
    kind: row.kind,
    start: row.start_at,
    end: row.end_at,
    label: row.label,
    sums,
    peak: row.peak_power_kw === null || row.peak_power_at === null ? null : { kw: scaled(row.peak_power_kw), at: row.peak_power_at },
    gapMs: row.gap_ms,
    resets: row.resets,
    simulated: row.simulated === 1,
  };
}

function rowValues(meterId: number, figures: PeriodFigures): unknown[] {
  const sum = (quantity: Quantity): string | null => {
    const value = figures.sums[quantity];
    return value === undefined ? null : formatScaled(value);
  };
  return [
    meterId, figures.kind, figures.start, figures.end, figures.label,
    sum('energy'), sum('volume'), sum('hours'), sum('m3t1'), sum('m3t2'),
    figures.peak === null ? null : formatScaled(figures.peak.kw), figures.peak?.at ?? null,
    figures.gapMs, figures.resets, figures.simulated ? 1 : 0,
  ];
}

export interface RecordedConsumption {
  /** The figures of every period the run changed, as they are now. */
  readonly figures: readonly PeriodFigures[];
  readonly outOfOrder: boolean;
}

/** Keeps the figures of a database opened for writing; its methods run inside the caller's transaction. */
export class ConsumptionKeeper {
  private readonly settings: StoredSettings;
  private readonly calendar: Calendar;
  /** By meter id, checked against its row on every run; cleared when a transaction rolls back (forget). */
  private readonly states = new Map<number, MeterSeriesState>();
  private readonly selectPeriod: Statement<[number, string, number], PeriodRow>;
  private readonly writePeriod: Statement<unknown[]>;
  private readonly selectSeries: Statement<[number], { register_id: number; read_at: number; value: string }>;
  private readonly selectMeter: Statement<[number], { series_at: number | null; last_at: number | null; billing_date: string | null }>;
  private readonly writeSeries: Statement<[number, number, number, string]>;
  private readonly writeMeter: Statement<[number, number | null, number | null, string | null]>;

  /** `settings`: the config's; when undefined, the ones the file's figures were computed with (else the defaults). */
  constructor(
    private readonly db: Database,
    settings: ConsumptionSettings | undefined,
  ) {
    const saved = db.prepare<[], string>('SELECT settings FROM consumption_settings WHERE id = 1').pluck().get();
    this.settings = settings !== undefined ? storedSettings(settings) : saved !== undefined ? (JSON.parse(saved) as StoredSettings) : storedSettings({ timeZone: processTimeZone(), gapMs: DEFAULT_GAP_MS, billingDates: {} });
    this.calendar = new Calendar(new Zone(this.settings.timeZone));
    this.selectPeriod = db.prepare(`SELECT ${periodColumns} FROM consumption_periods WHERE meter_id = ? AND kind = ? AND start_at = ?`);
    this.writePeriod = db.prepare(`INSERT OR REPLACE INTO consumption_periods (meter_id, ${periodColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.selectSeries = db.prepare('SELECT register_id, read_at, value FROM consumption_series WHERE meter_id = ?');
    this.selectMeter = db.prepare('SELECT series_at, last_at, billing_date FROM consumption_meters WHERE meter_id = ?');
    this.writeSeries = db.prepare('INSERT OR REPLACE INTO consumption_series (meter_id, register_id, read_at, value) VALUES (?, ?, ?, ?)');
    this.writeMeter = db.prepare('INSERT OR REPLACE INTO consumption_meters (meter_id, series_at, last_at, billing_date) VALUES (?, ?, ?, ?)');
  }

  /** Builds the figures from the stored readings when the file has none yet or has them under other settings. */
  ensureCurrent(): boolean {
    const saved = this.db.prepare<[], string>('SELECT settings FROM consumption_settings WHERE id = 1').pluck().get();
    if (saved === JSON.stringify(this.settings)) return false;
    this.db.transaction(() => this.rebuild()).immediate();
    return true;
  }

  /** Adds a run being written to the figures (inside its transaction). */
  record(meterId: number, run: JobRunInput): RecordedConsumption {
    const sample = sampleOf(run.readAt.getTime(), run.simulated === true, run.readings);
    if (sample.readings.length === 0) return { figures: [], outOfOrder: false };
    const before = this.stateOf(meterId);
    const update = addRun(before, sample, this.optionsFor(run.meter));
    if (update.outOfOrder) return { figures: [], outOfOrder: true };
    const figures = update.deltas.map((delta) => {
      const row = this.selectPeriod.get(meterId, delta.kind, delta.start);
      const merged = addFigures(row === undefined ? undefined : figuresOf(row), delta);
      this.writePeriod.run(...rowValues(meterId, merged));
      return merged;
    });
    this.saveState(meterId, before, update.state);
    this.states.set(meterId, update.state);
    return { figures, outOfOrder: false };
  }

  /** The transaction that used the cached states rolled back. */
  forget(): void {
    this.states.clear();
  }

  private optionsFor(meter: string): Parameters<typeof addRun>[2] {
    return { calendar: this.calendar, gapMs: this.settings.gapMs, billing: monthDayOf(this.settings.billing[meter]) };
  }

  private stateOf(meterId: number): MeterSeriesState {
    const meter = this.selectMeter.get(meterId);
    if (meter === undefined) return emptySeriesState;
    // Another process (simulate --history) may have counted runs since: the cache holds only while the row agrees.
    const cached = this.states.get(meterId);
    if (cached !== undefined && cached.lastAt === meter.last_at && cached.seriesAt === meter.series_at) return cached;
    const points: MeterSeriesState['points'] & Partial<Record<Quantity, { at: number; value: bigint }>> = {};
    for (const row of this.selectSeries.all(meterId)) {
      const quantity = quantityOf.get(row.register_id);
      if (quantity !== undefined) points[quantity] = { at: row.read_at, value: scaled(row.value) };
    }
    return { points, seriesAt: meter.series_at, lastAt: meter.last_at, billing: monthDayOf(meter.billing_date) };
  }

  private saveState(meterId: number, before: MeterSeriesState, after: MeterSeriesState): void {
    for (const quantity of quantities) {
      const point = after.points[quantity];
      if (point !== undefined && point !== before.points[quantity]) this.writeSeries.run(meterId, seriesRegisters[quantity], point.at, formatScaled(point.value));
    }
    this.writeMeter.run(meterId, after.seriesAt, after.lastAt, after.billing === null ? null : monthDayText(after.billing));
  }

  /**
   * Every figure again from the readings, run by run in the order they were written (as they were
   * counted). Prune deletes old readings but never figures, so a period that began before a
   * meter's oldest stored reading cannot be rebuilt: its figures stay as they were computed (under
   * the earlier settings), and a rebuilt period that overlaps one of them is not written.
   */
  private rebuild(): void {
    this.states.clear();
    const oldestReadAt = new Map(
      this.db
        .prepare<[], [number, number]>(
          `SELECT u.meter_id, min(u.read_at) FROM runs u JOIN readings r ON r.run_id = u.id
            WHERE r.register_id IN (${consumptionRegisterIds.join(', ')}) GROUP BY u.meter_id`,
        )
        .raw(true)
        .all(),
    );
    const deleteRebuildable = this.db.prepare('DELETE FROM consumption_periods WHERE meter_id = ? AND start_at >= ?');
    for (const [meterId, readAt] of oldestReadAt) deleteRebuildable.run(meterId, readAt);
    const kept = this.db.prepare<[number, string, number], number>('SELECT 1 FROM consumption_periods WHERE meter_id = ? AND kind = ? AND end_at > ? LIMIT 1').pluck();
    for (const table of ['consumption_series', 'consumption_meters', 'consumption_settings']) this.db.exec(`DELETE FROM ${table}`);
    const meterNames = new Map(this.db.prepare<[], [number, string]>('SELECT id, name FROM meters').raw(true).all());
    const states = new Map<number, MeterSeriesState>();
    const periods = new Map<number, Map<string, PeriodFigures>>();
    const flush = (meterId: number, at: number, simulated: boolean, readings: SampleReading[]): void => {
      const before = states.get(meterId) ?? emptySeriesState;
      const update = addRun(before, { at, simulated, readings }, this.optionsFor(meterNames.get(meterId) ?? ''));
      states.set(meterId, update.state);
      let byKey = periods.get(meterId);
      if (byKey === undefined) periods.set(meterId, (byKey = new Map()));
      for (const delta of update.deltas) {
        const key = `${delta.kind}@${delta.start}`;
        byKey.set(key, addFigures(byKey.get(key), delta));
      }
    };
    const rows = this.db
      .prepare<[], [number, number, number, 0 | 1, number, string, number, string | null]>(
        `SELECT u.id, u.meter_id, u.read_at, u.simulated, r.register_id, r.value, r.unit_code, r.text
           FROM runs u JOIN readings r ON r.run_id = u.id
          WHERE r.register_id IN (${consumptionRegisterIds.join(', ')})
          ORDER BY u.id`,
      )
      .raw(true);
    type PendingRun = { runId: number; meterId: number; at: number; simulated: boolean; readings: SampleReading[] };
    // The rows of one run come together (ordered by run id): a run is fed when the next begins.
    let current = null as PendingRun | null;
    for (const [runId, meterId, at, simulated, registerId, value, unitCode, text] of rows.iterate()) {
      if (current?.runId !== runId) {
        if (current !== null) flush(current.meterId, current.at, current.simulated, current.readings);
        current = { runId, meterId, at, simulated: simulated === 1, readings: [] };
      }
      current.readings.push({ registerId, value, unitCode, text });
    }
    if (current !== null) flush(current.meterId, current.at, current.simulated, current.readings);
    for (const [meterId, byKey] of periods) {
      const oldest = oldestReadAt.get(meterId) ?? -Infinity;
      for (const figures of byKey.values()) {
        if (figures.start < oldest && kept.get(meterId, figures.kind, figures.start) !== undefined) continue;
        this.writePeriod.run(...rowValues(meterId, figures));
      }
    }
    for (const [meterId, state] of states) this.saveState(meterId, emptySeriesState, state);
    this.db.prepare('INSERT INTO consumption_settings (id, settings) VALUES (1, ?)').run(JSON.stringify(this.settings));
  }
}

function sampleOf(at: number, simulated: boolean, readings: readonly SampleReading[]): RunSample {
  return { at, simulated, readings: readings.filter((reading) => consumptionRegisterIds.includes(reading.registerId)) };
}

/** The figures of one kind of period, by meter and start; for `report`. */
export function readConsumption(db: Database, filter: ConsumptionFilter): ConsumptionRow[] {
  const conditions = ['p.kind = ?'];
  const parameters: (string | number)[] = [filter.kind];
  if (filter.meter !== undefined) {
    conditions.push('m.name = ?');
    parameters.push(filter.meter);
  }
  // A period is shown when it overlaps [from, to).
  if (filter.from !== undefined) {
    conditions.push('p.end_at > ?');
    parameters.push(filter.from.getTime());
  }
  if (filter.to !== undefined) {
    conditions.push('p.start_at < ?');
    parameters.push(filter.to.getTime());
  }
  const rows = db
    .prepare<(string | number)[], PeriodRow & { meter: string }>(
      `SELECT m.name AS meter, ${periodColumns.split(', ').map((column) => `p.${column}`).join(', ')}
         FROM consumption_periods p JOIN meters m ON m.id = p.meter_id
        WHERE ${conditions.join(' AND ')}
        ORDER BY m.name, p.start_at`,
    )
    .all(...parameters);
  return rows.map((row) => ({ meter: row.meter, figures: figuresOf(row) }));
}
