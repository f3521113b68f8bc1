// The checks of sinks.domoticz that the schema cannot make alone: which credentials the chosen
// auth takes, which keys each device type takes, idx given once, the device's meter, and that each
// register fits its device type and is read by a job on that meter (the renderer updates a device
// from one job run, so an electric device's two registers must come from one job). They work on
// the raw config, so every problem is found in one pass, even where the schema found others.

import type { Quantity, RegisterDefinition } from '../registers/catalogue.js';
import { resolveRegister, UnknownRegisterError, type RegisterRef } from '../registers/resolve.js';
import { isRecord, nearest, type KeyPath } from './keys.js';
import { domoticzCounterMeterTypes, domoticzDeviceTypes, domoticzAuthKinds } from './schema.js';
import type { DomoticzCounterMeterType, DomoticzDeviceType } from './types.js';

/** A job as the checks see it: its registers resolved (the unknown ones left out, the schema reports them). */
export interface CheckedJob {
  readonly name: string;
  readonly registerIds: readonly number[];
  readonly meters: readonly string[];
}

export interface DomoticzCheckContext {
  /** The meters' names; null when an entry has none (the schema reports it), so nothing to check against. */
  readonly meters: readonly string[] | null;
  /** The jobs (the default ones when the config lists none); null when one cannot be read. */
  readonly jobs: readonly CheckedJob[] | null;
  /** Whether the jobs are the defaults: a register they do not read needs jobs of the user's own. */
  readonly defaultJobs: boolean;
}

export type Report = (path: KeyPath, message: string) => void;

export const DOMOTICZ_SINK_PATH: KeyPath = ['sinks', 'domoticz'];

/** The info register: the only one an alert device can show (its code → a level and a text). */
const INFO_REGISTER_ID = 99;

/** The meter a device is fed by: the one it names, else the only meter. */
export function deviceMeter(named: string | undefined, meters: readonly string[]): string | undefined {
  return named ?? (meters.length === 1 ? meters[0] : undefined);
}

export function checkDomoticz(sink: unknown, context: DomoticzCheckContext, report: Report): void {
  if (!isRecord(sink)) return;
  checkAuth(sink, report);
  const devices = sink.devices;
  if (!Array.isArray(devices)) return;
  const firstIdx = new Map<number, number>();
  devices.forEach((device: unknown, index) => {
    if (!isRecord(device)) return;
    const path: KeyPath = [...DOMOTICZ_SINK_PATH, 'devices', index];
    const idx = device.idx;
    if (typeof idx === 'number' && Number.isInteger(idx)) {
      const earlier = firstIdx.get(idx);
      if (earlier === undefined) firstIdx.set(idx, index);
      else report([...path, 'idx'], `idx ${idx} is already the idx of devices[${earlier}]; list each Domoticz device once (a device shows one value)`);
    }
    checkDevice(device, path, context, report);
  });
}

// --- Authentication ----------------------------------------------------------------------------

type AuthKind = (typeof domoticzAuthKinds)[number];

const credentialsOf: Readonly<Record<AuthKind, readonly string[]>> = { none: [], basic: ['username', 'password'], bearer: ['token'] };

const authSends: Readonly<Record<AuthKind, string>> = {
  none: " (the default: the logger's address is in Domoticz's Trusted Networks), which sends no credentials",
  basic: ', which sends username and password',
  bearer: ', which sends only the token',
};

function checkAuth(sink: Record<string, unknown>, report: Report): void {
  const auth = sink.auth ?? 'none';
  if (!isOneOf(auth, domoticzAuthKinds)) return;
  const at = (key: string): KeyPath => [...DOMOTICZ_SINK_PATH, key];
  const given = (key: string): boolean => sink[key] !== undefined;
  if (auth === 'basic') {
    for (const key of ['username', 'password']) {
      if (!given(key)) report(at(key), `missing: auth: basic sends the user name and password of a Domoticz account: set username and password (or password_file)`);
    }
  }
  if (auth === 'bearer' && !given('token')) report(at('token'), 'missing: auth: bearer sends an OAuth2 access token: set token (or token_file)');
  // A credential the chosen auth does not send is a sign the auth is not the one meant.
  for (const key of ['username', 'password', 'token']) {
    if (!given(key) || credentialsOf[auth].includes(key)) continue;
    const meant = key === 'token' ? 'auth: bearer to send the token' : 'auth: basic to send username and password';
    report(at(key), `auth is ${auth}${authSends[auth]}, so the ${key} is not used: set ${meant}, or remove the ${key}`);
  }
}

// --- Devices -----------------------------------------------------------------------------------

/** The keys that name a register. */
type RegisterRole = 'register' | 'power' | 'energy';

const exampleRegister: Readonly<Record<DomoticzDeviceType, string>> = {
  electric: 'heat_energy',
  temperature: 't1',
  custom: 't_diff',
  usage: 'power',
  counter: 'volume',
  waterflow: 'flow',
  percentage: '<the id of a register in %>',
  text: 'info',
  alert: 'info',
};

function checkDevice(device: Record<string, unknown>, path: KeyPath, context: DomoticzCheckContext, report: Report): void {
  const type = device.type;
  if (!isOneOf(type, domoticzDeviceTypes)) return;
  const meterType = isOneOf(device.meter_type, domoticzCounterMeterTypes) ? device.meter_type : undefined;
  checkKeysOfType(device, type, meterType, path, report);

  const roles: readonly RegisterRole[] = type === 'electric' ? ['power', 'energy'] : ['register'];
  // Only registers that fit are checked against the jobs: one problem at a time per key.
  const registers = new Map<RegisterRole, RegisterRef>();
  for (const role of roles) {
    const ref = resolved(device[role]);
    if (ref === null) continue;
    const problem = fitProblem(type, type === 'counter' ? meterType : undefined, role, ref);
    if (problem !== null) report([...path, role], problem);
    else registers.set(role, ref);
  }

  const meter = checkMeter(device.meter, path, context, report);
  if (meter === undefined || context.jobs === null || registers.size !== roles.length) return;
  checkReadByOneJob(roles.map((role) => [role, registers.get(role) as RegisterRef] as const), meter, path, context.jobs, context.defaultJobs, report);
}

function checkKeysOfType(device: Record<string, unknown>, type: DomoticzDeviceType, meterType: DomoticzCounterMeterType | undefined, path: KeyPath, report: Report): void {
  const has = (key: string): boolean => device[key] !== undefined;
  const at = (key: string): KeyPath => [...path, key];
  if (type === 'electric') {
    if (has('register')) report(at('register'), 'an electric device reads two registers, power and energy, not one: write power: power and energy: heat_energy instead');
    for (const key of ['power', 'energy']) {
      if (!has(key)) report(at(key), 'missing: an electric device reads power (sent in W) and energy (sent in Wh), e.g. power: power and energy: heat_energy');
    }
  } else {
    if (!has('register')) report(at('register'), `missing: ${aDevice(type)} reads one register, e.g. register: ${exampleRegister[type]}`);
    for (const key of ['power', 'energy']) {
      if (has(key)) report(at(key), `${key} is for electric devices (power and energy together); ${aDevice(type)} reads one register: write register: instead`);
    }
  }
  if (type === 'counter') {
    if (!has('meter_type')) report(at('meter_type'), 'missing: a counter needs meter_type: energy (an energy register, sent in Wh), water (a volume register, sent in litres) or custom (any numeric register × divider)');
  } else if (has('meter_type')) {
    report(at('meter_type'), `meter_type is for counter devices; ${aDevice(type)} has none`);
  }
  const fixedCounter = type === 'counter' && meterType !== undefined && meterType !== 'custom' ? meterType : undefined;
  const shows = fixedCounter === 'energy' ? 'kWh' : 'm³';
  if (has('divider')) {
    if (fixedCounter !== undefined) report(at('divider'), `${anOf(fixedCounter)} counter's divider is always 1000 (it shows ${shows}); divider is for counters with meter_type: custom`);
    else if (type !== 'counter') report(at('divider'), `divider is for counter devices with meter_type: custom; ${aDevice(type)} has none`);
  }
  if (has('unit')) {
    if (fixedCounter !== undefined) report(at('unit'), `${anOf(fixedCounter)} counter shows ${shows}; unit is for custom devices and counters with meter_type: custom`);
    else if (type !== 'counter' && type !== 'custom') report(at('unit'), `unit is for custom devices and counters with meter_type: custom; ${aDevice(type)} shows Domoticz's own unit`);
  }
}

/** The register a key names; null when it names none (missing, or the schema reports it). */
function resolved(value: unknown): RegisterRef | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  try {
    return resolveRegister(String(value));
  } catch (error) {
    if (error instanceof UnknownRegisterError) return null;
    throw error;
  }
}

function registerName(ref: RegisterRef): string {
  return ref.definition === undefined ? `register ${ref.id}` : `${ref.definition.name} (${ref.id})`;
}

const quantityWords: Readonly<Record<Quantity, string>> = {
  energy: 'an energy register',
  power: 'a power register',
  volume: 'a volume register',
  flow: 'a flow register',
  temperature: 'a temperature',
  'temperature-difference': 'a temperature difference, not a temperature',
  'volume-temperature': 'a volume × temperature',
  date: 'a date',
  time: 'a time of day',
  'date-time': 'a date and time',
  duration: 'a duration',
  count: 'a count',
  code: 'a code',
};

const DATE_OR_TIME: readonly Quantity[] = ['date', 'time', 'date-time'];

/** What a device type (and role) takes, in words; and whether a catalogue register's quantity fits. */
interface Fit {
  readonly takes: string;
  readonly accepts: (definition: RegisterDefinition) => boolean;
}

function fitOf(type: DomoticzDeviceType, meterType: DomoticzCounterMeterType | undefined, role: RegisterRole): Fit | null {
  const quantity = (takes: string, ...quantities: Quantity[]): Fit => ({ takes, accepts: (d) => quantities.includes(d.quantity) });
  const numeric: Fit = { takes: 'a numeric register (not a date or time)', accepts: (d) => !DATE_OR_TIME.includes(d.quantity) };
  switch (type) {
    case 'electric':
      return role === 'power' ? quantity('a power register (power) as its power', 'power') : quantity('an energy register (heat_energy …) as its energy', 'energy');
    case 'temperature':
      return quantity('a temperature register (t1, t2 …)', 'temperature');
    case 'custom':
      return numeric;
    case 'usage':
      return quantity('a power register (power)', 'power');
    case 'counter':
      if (meterType === 'energy') return quantity('an energy register (heat_energy …)', 'energy');
      if (meterType === 'water') return quantity('a volume register (volume …)', 'volume');
      return meterType === 'custom' ? numeric : null;
    case 'waterflow':
      return quantity('a flow register (flow)', 'flow');
    case 'percentage':
      // No catalogue register is in %: only a register the catalogue does not know can be (its unit is checked on each reading).
      return { takes: "a register in % (the catalogue has none: give the id of one your meter has)", accepts: () => false };
    case 'text':
      return null;
    case 'alert':
      return { takes: 'the info register (info), whose code it shows as a level and a text', accepts: (d) => d.id === INFO_REGISTER_ID };
  }
}

/** Which device type a register of this kind feeds. */
function betterType(definition: RegisterDefinition): string {
  switch (definition.quantity) {
    case 'energy':
      return 'an electric device (as its energy) or a counter with meter_type: energy';
    case 'power':
      return 'a usage device or an electric device (as its power)';
    case 'volume':
      return 'a counter with meter_type: water';
    case 'flow':
      return 'a waterflow device';
    case 'temperature':
      return 'a temperature device';
    case 'date':
    case 'time':
    case 'date-time':
      return 'a text device';
    case 'code':
      return definition.id === INFO_REGISTER_ID ? 'an alert or a text device' : 'a text device';
    default:
      return 'a custom device';
  }
}

function fitProblem(type: DomoticzDeviceType, meterType: DomoticzCounterMeterType | undefined, role: RegisterRole, ref: RegisterRef): string | null {
  const fit = fitOf(type, meterType, role);
  if (fit === null) return null;
  const definition = ref.definition;
  // A register the catalogue does not know has no known quantity: each reading's unit is checked
  // when it is sent. Only an alert needs one register in particular.
  if (definition === undefined) return type === 'alert' ? `${registerName(ref)} is not the info register: an alert device takes ${fit.takes}` : null;
  if (fit.accepts(definition)) return null;
  const device = type === 'counter' ? `a counter with meter_type: ${meterType ?? ''}` : aDevice(type);
  const instead = role === 'register' ? `; map ${definition.name} to ${betterType(definition)}` : '';
  return `${registerName(ref)} is ${quantityWords[definition.quantity]}: ${device} takes ${fit.takes}${instead}`;
}

function checkMeter(named: unknown, path: KeyPath, context: DomoticzCheckContext, report: Report): string | undefined {
  const meters = context.meters;
  if (meters === null) return undefined;
  if (named === undefined) {
    const meter = deviceMeter(undefined, meters);
    if (meter === undefined && meters.length > 1) {
      report([...path, 'meter'], `missing: the config has several meters (${meters.map((m) => `"${m}"`).join(', ')}): name the one that feeds this device, e.g. meter: ${meters[0] ?? ''}`);
    }
    return meter;
  }
  if (typeof named !== 'string') return undefined;
  if (meters.includes(named)) return named;
  const guess = nearest(named, meters);
  report([...path, 'meter'], `no meter is named "${named}"; ${guess !== undefined ? `did you mean "${guess}"?` : `the meters are ${meters.map((m) => `"${m}"`).join(', ')}`}`);
  return undefined;
}

function checkReadByOneJob(
  registers: readonly (readonly [RegisterRole, RegisterRef])[],
  meter: string,
  path: KeyPath,
  jobs: readonly CheckedJob[],
  defaultJobs: boolean,
  report: Report,
): void {
  const onMeter = jobs.filter((job) => job.meters.includes(meter));
  if (onMeter.length === 0) {
    report(path, `no job reads meter "${meter}", so nothing would reach this device: name the meter in a job's meters (or leave a job's meters out to read every meter)`);
    return;
  }
  const jobNames = onMeter.map((job) => `"${job.name}"`).join(', ');
  let everyOneRead = true;
  for (const [role, ref] of registers) {
    if (onMeter.some((job) => job.registerIds.includes(ref.id))) continue;
    everyOneRead = false;
    const name = ref.definition?.name ?? String(ref.id);
    const fix = defaultJobs
      ? `the default jobs (${jobNames}) do not read it: list jobs of your own, one of them reading ${name} (see jobs: in kamstrup-logger.example.yaml)`
      : `add ${name} to the registers of a job that reads it (${jobNames})`;
    report([...path, role], `no job reads ${registerName(ref)} from meter "${meter}", so the device would never be updated: ${fix}`);
  }
  if (!everyOneRead || registers.length < 2) return;
  if (onMeter.some((job) => registers.every(([, ref]) => job.registerIds.includes(ref.id)))) return;
  const readers = registers.map(([, ref]) => `${ref.definition?.name ?? ref.id} by ${onMeter.filter((job) => job.registerIds.includes(ref.id)).map((job) => `"${job.name}"`).join(', ')}`);
  const names = registers.map(([, ref]) => registerName(ref)).join(' and ');
  report(path, `${names} are read by different jobs of meter "${meter}" (${readers.join('; ')}): an electric device is updated from one job run that holds both, so read both in one job`);
}

/** "an energy", "a water", "a usage". */
function anOf(word: string): string {
  return `${/^[aeio]/.test(word) ? 'an' : 'a'} ${word}`;
}

/** "a temperature device", "an alert device". */
function aDevice(type: DomoticzDeviceType): string {
  return `${anOf(type)} device`;
}

function isOneOf<T extends string>(value: unknown, options: readonly T[]): value is T {
  return typeof value === 'string' && (options as readonly string[]).includes(value);
}

