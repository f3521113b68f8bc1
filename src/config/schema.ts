// The config file's shape, as written (snake_case keys, YAML). One zod schema is the single source
// of the validation, of the defaults, of the valid environment variable names and of the JSON
// Schema that editors validate the file with (npm run schema). Objects are strict: an unknown key
// is an error, never silently ignored. Checks that need more than one value (unique names, a job's
// meters, the storage path) live in load.ts.

import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { parseMeterUrl } from '../app/meter-url.js';
import { meterModels, registerCatalogue } from '../registers/catalogue.js';
import { resolveRegister, UnknownRegisterError } from '../registers/resolve.js';
import type { DomoticzAuth, DomoticzCounterMeterType, DomoticzDeviceType } from './types.js';

export const DEFAULT_CONFIG_FILE = 'kamstrup-logger.yaml';
export const EXAMPLE_CONFIG_FILE = 'kamstrup-logger.example.yaml';
export const DEFAULT_MODEL = 'multical-402';
export const DEFAULT_STORAGE_PATH = './data/kamstrup.sqlite';
export const DEFAULT_RETENTION_DAYS = 400;
/** The meter client's own defaults (src/meter/client.ts), repeated here so the config is complete. */
export const DEFAULT_TIMEOUT_MS = 1600;
export const DEFAULT_RETRIES = 2;

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

export const limits = {
  timeoutMs: { min: 1, max: 60_000 },
  retries: { min: 0, max: 10 },
  retentionDays: { min: 1, max: 36_500 },
  registerId: { min: 0, max: 0xffff },
} as const;

export const NAME_PATTERN = /^[a-z0-9_-]+$/;
const NAME_MAX_LENGTH = 64;

/**
 * Keys whose values are secrets, as key paths with `*` for any list index or mapping key
 * (e.g. 'sinks.influxdb.token'). In YAML each may instead be given as `<key>_file: /run/secrets/…`,
 * and the file's content (trailing newline trimmed) becomes the value. Each also declares its
 * `<key>_file` key in its strict object (with `secretFileKey`) so that editors accept it.
 */
export const secretKeys: readonly string[] = ['sinks.influxdb.token', 'sinks.influxdb.password', 'sinks.domoticz.token', 'sinks.domoticz.password'];

/** The `<key>_file` twin of a secret key, for the strict object that holds the secret. */
export function secretFileKey(key: string): z.ZodOptional<z.ZodString> {
  return z.string().min(1).optional().meta({ title: `${key} from a file`, description: `A file whose content (trailing newline trimmed) is the ${key}, e.g. a Docker secret under /run/secrets/.` });
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function wholeNumber(what: string, min: number, max: number): z.ZodNumber {
  const range = `a whole number from ${min} to ${max}`;
  return z
    // A missing one gets the generic issue, which load.ts words as "missing" with the key's description.
    .number({ error: (issue) => (issue.input === undefined ? undefined : `${what} takes ${range}, not ${show(issue.input)}`) })
    .int({ error: (issue) => `${show(issue.input)} is not a whole number; ${what} takes ${range}` })
    .min(min, { error: (issue) => `${show(issue.input)} is out of range; ${what} takes ${range}` })
    .max(max, { error: (issue) => `${show(issue.input)} is out of range; ${what} takes ${range}` });
}

function name(what: string): z.ZodString {
  const rule = `lower-case letters, digits, _ and - (at most ${NAME_MAX_LENGTH})`;
  return z
    .string()
    .min(1, { error: `a ${what} name cannot be empty; use ${rule}` })
    .max(NAME_MAX_LENGTH, { error: `a ${what} name has at most ${NAME_MAX_LENGTH} characters` })
    .regex(NAME_PATTERN, { error: (issue) => `${show(issue.input)} is not a valid ${what} name; use ${rule}, e.g. ${suggestName(issue.input)}` });
}

function suggestName(input: unknown): string {
  const text = typeof input === 'string' ? input.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') : '';
  return JSON.stringify(text === '' ? 'home' : text.slice(0, NAME_MAX_LENGTH));
}

// --- Checks of single values -------------------------------------------------------------------

const cronFieldLabels: Readonly<Record<string, string>> = {
  second: 'second (0-59)',
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dayOfMonth: 'day of month (1-31)',
  month: 'month (1-12 or jan-dec)',
  dayOfWeek: 'weekday (0-7 or sun-sat; 0 and 7 are Sunday)',
};

const CRON_SHAPE = 'a cron expression has 5 fields (minute hour day month weekday) or 6 (with seconds first)';

/** node-cron's @ shorthands, refused so every schedule reads the same way, with what to write. */
const cronShorthands: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const cronFields = [
  { key: 'second', min: 0, max: 59, round: 'minute', names: [] },
  { key: 'minute', min: 0, max: 59, round: 'hour', names: [] },
  { key: 'hour', min: 0, max: 23, round: 'day', names: [] },
  { key: 'dayOfMonth', min: 1, max: 31, round: 'month', names: [] },
  { key: 'month', min: 1, max: 12, round: 'year', names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { key: 'dayOfWeek', min: 0, max: 6, round: 'week', names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

type CronField = (typeof cronFields)[number];

/** A range end as a number: digits, or a month or weekday name (jan, january); NaN when neither. */
function rangeEnd(text: string, field: CronField): number {
  if (/^\d+$/.test(text)) return Number(text);
  const index = (field.names as readonly string[]).indexOf(text.slice(0, 3).toLowerCase());
  return index < 0 ? NaN : index + field.min;
}

/** `first-last/step` wrapped round the end of the field, written as forward ranges. */
function forwardRanges(first: number, last: number, step: number, field: CronField): string {
  const stepText = step === 1 ? '' : `/${step}`;
  // 7 and 0 are both Sunday: 7-1 is 0-1, and 5-0 is 5-7.
  if (field.key === 'dayOfWeek' && first === 7) return `0-${last}${stepText}`;
  if (field.key === 'dayOfWeek' && last === 0 && step === 1) return `${first}-7`;
  const range = (from: number, to: number): string => (from === to ? `${from}` : `${from}-${to}${stepText}`);
  const lastBeforeEnd = first + step * Math.floor((field.max - first) / step);
  const restart = lastBeforeEnd + step - (field.max - field.min + 1);
  return restart > last ? range(first, lastBeforeEnd) : `${range(first, lastBeforeEnd)},${range(restart, last)}`;
}

function fieldNotValid(key: string, value: string): string {
  const label = cronFieldLabels[key] ?? key;
  return `the ${label.replace(/ \(.*/, '')} field ${JSON.stringify(value)} is not valid; it takes ${label.replace(/^[^(]*\(|\)$/g, '')}, *, ranges a-b, lists a,b and steps */n`;
}

/**
 * Ranges written backwards (`5-1`), which node-cron wraps round the end of the field, silently,
 * even from a start past the end (`60-1`, weekday `8-1`): nobody reading them expects that.
 */
function backwardRanges(text: string): { field: string; reason: string }[] {
  const fields = text.split(/\s+/);
  const offset = fields.length === 5 ? 1 : 0;
  const found: { field: string; reason: string }[] = [];
  fields.forEach((value, index) => {
    const field = cronFields[index + offset];
    if (field === undefined) return;
    for (const token of value.split(',')) {
      const match = /^([a-z0-9]+)-([a-z0-9]+)(?:\/(\d+))?$/i.exec(token);
      if (match === null) continue;
      const first = rangeEnd(match[1] ?? '', field);
      const last = rangeEnd(match[2] ?? '', field);
      const step = Number(match[3] ?? 1);
      if (!(first > last) || step < 1) continue;
      // 7 is Sunday too.
      const highest = field.key === 'dayOfWeek' ? 7 : field.max;
      if (first > highest || last < field.min) {
        found.push({ field: field.key, reason: fieldNotValid(field.key, value) });
        continue;
      }
      const label = (cronFieldLabels[field.key] ?? field.key).replace(/ \(.*/, '');
      found.push({ field: field.key, reason: `the ${label} range "${token}" runs backwards: write "${forwardRanges(first, last, step, field)}" to wrap round the ${field.round}, or "${last}-${first}"` });
    }
  });
  return found;
}

/** Why a cron expression is not valid, naming the field at fault; null when it is valid. */
export function cronProblem(expression: string): string | null {
  const text = expression.trim();
  if (text === '') return `the cron expression is empty; ${CRON_SHAPE}, e.g. "*/5 * * * *"`;
  if (text.startsWith('@')) {
    const fields = cronShorthands[text.toLowerCase()];
    if (fields === undefined) return `${JSON.stringify(expression)} is not a cron expression; ${CRON_SHAPE}, e.g. "*/5 * * * *"`;
    return `${JSON.stringify(expression)} is a shorthand the logger does not take; ${CRON_SHAPE}: write "${fields}"`;
  }
  const fields = text.split(/\s+/).length;
  if (fields < 5 || fields > 6) {
    return `${JSON.stringify(expression)} has ${fields} field${fields === 1 ? '' : 's'}; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)`;
  }
  const result = validateDetailed(text);
  const reasons = result.errors.map((error) => {
    if (cronFieldLabels[error.field] === undefined) {
      if (/illegal characters/.test(error.message)) return `it holds characters a cron expression cannot have (use digits, names like mon or jan, and * , - /)`;
      return error.message;
    }
    if (/impossible day/.test(error.message)) return `the day of month ${JSON.stringify(error.value ?? '')} never occurs in the months given, so the job would never run`;
    return fieldNotValid(error.field, error.value ?? '');
  });
  // A field node-cron refused already has its reason.
  const refused = new Set(result.errors.map((error) => error.field));
  const unflagged = new Set<string>();
  for (const { field, reason } of backwardRanges(text)) {
    if (refused.has(field) || unflagged.has(reason)) continue;
    unflagged.add(reason);
    reasons.push(reason);
  }
  return reasons.length === 0 ? null : `${JSON.stringify(expression)}: ${reasons.join('; ')}`;
}

function hasCode(error: unknown, code: string): error is Error {
  return error instanceof Error && 'code' in error && error.code === code;
}

/** Why a meter URL is not valid (the meter URL parser's own message); null when it is. */
export function meterUrlProblem(url: string): string | null {
  try {
    parseMeterUrl(url);
    return null;
  } catch (error) {
    if (hasCode(error, 'bad-url')) return error.message;
    throw error;
  }
}

/** Why a register name is not known (with the nearest names); null when it resolves. */
export function registerProblem(input: string): string | null {
  try {
    resolveRegister(input);
    return null;
  } catch (error) {
    if (error instanceof UnknownRegisterError) return error.message;
    throw error;
  }
}

/**
 * Why a sink URL is not an http(s) URL; null when it is. `credentials` says how the sink takes a
 * user name, password or token instead of the URL; `example` is a URL of that sink.
 */
function httpUrlProblem(url: string, credentials: string, example: string): string | null {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  // Credentials in a URL end up in every message that names the server, and fetch-style clients
  // would not send them anyway; the value itself is not repeated here for the same reason.
  if (parsed !== null && (parsed.username !== '' || parsed.password !== '')) {
    return `the url holds a user name or password (${parsed.protocol}//…@${parsed.host}): take them out of it and give them as ${credentials}`;
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return `"${url}" is not an http:// or https:// URL, e.g. ${example}`;
  return null;
}

function influxUrlProblem(url: string): string | null {
  return httpUrlProblem(url, 'username and password (api: v1) or token (api: v2), or their _file keys', 'http://localhost:8086');
}

const DOMOTICZ_URL_EXAMPLE = 'http://192.168.2.253:8080';

const DOMOTICZ_CREDENTIALS = 'auth: basic with username and password (or password_file), or auth: bearer with token (or token_file)';

/**
 * The client appends /json.htm?…, so the url is the server's address and nothing more. Old
 * scripts' URLs held /json.htm and ?username=…&password=… (refused by Domoticz since 2023), and a
 * browser's holds #/Dashboard. The query is never repeated: it may hold credentials.
 */
function domoticzUrlProblem(url: string): string | null {
  const problem = httpUrlProblem(url, DOMOTICZ_CREDENTIALS, DOMOTICZ_URL_EXAMPLE);
  if (problem !== null) return problem;
  const parsed = new URL(url);
  const base = parsed.pathname.replace(/\/json\.htm$/i, '').replace(/\/+$/, '');
  const address = `${parsed.origin}${base}`;
  if (/[?&](username|password)=/i.test(parsed.search)) {
    return `the url holds username= or password= parameters, which Domoticz refuses since 2023: take them out (url: ${address}) and give them as ${DOMOTICZ_CREDENTIALS}`;
  }
  if (url.includes('?')) return `the url has a ?query (not shown: it may hold a secret): the url is only Domoticz's address (and path, behind a reverse proxy), e.g. ${address}`;
  if (url.includes('#')) return `the url has a #fragment ("${parsed.hash}"), as a browser's address does: the url is only Domoticz's address, e.g. ${address}`;
  if (base !== parsed.pathname.replace(/\/+$/, '')) return `leave /json.htm out of the url (the logger adds it): ${address}`;
  return null;
}

/** A string that `problemOf` accepts; otherwise its message is the issue. */
function checkedString(problemOf: (text: string) => string | null): z.ZodString {
  return z.string().superRefine((text, ctx) => {
    const problem = problemOf(text);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** Why a billing date is not "MM-DD" of a day that exists; null when it is. */
export function billingDateProblem(text: string): string | null {
  const match = /^(\d{2})-(\d{2})$/.exec(text);
  const days = match === null ? 0 : new Date(Date.UTC(2024, Number(match[1]), 0)).getUTCDate();
  if (match !== null && Number(match[1]) >= 1 && Number(match[1]) <= 12 && Number(match[2]) >= 1 && Number(match[2]) <= days) return null;
  return `${show(text)} is not a billing date; write the month and day as "MM-DD", e.g. "06-01"`;
}

/** Why a time zone is not one this system knows (IANA names such as Europe/Amsterdam); null when it is. */
export function timeZoneProblem(text: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
    return null;
  } catch {
    return `${show(text)} is not a time zone this system knows; use an IANA name such as "Europe/Amsterdam" or "UTC"`;
  }
}

export const DEFAULT_GAP_MINUTES = 120;
export const gapMinuteLimits = { min: 1, max: 10_080 } as const;

// --- The schema --------------------------------------------------------------------------------

const meterSchema = z
  .strictObject({
    name: name('meter').meta({ title: 'Meter name', description: 'Tags every reading of this meter downstream (SQLite, InfluxDB, Domoticz). Unique; lower-case letters, digits, _ and -.' }),
    url: checkedString(meterUrlProblem).meta({ title: 'Meter URL', description: 'Where the meter is: a serial device path (/dev/serial/by-id/…, /dev/ttyUSB0), serial:///dev/ttyUSB0?baud=2400, tcp://HOST:PORT (a raw TCP bridge such as ser2net) or sim://multical-402 (the built-in simulator).' }),
    model: z.enum(meterModels).default(DEFAULT_MODEL).meta({ title: 'Meter model', description: `Which catalogue registers the meter has; picks the default jobs' registers. Default ${DEFAULT_MODEL}.` }),
    timeout_ms: wholeNumber('timeout_ms', limits.timeoutMs.min, limits.timeoutMs.max)
      .optional()
      .meta({ title: 'Answer timeout (ms)', description: `How long to wait for the meter's first answer byte. Default ${DEFAULT_TIMEOUT_MS}.` }),
    retries: wholeNumber('retries', limits.retries.min, limits.retries.max)
      .optional()
      .meta({ title: 'Retries', description: `Attempts after a silent or garbled answer. Default ${DEFAULT_RETRIES}.` }),
    billing_date: checkedString(billingDateProblem)
      .optional()
      .meta({ title: 'Billing date', description: "The first day of the utility's billing year, \"MM-DD\" (e.g. \"06-01\"), for `report --by billing`, until the meter's own target date (register 98, target_date) is read. Default 01-01." }),
  })
  .meta({ title: 'Meter', description: 'One meter and the link to it.' });

const registerSchema = z
  .union(
    [
      checkedString(registerProblem),
      wholeNumber('a register id', limits.registerId.min, limits.registerId.max),
    ],
    { error: (issue) => `expected a register name or id (heat_energy, E1, 60, 0x3C), not ${show(issue.input)}` },
  )
  .meta({
    title: 'Register',
    description: 'A catalogue name (heat_energy), a label (E1, MaxFlow_M), a decimal id (60) or a hex id (0x3C).',
    examples: registerCatalogue.map((d) => d.name),
  });

const jobSchema = z
  .strictObject({
    name: name('job').meta({ title: 'Job name', description: 'Recorded with every reading the job takes. Unique; lower-case letters, digits, _ and -.' }),
    cron: checkedString(cronProblem).meta({ title: 'Schedule', description: 'A cron expression in local time: 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. "*/5 * * * *" or "*/10 * * * * *".' }),
    registers: z
      .array(registerSchema)
      .min(1, { error: 'a job reads at least one register' })
      .meta({ title: 'Registers', description: 'What the job reads, in as few exchanges as the protocol allows (8 registers per request).' }),
    meters: z
      .array(z.string().meta({ title: 'Meter name' }))
      .min(1, { error: 'an empty list reads no meter; leave meters out to read every meter' })
      .optional()
      .meta({ title: 'Meters', description: 'The names of the meters this job reads. Default: every meter.' }),
  })
  .meta({ title: 'Job', description: 'Registers to read from some meters on a cron schedule.' });

/** A sink's ca_file; load.ts reads it (sinksWithCaFile). */
const caFileSchema = z
  .string()
  .min(1)
  .optional()
  .meta({ title: 'CA certificate file', description: "For an https:// url whose certificate is self-signed or from a private CA: that CA's certificate (PEM), trusted besides the system's. A relative path is relative to the config file's directory." });

export const influxApis = ['v2', 'v1'] as const;
export const DEFAULT_INFLUX_BATCH_SIZE = 5000;
export const DEFAULT_INFLUX_TIMEOUT_MS = 10_000;

const influxdbSchema = z
  .strictObject({
    url: checkedString(influxUrlProblem).meta({ title: 'InfluxDB URL', description: 'The server, e.g. http://localhost:8086 (InfluxDB 1.x, 2.x), http://localhost:8181 (InfluxDB 3), http://localhost:8428 (VictoriaMetrics).' }),
    api: z.enum(influxApis).default('v2').meta({
      title: 'Write API',
      description: 'v2: token, org and bucket through /api/v2/write (InfluxDB 2.x, 3.x, 1.8+, VictoriaMetrics). v1: database, retention_policy, username and password through /write (InfluxDB 1.x, including the 1.6 of Debian and Raspberry Pi OS). Default v2.',
    }),
    token: z.string().min(1).optional().meta({ title: 'API token (v2)', description: 'The token; better given as token_file or KAMSTRUP_SINKS__INFLUXDB__TOKEN_FILE. For InfluxDB 1.8 with auth: "username:password".' }),
    token_file: secretFileKey('token'),
    org: z.string().min(1).optional().meta({ title: 'Organisation (v2)', description: 'InfluxDB 2.x: the organisation name; ignored by 1.8, 3.x and VictoriaMetrics.' }),
    bucket: z.string().min(1).optional().meta({ title: 'Bucket (v2)', description: 'The bucket (InfluxDB 1.8: "database/retention-policy"; InfluxDB 3: the database).' }),
    database: z.string().min(1).optional().meta({ title: 'Database (v1)', description: 'The InfluxDB 1.x database; it must exist (CREATE DATABASE heat).' }),
    retention_policy: z.string().min(1).optional().meta({ title: 'Retention policy (v1)', description: "The retention policy; default: the database's default." }),
    username: z.string().min(1).optional().meta({ title: 'User (v1)', description: 'With auth-enabled on InfluxDB 1.x.' }),
    password: z.string().min(1).optional().meta({ title: 'Password (v1)', description: 'Better given as password_file or KAMSTRUP_SINKS__INFLUXDB__PASSWORD_FILE.' }),
    password_file: secretFileKey('password'),
    batch_size: wholeNumber('batch_size', 1, 50_000)
      .default(DEFAULT_INFLUX_BATCH_SIZE)
      .meta({ title: 'Batch size (points)', description: `Points per write. Default ${DEFAULT_INFLUX_BATCH_SIZE}.` }),
    timeout_ms: wholeNumber('timeout_ms', 100, 600_000)
      .default(DEFAULT_INFLUX_TIMEOUT_MS)
      .meta({ title: 'Request timeout (ms)', description: `How long one request (a write, or a check) may take, answer included. Default ${DEFAULT_INFLUX_TIMEOUT_MS}.` }),
    ca_file: caFileSchema,
  })
  .superRefine((sink, ctx) => {
    if (sink.api === 'v2' && sink.bucket === undefined) ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'api v2 writes to a bucket: set bucket (or use api: v1 with a database)' });
    if (sink.api === 'v1' && sink.database === undefined) ctx.addIssue({ code: 'custom', path: ['database'], message: 'api v1 writes to a database: set database (or use api: v2 with a bucket)' });
    if (sink.api === 'v1' && (sink.username === undefined) !== (sink.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: [sink.username === undefined ? 'username' : 'password'], message: 'username and password go together' });
    }
  })
  .meta({ title: 'InfluxDB', description: 'Delivers every reading to InfluxDB (or VictoriaMetrics) from the store, exactly once per point, through any outage.' });

export const domoticzAuthKinds = ['none', 'basic', 'bearer'] as const satisfies readonly DomoticzAuth['kind'][];
export const domoticzDeviceTypes = ['electric', 'temperature', 'custom', 'usage', 'counter', 'waterflow', 'percentage', 'text', 'alert'] as const satisfies readonly DomoticzDeviceType[];
export const domoticzCounterMeterTypes = ['energy', 'water', 'custom'] as const satisfies readonly DomoticzCounterMeterType[];
export const DEFAULT_DOMOTICZ_REFRESH_MINUTES = 55;
export const DEFAULT_DOMOTICZ_TIMEOUT_MS = DEFAULT_INFLUX_TIMEOUT_MS;
/** A heat meter feeds about seven tiles; far more is a generated or pasted list. */
export const DOMOTICZ_MAX_DEVICES = 200;
/** Domoticz keeps idx in a signed 32-bit integer. */
const DOMOTICZ_MAX_IDX = 2_147_483_647;

const domoticzDeviceSchema = z
  .strictObject({
    idx: wholeNumber('idx', 1, DOMOTICZ_MAX_IDX).meta({ title: 'Device idx', description: "The device's idx in Domoticz (Setup → Devices, column Idx; `kamstrup-logger domoticz setup` prints it). Unique." }),
    type: z.enum(domoticzDeviceTypes).meta({
      title: 'Device type',
      description:
        'What the Domoticz device is: electric (Electric Instant+Counter: power and energy), temperature, custom (Custom sensor), usage (Usage Electric: power), counter (Counter RFXMeter), waterflow, percentage, text, alert (the info code).',
    }),
    register: registerSchema.optional().meta({ title: 'Register', description: 'The register that feeds the device (every type but electric): a catalogue name, label or id.' }),
    power: registerSchema.optional().meta({ title: 'Power register (electric)', description: 'Electric devices: the power register, sent in W (e.g. power).' }),
    energy: registerSchema.optional().meta({ title: 'Energy register (electric)', description: "Electric devices: the energy register, sent in Wh whatever the meter's energy unit (e.g. heat_energy)." }),
    meter: z.string().min(1).optional().meta({ title: 'Meter', description: 'The name of the meter whose readings feed the device; required when the config has several meters.' }),
    meter_type: z.enum(domoticzCounterMeterTypes).optional().meta({
      title: 'Counter meter type (counter)',
      description: 'Counters: energy (an energy register, sent in Wh, divider 1000), water (a volume register, sent in litres, divider 1000) or custom (any numeric register × divider).',
    }),
    divider: wholeNumber('divider', 1, 1_000_000)
      .optional()
      .meta({ title: 'Divider (custom counter)', description: "Custom counters: the counter's divider in Domoticz; the value × divider is sent as a whole count. Default 1." }),
    unit: z.string().min(1).max(64).optional().meta({ title: 'Unit label (custom)', description: "Custom sensors and custom counters: the unit Domoticz shows. Default for a custom sensor: the register's unit." }),
  })
  .meta({ title: 'Domoticz device', description: 'One Domoticz device and the register(s) that feed it.' });

const domoticzSchema = z
  .strictObject({
    url: checkedString(domoticzUrlProblem).meta({ title: 'Domoticz URL', description: `The Domoticz server, http:// or https://, e.g. ${DOMOTICZ_URL_EXAMPLE}; never with credentials in it.` }),
    auth: z.enum(domoticzAuthKinds).default('none').meta({
      title: 'Authentication',
      description:
        'none: the logger\'s address is in Domoticz\'s Trusted Networks (Setup → Settings → Security). basic: username and password of a Domoticz User account (over plain HTTP, enable "Allow Basic-Auth authentication over plain HTTP"). bearer: token, an OAuth2 access token. Default none.',
    }),
    username: z.string().min(1).optional().meta({ title: 'User (basic)', description: 'auth: basic: a Domoticz account with the User right (a Viewer cannot update devices).' }),
    password: z.string().min(1).optional().meta({ title: 'Password (basic)', description: 'auth: basic: better given as password_file or KAMSTRUP_SINKS__DOMOTICZ__PASSWORD_FILE.' }),
    password_file: secretFileKey('password'),
    token: z.string().min(1).optional().meta({ title: 'Access token (bearer)', description: 'auth: bearer: an OAuth2 access token; better given as token_file or KAMSTRUP_SINKS__DOMOTICZ__TOKEN_FILE.' }),
    token_file: secretFileKey('token'),
    refresh_minutes: wholeNumber('refresh_minutes', 1, 1440)
      .default(DEFAULT_DOMOTICZ_REFRESH_MINUTES)
      .meta({
        title: 'Refresh (minutes)',
        description: `A device's newest value is sent again when Domoticz last got it longer ago than this (Domoticz marks a sensor timed out after 60 minutes without an update). Default ${DEFAULT_DOMOTICZ_REFRESH_MINUTES}.`,
      }),
    timeout_ms: wholeNumber('timeout_ms', 100, 600_000)
      .default(DEFAULT_DOMOTICZ_TIMEOUT_MS)
      .meta({ title: 'Request timeout (ms)', description: `How long one request may take, answer included. Default ${DEFAULT_DOMOTICZ_TIMEOUT_MS}.` }),
    ca_file: caFileSchema,
    devices: z
      .array(domoticzDeviceSchema)
      .max(DOMOTICZ_MAX_DEVICES, { error: (issue) => `${Array.isArray(issue.input) ? issue.input.length : 'too many'} devices; one logger feeds at most ${DOMOTICZ_MAX_DEVICES}: is this the right file?` })
      .default([])
      .meta({ title: 'Devices', description: 'The Domoticz devices to keep on their newest value; `kamstrup-logger domoticz setup` creates them and prints this list.' }),
  })
  .meta({ title: 'Domoticz', description: "Keeps Domoticz devices on each one's newest reading (Domoticz takes no timestamps, so old readings are never replayed)." });

export const configSchema = z
  .strictObject({
    meters: z
      .array(meterSchema, {
        error: (issue) => (issue.input === undefined ? `missing: list at least one meter (name and url), in the file or as KAMSTRUP_METERS__0__NAME and KAMSTRUP_METERS__0__URL in the environment` : undefined),
      })
      .min(1, { error: 'list at least one meter (name and url)' })
      .meta({ title: 'Meters', description: 'The meters to read, each on its own link.' }),
    storage: z
      .strictObject({
        path: z
          .string()
          .min(1, { error: 'the storage path is empty; leave it out for the default ' + DEFAULT_STORAGE_PATH })
          .default(DEFAULT_STORAGE_PATH)
          .meta({ title: 'Database file', description: `The SQLite database file. A relative path is relative to the config file's directory. Default ${DEFAULT_STORAGE_PATH}.` }),
        retention_days: wholeNumber('retention_days', limits.retentionDays.min, limits.retentionDays.max)
          .default(DEFAULT_RETENTION_DAYS)
          .meta({ title: 'Retention (days)', description: `Delivered readings older than this are pruned; undelivered ones are kept. Default ${DEFAULT_RETENTION_DAYS}.` }),
      })
      .prefault({})
      .meta({ title: 'Storage', description: 'Where every reading is stored before it is delivered anywhere.' }),
    jobs: z
      .array(jobSchema)
      .optional()
      .meta({
        title: 'Jobs',
        description:
          'When to read what. Default: "live" every 5 minutes (heat_energy, power, t1, t2, t_diff, flow, volume, hour_counter, info) and "statistics" hourly at minute 7 (every monthly and yearly register of the meter model, with their dates).',
      }),
    time_zone: checkedString(timeZoneProblem)
      .optional()
      .meta({ title: 'Time zone', description: 'The IANA time zone (Europe/Amsterdam) whose local days, weeks, months and years the consumption figures and the job schedules follow. Default: the process\'s zone (TZ).' }),
    consumption: z
      .strictObject({
        gap_minutes: wholeNumber('gap_minutes', gapMinuteLimits.min, gapMinuteLimits.max)
          .default(DEFAULT_GAP_MINUTES)
          .meta({ title: 'Gap (minutes)', description: `Readings further apart than this (the logger or the meter was down) are still spread over the time between them, but the periods they touch are marked with the gap's hours. Default ${DEFAULT_GAP_MINUTES}.` }),
      })
      .prefault({})
      .meta({ title: 'Consumption', description: 'How `report` and the kamstrup_consumption measurement cut counter readings into periods.' }),
    log: z
      .strictObject({
        level: z.enum(logLevels).default(DEFAULT_LOG_LEVEL).meta({ title: 'Log level', description: `trace, debug, info, warn, error, fatal or silent. Default ${DEFAULT_LOG_LEVEL}.` }),
      })
      .prefault({})
      .meta({ title: 'Logging', description: 'JSON lines on stdout; human-readable on a terminal or with --pretty.' }),
    sinks: z
      .strictObject({ influxdb: influxdbSchema.optional(), domoticz: domoticzSchema.optional() })
      .prefault({})
      .meta({ title: 'Sinks', description: "Where readings are delivered from the store, through any outage: InfluxDB gets every reading, oldest first; Domoticz each device's newest value." }),
  })
  .meta({
    title: 'kamstrup-logger configuration',
    description: 'Meters, jobs, storage and logging of the kamstrup-logger daemon. Every value can also be set by an environment variable: KAMSTRUP_ + the key path in upper case, levels joined by __ (KAMSTRUP_METERS__0__URL); with the suffix _FILE the value is read from a file.',
  });

/** The file as written (snake_case), before defaults. */
export type ConfigInput = z.input<typeof configSchema>;
/** The file after validation and the schema's defaults (snake_case). */
export type ConfigFile = z.output<typeof configSchema>;
export type MeterInput = z.output<typeof meterSchema>;
export type JobInput = z.output<typeof jobSchema>;
export type DomoticzSinkInput = z.output<typeof domoticzSchema>;
export type DomoticzDeviceInput = z.output<typeof domoticzDeviceSchema>;
