// The provisioned dashboards: Live, Consumption and Meter statistics. InfluxQL only (the one
// language InfluxDB 1.x, 2.x and 3.x all answer), every query on the data source of
// grafana/provisioning, filtered by the multi-value $meter variable. Field names are the
// InfluxDB sink's (src/sinks/influxdb/point.ts) in canonical units: kWh, kW, m³, l/h, °C, K.
// Consumption panels are plain selects of the logger's own per-period figures
// (kamstrup_consumption): InfluxQL cannot group by calendar month, so no panel does arithmetic.

import { infoCodeSeverity, infoCodeWords, MULTICAL_403_INFO_FLAGS, MULTICAL_601_INFO_FLAGS, type InfoFlag, type InfoSeverity } from '../registers/index.js';
import {
  BARS,
  CONSUMPTION_MEASUREMENT,
  dashboard,
  lines,
  MEASUREMENT,
  meterVariable,
  METER_FILTER,
  statOptions,
  timeZoneVariable,
  TZ,
  unitOverride,
  type Dashboard,
  type Override,
  type PanelSpec,
  type StatSpec,
  type Unit,
  type ValueMapping,
} from './dashboard.js';
import { health } from './health.js';

/** The time zone the dashboards count days in until the user sets theirs. */
export const DEFAULT_TIME_ZONE = 'Europe/Amsterdam';

const variables = [meterVariable, timeZoneVariable(DEFAULT_TIME_ZONE)];
const byMeter = '$tag_meter';

/** The newest value of a field per meter within the panel's range. */
function newest(field: string): string {
  return `SELECT last("${field}") FROM "${MEASUREMENT}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY "meter"`;
}

/** A field over time per meter, one value per Grafana interval. */
function overTime(aggregate: 'mean' | 'last', field: string): string {
  return `SELECT ${aggregate}("${field}") FROM "${MEASUREMENT}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY time($__interval), "meter" fill(none) ${TZ}`;
}

/** One of the logger's per-period figures, as stored: one point per meter and period. */
function perPeriod(field: string, period: 'day' | 'month' | 'year'): string {
  return `SELECT "${field}" FROM "${CONSUMPTION_MEASUREMENT}" WHERE "period" = '${period}' AND ${METER_FILTER} AND $timeFilter GROUP BY "meter"`;
}

function stat(title: string, field: string, unit: Unit, extra: Partial<StatSpec> = {}): StatSpec {
  return { type: 'stat', title, width: 4, height: 4, queries: [{ query: newest(field), alias: byMeter }], defaults: { unit }, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Live

const severityColours: Readonly<Record<InfoSeverity, string>> = { notice: 'yellow', warning: 'orange', alarm: 'red' };

/** 0 is OK; any other code shows as its number, in red, where no mapping names it. */
const infoOk: ValueMapping[] = [
  { type: 'value', options: { '0': { text: 'OK', color: 'green', index: 0 } } },
  { type: 'range', options: { from: 1, to: null, result: { color: 'red', index: 1 } } },
];

/**
 * A value mapping names exact values only, so it can name each single flag and the sums listed
 * here (601/602's "T1 and T2 out of range" = 12); any other sum of flags shows as its number.
 */
function infoMappings(flags: readonly InfoFlag[], sums: readonly number[] = []): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  for (const [index, code] of [...flags.map((flag) => flag.bit), ...sums].entries()) {
    const worst = infoCodeSeverity(BigInt(code), flags);
    options[String(code)] = { text: infoCodeWords(BigInt(code), flags), color: worst === null ? 'green' : severityColours[worst], index: index + 2 };
  }
  return [...infoOk, { type: 'value', options }];
}

/** The mappings for the series of one meter model: the info panel's series are named "meter (model)". */
function modelOverride(pattern: string, mappings: readonly ValueMapping[]): Override {
  return { matcher: { id: 'byRegexp', options: pattern }, properties: [{ id: 'mappings', value: mappings }] };
}

export const live: Dashboard = dashboard(
  {
    uid: 'kamstrup-live',
    title: 'Kamstrup · Live',
    description: 'Live values of the heat meters: power, flow, temperatures, counters, info code',
    tags: ['kamstrup'],
    time: { from: 'now-24h', to: 'now' },
    refresh: '1m',
    variables,
  },
  [
    {
      title: 'Now',
      panels: [
        stat('Power', 'power', 'kwatt'),
        stat('Flow', 'flow', 'litreh'),
        stat('T1 (supply)', 't1', 'celsius'),
        stat('T2 (return)', 't2', 'celsius'),
        stat('ΔT', 't_diff', 'kelvin'),
        {
          ...stat('Last reading', 'heat_energy', 'dateTimeFromNow'),
          description: 'When the newest live reading of each meter was taken (within the last 7 days)',
          options: statOptions('Time'),
          timeFrom: '7d',
        },
        stat('Heat energy', 'heat_energy', 'kwatth', { width: 6, defaults: { unit: 'kwatth', decimals: 0 } }),
        stat('Volume', 'volume', 'm3', { width: 6, defaults: { unit: 'm3', decimals: 2 } }),
        {
          type: 'stat',
          title: 'Info code',
          description:
            '0 is OK. MULTICAL 601/602 and 403 flags are named; a sum of several flags (other than 601/602\'s 12) and any flag of other models (402: no published table) show as the number (a sum of flags: add up the single flags)',
          width: 12,
          height: 4,
          queries: [{ query: `SELECT last("info") FROM "${MEASUREMENT}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY "meter", "model"`, alias: '$tag_meter ($tag_model)' }],
          defaults: { unit: 'none', decimals: 0, mappings: infoOk },
          overrides: [modelOverride('/\\(multical-60[12]\\)$/', infoMappings(MULTICAL_601_INFO_FLAGS, [12])), modelOverride('/\\(multical-403\\)$/', infoMappings(MULTICAL_403_INFO_FLAGS))],
          options: { ...statOptions(), graphMode: 'none', textMode: 'value_and_name' },
        },
      ],
    },
    {
      title: 'Over time',
      panels: [
        { type: 'timeseries', title: 'Power', width: 12, height: 8, queries: [{ query: overTime('mean', 'power'), alias: byMeter }], defaults: { unit: 'kwatt', custom: lines() } },
        { type: 'timeseries', title: 'Flow', width: 12, height: 8, queries: [{ query: overTime('mean', 'flow'), alias: byMeter }], defaults: { unit: 'litreh', custom: lines() } },
        {
          type: 'timeseries',
          title: 'Temperatures',
          description: 'T1 (supply) and T2 (return) on the left axis, ΔT in kelvin on the right',
          width: 24,
          height: 8,
          queries: [
            { query: overTime('mean', 't1'), alias: 'T1 $tag_meter' },
            { query: overTime('mean', 't2'), alias: 'T2 $tag_meter' },
            { query: overTime('mean', 't_diff'), alias: 'ΔT $tag_meter' },
          ],
          defaults: { unit: 'celsius', custom: lines() },
          overrides: [{ matcher: { id: 'byFrameRefID', options: 'C' }, properties: [{ id: 'unit', value: 'kelvin' }, { id: 'custom.axisPlacement', value: 'right' }] }],
        },
        { type: 'timeseries', title: 'Heat energy counter', width: 12, height: 8, queries: [{ query: overTime('last', 'heat_energy'), alias: byMeter }], defaults: { unit: 'kwatth', decimals: 0, custom: lines('stepAfter') } },
        { type: 'timeseries', title: 'Volume counter', width: 12, height: 8, queries: [{ query: overTime('last', 'volume'), alias: byMeter }], defaults: { unit: 'm3', decimals: 2, custom: lines('stepAfter') } },
      ],
    },
  ],
);

// ---------------------------------------------------------------------------------------------
// Consumption

function bars(title: string, field: string, period: 'day' | 'month' | 'year', unit: Unit, timeFrom: string, description: string): PanelSpec {
  return { type: 'timeseries', title, description, width: 12, height: 8, queries: [{ query: perPeriod(field, period), alias: byMeter }], defaults: { unit, custom: BARS }, timeFrom };
}

function monthStat(title: string, field: string, unit: Unit, lastYear: boolean): PanelSpec {
  return {
    type: 'stat',
    title,
    description: lastYear ? 'The whole month a year ago, as the logger counted it' : 'This calendar month so far (open: it grows until the month ends)',
    width: 6,
    height: 4,
    queries: [{ query: `SELECT last("${field}") FROM "${CONSUMPTION_MEASUREMENT}" WHERE "period" = 'month' AND ${METER_FILTER} AND $timeFilter GROUP BY "meter"`, alias: byMeter }],
    defaults: { unit, decimals: unit === 'kwatth' ? 0 : 2 },
    options: { ...statOptions(), graphMode: 'none' },
    timeFrom: 'now/M',
    ...(lastYear ? { timeShift: '1y' } : {}),
  };
}

export const consumption: Dashboard = dashboard(
  {
    uid: 'kamstrup-consumption',
    title: 'Kamstrup · Consumption',
    description: 'Heat energy and volume used per day, month and year, as the logger computes them (kamstrup-logger report)',
    tags: ['kamstrup'],
    time: { from: 'now-13M', to: 'now' },
    refresh: '15m',
    variables,
  },
  [
    {
      title: 'This month',
      panels: [
        monthStat('Energy this month', 'energy_kwh', 'kwatth', false),
        monthStat('Energy, same month last year', 'energy_kwh', 'kwatth', true),
        monthStat('Volume this month', 'volume_m3', 'm3', false),
        monthStat('Volume, same month last year', 'volume_m3', 'm3', true),
      ],
    },
    {
      title: 'Per day',
      panels: [
        bars('Energy per day', 'energy_kwh', 'day', 'kwatth', '31d', 'Heat energy used per local calendar day, last 31 days'),
        bars('Volume per day', 'volume_m3', 'day', 'm3', '31d', 'Water volume through the meter per local calendar day, last 31 days'),
      ],
    },
    {
      title: 'Per month and year',
      panels: [
        bars('Energy per month', 'energy_kwh', 'month', 'kwatth', '13M', 'Heat energy used per calendar month, last 13 months'),
        bars('Volume per month', 'volume_m3', 'month', 'm3', '13M', 'Water volume per calendar month, last 13 months'),
        bars('Energy per year', 'energy_kwh', 'year', 'kwatth', '10y', 'Heat energy used per calendar year'),
        bars('Volume per year', 'volume_m3', 'year', 'm3', '10y', 'Water volume per calendar year'),
        bars('Mean ΔT per month', 'dt_mean', 'month', 'kelvin', '13M', 'Volume-weighted mean temperature difference per month: higher is better cooling'),
        bars('Cooling: m³ per MWh per month', 'cooling_m3_per_mwh', 'month', 'suffix:m³/MWh', '13M', 'Volume per MWh of heat, the figure utilities bill poor cooling by: lower is better'),
      ],
    },
  ],
);

// ---------------------------------------------------------------------------------------------
// Meter statistics

type StatisticsPeriod = 'month' | 'year';

/** The meter's own min/max of hourly averages with their dates, and mean temperatures. */
function extremesTable(period: StatisticsPeriod): PanelSpec {
  const columns: readonly [field: string, alias: string, unit: Unit][] = [
    [`max_flow_${period}`, 'max flow', 'litreh'],
    [`max_flow_date_${period}`, 'max flow on', 'string'],
    [`min_flow_${period}`, 'min flow', 'litreh'],
    [`min_flow_date_${period}`, 'min flow on', 'string'],
    [`max_power_${period}`, 'max power', 'kwatt'],
    [`max_power_date_${period}`, 'max power on', 'string'],
    [`min_power_${period}`, 'min power', 'kwatt'],
    [`min_power_date_${period}`, 'min power on', 'string'],
    [`avg_t1_${period}`, 'mean T1', 'celsius'],
    [`avg_t2_${period}`, 'mean T2', 'celsius'],
  ];
  const selects = columns.map(([field, alias]) => `last("${field}") AS "${alias}"`).join(', ');
  return {
    type: 'table',
    title: period === 'month' ? 'This month' : 'This year',
    description: `The meter's ${period === 'month' ? 'monthly' : 'yearly'} statistics as it last reported them: min/max of hourly averages with the day they occurred, and the mean temperatures`,
    width: 24,
    height: 6,
    queries: [{ query: `SELECT ${selects} FROM "${MEASUREMENT}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY "meter"`, format: 'table' }],
    defaults: { unit: 'none' },
    overrides: columns.map(([, alias, unit]) => unitOverride({ id: 'byName', options: alias }, unit)),
    transformations: [{ id: 'organize', options: { excludeByName: { Time: true }, renameByName: {} } }],
    timeFrom: '7d',
  };
}

/** The monthly (or yearly) registers day by day: each month's figure is its value on the month's last day. */
function history(title: string, fields: readonly [field: string, alias: string][], unit: Unit): PanelSpec {
  const selects = fields.map(([field, alias]) => `last("${field}") AS "${alias}"`).join(', ');
  return {
    type: 'timeseries',
    title,
    description: 'Day by day, as the meter reported them; each period\'s figure is its value on its last day, before the meter starts the next',
    width: 12,
    height: 8,
    queries: [{ query: `SELECT ${selects} FROM "${MEASUREMENT}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY time(1d), "meter" fill(none) ${TZ}`, alias: '$tag_meter $col' }],
    defaults: { unit, custom: lines('stepAfter') },
    timeFrom: '13M',
  };
}

export const statistics: Dashboard = dashboard(
  {
    uid: 'kamstrup-statistics',
    title: 'Kamstrup · Meter statistics',
    description: "The meter's own monthly and yearly statistics: min/max flow and power with their dates, mean T1 and T2",
    tags: ['kamstrup'],
    time: { from: 'now-30d', to: 'now' },
    refresh: '1h',
    variables,
  },
  [
    { title: 'This month and year', panels: [extremesTable('month'), extremesTable('year')] },
    {
      title: 'Month by month',
      panels: [
        history('Monthly max and min flow', [['max_flow_month', 'max flow'], ['min_flow_month', 'min flow']], 'litreh'),
        history('Monthly max and min power', [['max_power_month', 'max power'], ['min_power_month', 'min power']], 'kwatt'),
        history('Mean T1 and T2, monthly and yearly', [['avg_t1_month', 'mean T1 month'], ['avg_t2_month', 'mean T2 month'], ['avg_t1_year', 'mean T1 year'], ['avg_t2_year', 'mean T2 year']], 'celsius'),
        history('Yearly max and min flow', [['max_flow_year', 'max flow'], ['min_flow_year', 'min flow']], 'litreh'),
      ],
    },
  ],
);

/** Every provisioned dashboard by its file name under grafana/dashboards. */
export const dashboards: Readonly<Record<string, Dashboard>> = {
  'kamstrup-live.json': live,
  'kamstrup-consumption.json': consumption,
  'kamstrup-statistics.json': statistics,
  'kamstrup-health.json': health(DEFAULT_TIME_ZONE),
};

/** A dashboard as its committed file holds it. */
export function dashboardJson(board: Dashboard): string {
  return `${JSON.stringify(board, null, 2)}\n`;
}
