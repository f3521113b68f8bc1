// The "Logger health" dashboard: from the points the logger writes about itself with every run
// that has readings (src/sinks/influxdb/point.ts, healthLines). Run counts are cumulative
// counters, since a failed run has no readings for the outbox to carry: the panels take their
// non-negative differences per hour, so an outage's failures show in the hour the next good
// run arrived, and a counter that starts again (a new database) costs one hour, not a negative
// bar. The newest point's age is the time since the last good reading.

import { BARS, dashboard, lines, meterVariable, METER_FILTER, statOptions, timeZoneVariable, TZ, type Dashboard, type PanelSpec, type Unit } from './dashboard.js';

const HEALTH = 'kamstrup_health';
const DELIVERY = 'kamstrup_delivery';
const CAUSES: readonly [field: string, label: string][] = [
  ['no_answer', 'no answer'],
  ['corrupt_answer', 'corrupt answer'],
  ['line_noise', 'line noise'],
  ['link_failure', 'link failure'],
  ['other', 'other'],
];

/** Per hour, per meter and job: the increase of each counter. */
function perHour(fields: readonly string[]): string {
  const selected = fields.map((field) => `non_negative_difference(last("${field}")) AS "${field}"`).join(', ');
  return `SELECT ${selected} FROM "${HEALTH}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY time(1h), "meter", "job" fill(none) ${TZ}`;
}

/** Read errors per hour by cause, the jobs of a meter added up. */
function causesPerHour(): string {
  const sums = CAUSES.map(([field, label]) => `sum("${field}") AS "${label}"`).join(', ');
  return `SELECT ${sums} FROM (${perHour(CAUSES.map(([field]) => field))}) WHERE $timeFilter GROUP BY time(1h), "meter" fill(none) ${TZ}`;
}

/** A sink's figure over time: the newest in each interval (one point per run, several runs a minute at most). */
function perSink(field: string): string {
  return `SELECT last("${field}") FROM "${DELIVERY}" WHERE $timeFilter GROUP BY time($__interval), "sink" fill(none) ${TZ}`;
}

function sinkPanel(title: string, field: string, unit: Unit, description: string): PanelSpec {
  return { type: 'timeseries', title, description, width: 8, height: 8, queries: [{ query: perSink(field), alias: '$tag_sink' }], defaults: { unit, custom: lines('stepAfter') } };
}

export function health(defaultTimeZone: string): Dashboard {
  return dashboard(
    {
      uid: 'kamstrup-health',
      title: 'Kamstrup · Logger health',
      description: 'The logger itself: job runs and failures, read errors by cause, each sink\'s backlog and delivery latency, the last good reading',
      tags: ['kamstrup'],
      time: { from: 'now-24h', to: 'now' },
      refresh: '1m',
      variables: [meterVariable, timeZoneVariable(defaultTimeZone)],
    },
    [
      {
        title: 'Reading the meters',
        panels: [
          {
            type: 'stat',
            title: 'Last good reading',
            description: 'When each meter last gave readings (a run ok or partial, within the last 7 days): its newest health point',
            width: 6,
            height: 8,
            queries: [{ query: `SELECT last("readings") FROM "${HEALTH}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY "meter"`, alias: '$tag_meter' }],
            defaults: { unit: 'dateTimeFromNow' },
            options: statOptions('Time'),
            timeFrom: '7d',
          },
          {
            type: 'timeseries',
            title: 'Job runs per hour',
            description: 'Runs per meter and job, and those that failed or were partial. A meter outage\'s failures arrive with its next good run, and show in that hour',
            width: 9,
            height: 8,
            queries: [{ query: perHour(['runs', 'failed', 'partial']), alias: '$tag_meter $tag_job $col' }],
            defaults: { unit: 'suffix: runs', decimals: 0, custom: BARS },
          },
          {
            type: 'timeseries',
            title: 'Read errors per hour by cause',
            description: 'Failed or partial runs by why they failed, all jobs of a meter together; other: cut short by a stop, or no register answered',
            width: 9,
            height: 8,
            queries: [{ query: causesPerHour(), alias: '$tag_meter $col' }],
            defaults: { unit: 'suffix: runs', decimals: 0, custom: BARS },
          },
          {
            type: 'timeseries',
            title: 'Run duration',
            description: 'From the job\'s tick to the end of its run, waiting for the meter included',
            width: 24,
            height: 6,
            queries: [{ query: `SELECT max("duration_ms") FROM "${HEALTH}" WHERE ${METER_FILTER} AND $timeFilter GROUP BY time($__interval), "meter", "job" fill(none) ${TZ}`, alias: '$tag_meter $tag_job' }],
            defaults: { unit: 'suffix: ms', decimals: 0, custom: lines() },
          },
        ],
      },
      {
        title: 'Delivery to each sink (all meters)',
        panels: [
          sinkPanel('Outbox backlog per sink', 'pending', 'suffix: readings', 'Readings waiting for each sink when a run was stored, that run not counted (Domoticz: devices waiting)'),
          sinkPanel('Oldest waiting reading per sink', 'oldest_pending_s', 'suffix: s', 'How long the oldest reading a sink still owes had waited when a run was stored; 0 when the sink is up to date'),
          sinkPanel('Delivery latency', 'latency_ms', 'suffix: ms', 'The newest confirmed delivery: from storing its run to the sink confirming it (InfluxDB sinks)'),
        ],
      },
    ],
  );
}
