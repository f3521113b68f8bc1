// Start-up warnings: things that will work, but not as the user probably wants.

import { registerById } from '../registers/catalogue.js';
import { readGaps } from './schedule.js';
import { DEFAULT_DOMOTICZ_REFRESH_MINUTES } from './schema.js';
import type { AppConfig } from './types.js';

/** MULTICAL 40x IR ports switch off after about 30 minutes without use. */
export const IR_IDLE_LIMIT_MINUTES = 30;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function localDate(date: Date): string {
  return `${date.getDate()} ${MONTHS[date.getMonth()] ?? ''} ${date.getFullYear()}`;
}

/** Names under which a zone is UTC on purpose. */
const UTC_NAMES = new Set(['UTC', 'UTC0', 'Etc/UTC', 'GMT', 'GMT0', 'Etc/GMT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);

/**
 * A TZ that this machine does not know (a typo, a POSIX rule such as CET-1CEST that the time-zone
 * data does not read) silently means UTC: schedules an hour or two off, and wrong across DST.
 */
export function timeZoneWarning(tz: string | undefined, resolved: string | undefined): string | null {
  const name = tz?.replace(/^:/, '').trim() ?? '';
  if (name === '' || resolved === name) return null;
  if (resolved !== undefined && !UTC_NAMES.has(resolved)) return null;
  if (UTC_NAMES.has(name)) return null;
  return `TZ="${tz ?? ''}" is not a time zone this machine knows, so schedules run in UTC: set an IANA name such as TZ=Europe/Amsterdam (the list: timedatectl list-timezones)`;
}

export function startupWarnings(config: AppConfig, now: Date): string[] {
  const warnings: string[] = [];
  const zone = timeZoneWarning(process.env.TZ, Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined);
  if (zone !== null) warnings.push(zone);
  // Meters read by the same jobs share their gaps: a job with seconds makes them costly to find.
  const gapsByJobs = new Map<string, ReturnType<typeof readGaps>>();
  for (const meter of config.meters) {
    const jobs = config.jobs.filter((job) => job.meters.includes(meter.name));
    if (jobs.length === 0) {
      warnings.push(`meter "${meter.name}" is read by no job: name it in a job's meters (or leave a job's meters out to read every meter)`);
      continue;
    }
    const names = jobs.map((job) => job.name).join(', ');
    const crons = jobs.map((job) => job.cron);
    const key = crons.join('\n');
    const gaps = gapsByJobs.has(key) ? gapsByJobs.get(key) ?? null : readGaps(crons, now);
    gapsByJobs.set(key, gaps);
    const advice = `MULTICAL 40x IR ports fall asleep after about ${IR_IDLE_LIMIT_MINUTES} minutes idle, so read it at least every ${IR_IDLE_LIMIT_MINUTES} minutes (e.g. a job with cron "*/5 * * * *")`;
    const limitMs = IR_IDLE_LIMIT_MINUTES * 60_000;
    if (gaps === null) {
      warnings.push(`meter "${meter.name}": its jobs (${names}) do not run at all in the coming week; ${advice}`);
    } else if (gaps.weekMs > limitMs) {
      warnings.push(`meter "${meter.name}" goes up to ${Math.round(gaps.weekMs / 60_000)} minutes without a read (jobs: ${names}); ${advice}`);
    } else if (gaps.acrossChange !== undefined && gaps.acrossChange.ms > limitMs) {
      const { ms, at } = gaps.acrossChange;
      warnings.push(`meter "${meter.name}" goes up to ${Math.round(ms / 60_000)} minutes without a read when the clocks change on ${localDate(at)} (jobs: ${names}); ${advice}`);
    }
  }
  const models = new Map(config.meters.map((meter) => [meter.name, meter.model]));
  for (const job of config.jobs) {
    for (const meterName of job.meters) {
      const model = models.get(meterName);
      if (model === undefined) continue;
      const unlisted = job.registerIds.filter((id) => !(registerById(id)?.models.includes(model) ?? false));
      if (unlisted.length === 0) continue;
      const list = unlisted.map((id) => {
        const definition = registerById(id);
        return definition === undefined ? `register ${id} (not in the catalogue)` : `${definition.name} (${id})`;
      });
      const they = unlisted.length === 1 ? 'it' : 'they';
      warnings.push(`job "${job.name}" reads ${list.join(', ')} from meter "${meterName}", which the catalogue does not list for ${model}: ${they} will probably come back missing`);
    }
  }
  warnings.push(...domoticzWarnings(config));
  return warnings;
}

/** Domoticz marks a sensor as timed out, and leaves gaps in its graphs, after this long without an update. */
export const DOMOTICZ_SENSOR_TIMEOUT_MINUTES = 60;

function domoticzWarnings(config: AppConfig): string[] {
  const sink = config.sinks.domoticz;
  if (sink === undefined) return [];
  const warnings: string[] = [];
  if (sink.devices.length === 0) {
    const file = config.file ?? 'FILE';
    warnings.push(`sinks.domoticz has no devices, so nothing is sent to Domoticz: run \`kamstrup-logger domoticz setup --config ${file}\` to create them and print the devices: list to paste`);
  }
  const refreshMinutes = sink.refreshMs / 60_000;
  if (refreshMinutes >= DOMOTICZ_SENSOR_TIMEOUT_MINUTES) {
    warnings.push(
      `sinks.domoticz.refresh_minutes is ${refreshMinutes}: Domoticz marks a sensor as timed out, and leaves gaps in its graphs, after ${DOMOTICZ_SENSOR_TIMEOUT_MINUTES} minutes without an update; set it below ${DOMOTICZ_SENSOR_TIMEOUT_MINUTES} (the default is ${DEFAULT_DOMOTICZ_REFRESH_MINUTES})`,
    );
  }
  return warnings;
}
