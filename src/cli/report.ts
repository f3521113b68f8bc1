// `kamstrup-logger report`: consumption per day, week, month, year or billing year, from the
// figures the store keeps (no InfluxDB needed), as a table, CSV or JSON lines.

import { Command, Option } from 'commander';
import { derive, periodKinds, type PeriodKind } from '../consumption/index.js';
import type { ConsumptionFilter, ConsumptionRow } from '../store/index.js';
import { Zone } from '../time/zone.js';
import { checkMeterName, configOption, loadConfigOrExit, openExistingStore, parseTime } from './config-option.js';
import { CliError, ExitCode } from './exit-codes.js';
import { formatTable } from './output.js';

const formats = ['table', 'csv', 'json'] as const;
type ReportFormat = (typeof formats)[number];

interface ReportOptions {
  config: string;
  meter?: string;
  by: PeriodKind;
  from?: string;
  to?: string;
  format: ReportFormat;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('consumption per day, ISO week, month, year or billing year: energy, volume, hours, peak power, mean temperatures, m³/MWh')
    .addOption(configOption())
    .option('--meter <name>', 'only this meter')
    .addOption(new Option('--by <period>', 'the period of a row').choices([...periodKinds]).makeOptionMandatory())
    .option('--from <date>', 'periods that end after this (2026-01-01 is local midnight in the configured time_zone)')
    .option('--to <date>', 'periods that start before this (exclusive)')
    .addOption(new Option('--format <format>', 'output format').choices([...formats]).default('table'))
    .addHelpText(
      'after',
      `
From the figures the logger keeps in SQLite as it records each run: no InfluxDB needed. An
interval between two readings that spans a boundary is split in proportion to time, exactly:
a month is the sum of its days to the last digit. Days are local days in time_zone (23 and 25
hours on DST days); weeks are ISO weeks (Monday to Sunday); billing years start on the meter's
target date (register 98) or the meter's billing_date.

Flags: open (the period is not over yet), gap N h (readings further apart than
consumption.gap_minutes: spread over the gap, not measured in it), N resets (a counter went
down: meter replaced or reset; no negative use), simulated (fed by simulate --history),
ΔT est. (no m³×T registers read: ΔT from energy and volume with 1.163 kWh/(m³·K)).

Examples:
  kamstrup-logger report --by month
  kamstrup-logger report --by day --from 2026-01-01 --to 2026-02-01 --format csv > january.csv`,
    )
    .action((options: ReportOptions, command: Command) => {
      const { config } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default', 'the config is not valid:', 'read');
      const zone = new Zone(config.consumption.timeZone);
      const filter: ConsumptionFilter = {
        kind: options.by,
        ...(options.meter !== undefined && { meter: options.meter }),
        ...localRange(zone, options.from, options.to),
      };
      const store = openExistingStore(config.storage.path, 'read');
      let rows: ConsumptionRow[];
      try {
        if (options.meter !== undefined) checkMeterName(options.meter, [...config.meters.map((m) => m.name), ...store.status().meters.map((m) => m.name)]);
        rows = store.consumption(filter);
      } finally {
        store.close();
      }
      process.stdout.write(formatReport(rows, options.format, config.consumption.timeZone, new Date()));
    });
}

/** --from and --to: a date alone is local midnight in the report's zone. */
function localRange(zone: Zone, from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const at = (text: string, flag: string): Date => {
    const date = parseTime(text, flag);
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    return match === null ? date : new Date(zone.startOf({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }));
  };
  const range = { ...(from !== undefined && { from: at(from, '--from') }), ...(to !== undefined && { to: at(to, '--to') }) };
  if (range.from !== undefined && range.to !== undefined && range.from.getTime() >= range.to.getTime()) {
    throw new CliError(ExitCode.usage, `--from ${from ?? ''} is not before --to ${to ?? ''}: that range holds no period (--to is exclusive). Swap them, or move --to later.`);
  }
  return range;
}

const columns = ['meter', 'period', 'start', 'end', 'energy_kwh', 'volume_m3', 'hours', 'peak_power_kw', 'peak_power_at', 't1_mean', 't2_mean', 'dt_mean', 'dt_source', 'cooling_m3_per_mwh', 'gap_hours', 'resets', 'simulated', 'open'] as const;
type Column = (typeof columns)[number];

/** A row's values by column: exact decimal text, times in ISO 8601 (UTC). */
function reportRecord(row: ConsumptionRow, now: Date): Record<Column, string | number | boolean | null> {
  const { figures } = row;
  const derived = derive(figures);
  return {
    meter: row.meter,
    period: figures.label,
    start: new Date(figures.start).toISOString(),
    end: new Date(figures.end).toISOString(),
    energy_kwh: derived.energyKwh,
    volume_m3: derived.volumeM3,
    hours: derived.hours,
    peak_power_kw: derived.peakPowerKw,
    peak_power_at: derived.peakPowerAt === null ? null : new Date(derived.peakPowerAt).toISOString(),
    t1_mean: derived.t1Mean,
    t2_mean: derived.t2Mean,
    dt_mean: derived.dtMean,
    dt_source: derived.dtSource,
    cooling_m3_per_mwh: derived.coolingM3PerMwh,
    gap_hours: derived.gapHours,
    resets: figures.resets,
    simulated: figures.simulated,
    open: figures.end > now.getTime(),
  };
}

export function formatReport(rows: readonly ConsumptionRow[], format: ReportFormat, timeZone: string, now: Date): string {
  if (format === 'json') return rows.map((row) => `${JSON.stringify(reportRecord(row, now))}\n`).join('');
  if (format === 'csv') {
    const cell = (value: string | number | boolean | null): string => (value === null ? '' : String(value));
    return [columns.join(','), ...rows.map((row) => { const record = reportRecord(row, now); return columns.map((column) => cell(record[column])).join(','); })].join('\n') + '\n';
  }
  if (rows.length === 0) return '(no consumption figures for these periods yet)\n';
  const local = localTimeFormat(timeZone);
  const body = rows.map((row) => {
    const derived = derive(row.figures);
    const record = reportRecord(row, now);
    const flags = [
      record.open === true ? 'open' : '',
      row.figures.gapMs > 0 ? `gap ${derived.gapHours} h` : '',
      row.figures.resets > 0 ? `${row.figures.resets} reset${row.figures.resets === 1 ? '' : 's'}` : '',
      row.figures.simulated ? 'simulated' : '',
      derived.dtSource === 'energy' ? 'ΔT est.' : '',
    ].filter((flag) => flag !== '');
    return [
      row.meter,
      row.figures.label,
      derived.energyKwh ?? '',
      derived.volumeM3 ?? '',
      derived.hours ?? '',
      derived.peakPowerKw ?? '',
      derived.peakPowerAt === null ? '' : local(derived.peakPowerAt),
      derived.t1Mean ?? '',
      derived.t2Mean ?? '',
      derived.dtMean ?? '',
      derived.coolingM3PerMwh ?? '',
      flags.join(', '),
    ];
  });
  return `${formatTable(['meter', 'period', 'energy kWh', 'volume m³', 'hours', 'peak kW', 'peak at', 'T1 °C', 'T2 °C', 'ΔT K', 'm³/MWh', 'flags'], body)}\n`;
}

/** "2026-01-12 10:05" in the zone. */
function localTimeFormat(timeZone: string): (ms: number) => string {
  const format = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (ms) => format.format(ms);
}
