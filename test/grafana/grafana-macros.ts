// What Grafana does to a raw InfluxQL query before sending it, as its source does it:
// - pkg/tsdb/influxdb/models/query.go (Build): $timeFilter → `time >= <from>ms and time <= <to>ms`,
//   $__interval_ms → the interval's milliseconds (a bare integer), $__interval → gtime.FormatInterval
//   (the largest whole unit: 1y, 1d, 1h, 1m, 1s, else ms);
// - public/app/plugins/datasource/influxdb/datasource.ts (applyVariables) replaces template
//   variables with the 'regex' format (public/app/features/templating/formatRegistry.ts): one value
//   regex-escaped, several as (a|b); `${var:raw}` keeps a value as it is.
// And the panel time ranges the dashboards use: "now-6h", "31d", "13M", "now/M", a timeShift "1y".

export interface Interpolation {
  readonly from: number;
  readonly to: number;
  readonly intervalMs: number;
  readonly meters: readonly string[];
  readonly timeZone: string;
}

/** kbn.regexEscape: the characters Grafana escapes in a regex-formatted value. */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

export function regexFormat(values: readonly string[]): string {
  const escaped = values.map(regexEscape);
  return escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
}

export function formatInterval(ms: number): string {
  const units: readonly [number, string][] = [[365 * 86_400_000, 'y'], [86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

export function interpolate(query: string, values: Interpolation): string {
  const result = query
    .replaceAll('$timeFilter', `time >= ${values.from}ms and time <= ${values.to}ms`)
    .replaceAll('$__interval_ms', String(values.intervalMs))
    .replaceAll('$__interval', formatInterval(values.intervalMs))
    .replaceAll('${tz:raw}', values.timeZone)
    .replace(/\$\{meter\}|\$meter\b/g, regexFormat(values.meters));
  if (/\$(?!tag_|col\b|\/)/.test(result)) throw new Error(`a variable Grafana would fill is left in: ${result}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Time ranges in a time zone (the dashboard's "browser" zone is the test's chosen zone)

/** The zone's offset from UTC at an instant, in ms (Amsterdam in summer: +2 h). */
function offsetAt(epoch: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(epoch));
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return asUtc - Math.floor(epoch / 1000) * 1000;
}

/** The instant of a local wall-clock midnight (month 0-based, day may overflow as in Date.UTC). */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month, day);
  let epoch = wall - offsetAt(wall, timeZone);
  epoch = wall - offsetAt(epoch, timeZone);
  return epoch;
}

/** The local calendar date (year, 0-based month, day) of an instant. */
export function localDate(epoch: number, timeZone: string): { year: number; month: number; day: number } {
  const local = new Date(epoch + offsetAt(epoch, timeZone));
  return { year: local.getUTCFullYear(), month: local.getUTCMonth(), day: local.getUTCDate() };
}

export type CalendarUnit = 'd' | 'M' | 'y';

export function startOf(unit: CalendarUnit, epoch: number, timeZone: string): number {
  const { year, month, day } = localDate(epoch, timeZone);
  return unit === 'd' ? localMidnight(year, month, day, timeZone) : unit === 'M' ? localMidnight(year, month, 1, timeZone) : localMidnight(year, 0, 1, timeZone);
}

/** now minus an amount of a unit, calendar units in the zone as Grafana's dateMath does. */
function minus(epoch: number, amount: number, unit: string, timeZone: string): number {
  switch (unit) {
    case 'm':
      return epoch - amount * 60_000;
    case 'h':
      return epoch - amount * 3_600_000;
    case 'd': {
      const { year, month, day } = localDate(epoch, timeZone);
      return localMidnight(year, month, day - amount, timeZone) + (epoch - startOf('d', epoch, timeZone));
    }
    case 'M':
    case 'y': {
      const { year, month, day } = localDate(epoch, timeZone);
      const months = unit === 'M' ? amount : amount * 12;
      // moment (Grafana's dateMath) keeps the day, clamped to the target month's last day.
      const lastDay = new Date(Date.UTC(year, month - months + 1, 0)).getUTCDate();
      return localMidnight(year, month - months, Math.min(day, lastDay), timeZone) + (epoch - startOf('d', epoch, timeZone));
    }
    default:
      throw new Error(`unit ${unit} not handled here`);
  }
}

/**
 * A panel's range as Grafana computes it: the dashboard's `from` unless the panel has a relative
 * time (`timeFrom`: "31d" means now-31d, "now/M" the month so far), then its timeShift.
 */
export function panelRange(now: number, dashboardFrom: string, timeZone: string, timeFrom?: string, timeShift?: string): { from: number; to: number } {
  const expression = timeFrom === undefined ? dashboardFrom : timeFrom.startsWith('now') ? timeFrom : `now-${timeFrom}`;
  let from: number;
  const relative = /^now-(\d+)([mhdMy])$/.exec(expression);
  const rounded = /^now\/([dMy])$/.exec(expression);
  if (relative) from = minus(now, Number(relative[1]), relative[2] ?? '', timeZone);
  else if (rounded) from = startOf(rounded[1] as CalendarUnit, now, timeZone);
  else throw new Error(`time range ${expression} not handled here`);
  let to = now;
  if (timeShift !== undefined) {
    const shift = /^(\d+)([mhdMy])$/.exec(timeShift);
    if (!shift) throw new Error(`time shift ${timeShift} not handled here`);
    const amount = Number(shift[1]);
    const unit = shift[2] ?? '';
    from = minus(from, amount, unit, timeZone);
    to = minus(to, amount, unit, timeZone);
  }
  return { from, to };
}
