// `kamstrup-logger domoticz check` reads every configured device back and says whether it is
// the tile its type feeds; `domoticz setup` creates the Dummy hardware and the devices for a
// heat meter's registers (or reuses those that exist by name) and prints, or writes, the
// `devices:` block of sinks.domoticz.

import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { Document, isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { AppConfig, DomoticzAuth, DomoticzCounterMeterType, DomoticzDeviceConfig, DomoticzDeviceType, DomoticzSinkConfig } from '../config/index.js';
import { SinkError } from '../delivery/sink.js';
import { registerById, resolveRegister, UnknownRegisterError, type RegisterDefinition } from '../registers/index.js';
import { DomoticzClient } from '../sinks/domoticz/client.js';
import {
  checkDevices,
  checkResult,
  COUNTER_SWITCH_TYPES,
  DOMOTICZ_DEVICE_TYPES,
  deviceTypeLabel,
  registerNames,
  type DomoticzCommands,
} from '../sinks/domoticz/device-check.js';
import { configOption, loadConfigOrExit } from './config-option.js';
import { CliError, ExitCode } from './exit-codes.js';
import { formatColumns } from './output.js';

export const DEFAULT_HARDWARE_NAME = 'kamstrup-logger';
/** A heat meter's live values: one tile each, energy and power on one Electric tile. */
export const DEFAULT_SETUP_REGISTERS = ['power', 'heat_energy', 't1', 't2', 't_diff', 'flow', 'volume', 'info'] as const;
/** The Dummy hardware type (addhardware htype, gethardware Type). */
const DUMMY_HARDWARE_TYPE = 15;
const POWER_REGISTER = 80;
const HEAT_ENERGY_REGISTER = 60;
const INFO_REGISTER = 99;
const COUNTER_DIVIDER = 1000;

const ADD_SECTION_HINT =
  'add a sinks.domoticz section with the url of your Domoticz and how the logger signs in, for example\n' +
  '  sinks:\n    domoticz:\n      url: http://192.168.2.253:8080\n      auth: none   # the logger\'s address is in Domoticz\'s Trusted Networks\n' +
  'then run `kamstrup-logger domoticz setup` to create the devices (see kamstrup-logger.example.yaml)';

export function domoticzCommand(): Command {
  return new Command('domoticz')
    .description('create and check the Domoticz devices that sinks.domoticz feeds')
    .addCommand(subcommand(checkCommand()))
    .addCommand(subcommand(setupCommand()));
}

function subcommand(command: Command): Command {
  return command.exitOverride().showHelpAfterError('(add --help for usage)');
}

interface CheckOptions {
  readonly config: string;
}

function checkCommand(): Command {
  return new Command('check')
    .description('read every configured device back from Domoticz: does it exist, and is it the type the config feeds?')
    .addOption(configOption())
    .action(async (options: CheckOptions, command: Command) => {
      const { config, sink } = loadDomoticzConfig(options.config, command);
      if (sink.devices.length === 0) {
        throw new CliError(ExitCode.usage, `sinks.domoticz in ${configName(config, options.config)} lists no devices: \`kamstrup-logger domoticz setup --config ${options.config}\` creates them and prints the devices: block`);
      }
      const client = clientFor(sink);
      try {
        const checks = await checkDevices(client, sink.devices).catch((error: unknown) => {
          throw domoticzFailure(error, client.description, 'cannot check the devices');
        });
        const rows = checks.map(({ device, found, problem }) => [
          String(device.idx),
          found === null ? '-' : found.name,
          deviceTypeLabel(device),
          registerNames(device),
          found === null ? '-' : `${found.type} / ${found.subType}`,
          checkResult(problem),
        ]);
        process.stdout.write(`${formatColumns([['idx', 'name', 'type', 'registers', 'Domoticz type', 'result'], ...rows])}\n`);
        const problems = checks.flatMap(({ problem }) => (problem === null ? [] : [problem.message]));
        for (const message of problems) process.stdout.write(`${message}\n`);
        if (problems.length > 0) process.exitCode = ExitCode.failure;
      } finally {
        await client.close();
      }
    });
}

interface SetupOptions {
  readonly config: string;
  readonly hardwareName: string;
  readonly registers?: string;
  readonly dryRun?: boolean;
  readonly write?: boolean;
}

function setupCommand(): Command {
  return new Command('setup')
    .description('create the Dummy hardware and a virtual device per chosen register of each meter (reusing those that exist), and print the devices: block for the config')
    .addOption(configOption())
    .option('--hardware-name <name>', 'the Dummy hardware the devices belong to (found by name, created when missing)', DEFAULT_HARDWARE_NAME)
    .option('--registers <list>', `comma-separated registers to make devices for (default: ${DEFAULT_SETUP_REGISTERS.join(',')}, those the jobs read)`)
    .addOption(new Option('--dry-run', 'print the calls that would change Domoticz instead of making them (only reads are made)').conflicts('write'))
    .option('--write', 'write the devices: block into the config file instead of printing it')
    .action(async (options: SetupOptions, command: Command) => {
      const { config, sink } = loadDomoticzConfig(options.config, command);
      const planned = planDevices(config, options.registers);
      if (options.write === true && config.file === null) {
        throw new CliError(ExitCode.usage, '--write needs a config file to write into, but the config came from the environment alone: give --config FILE, or paste the printed block yourself');
      }
      const client = clientFor(sink);
      try {
        const calls = new SetupCalls(client, sink.url, options.dryRun === true);
        const devices = await setUp(calls, planned, options.hardwareName).catch((error: unknown) => {
          throw setupFailure(error, client.description, sink.auth);
        });
        if (options.dryRun === true) {
          for (const call of calls.skipped) process.stdout.write(`${call}\n`);
          if (calls.skipped.length === 0) process.stderr.write('nothing to change: the hardware and every device exist\n');
          return;
        }
        if (options.write === true && config.file !== null) {
          writeDevices(config.file, sink, devices);
          return;
        }
        process.stdout.write(devicesBlock(devices));
        process.stderr.write(`paste this under sinks.domoticz in ${configName(config, options.config)} (or run again with --write)\n`);
      } finally {
        await client.close();
      }
    });
}

function loadDomoticzConfig(path: string, command: Command): { config: AppConfig; sink: DomoticzSinkConfig } {
  const { config } = loadConfigOrExit(path, command.getOptionValueSource('config') !== 'default', 'the config is not valid:', 'read');
  const sink = config.sinks.domoticz;
  if (sink === undefined) throw new CliError(ExitCode.usage, `${configName(config, path)} has no sinks.domoticz section: ${ADD_SECTION_HINT}`);
  return { config, sink };
}

function configName(config: AppConfig, path: string): string {
  return config.file === null ? 'the config' : path;
}

function clientFor(sink: DomoticzSinkConfig): DomoticzClient {
  return new DomoticzClient({ url: sink.url, auth: sink.auth, timeoutMs: sink.timeoutMs, ca: sink.ca });
}

/** A client error as the command's failure: exit 1, the client's words (they name the fix). */
function domoticzFailure(error: unknown, description: string, what: string): unknown {
  if (!(error instanceof SinkError)) return error;
  return new CliError(ExitCode.failure, `${what}: ${description}: ${error.message}`, { cause: error });
}

/** Setup needs admin rights: a 401 or 403 says which way to get them. */
function setupFailure(error: unknown, description: string, auth: DomoticzAuth): unknown {
  if (error instanceof SetupError) return new CliError(ExitCode.failure, error.message, { cause: error });
  if (!(error instanceof SinkError) || error.kind !== 'auth') return domoticzFailure(error, description, 'cannot set up the devices');
  const rights = 'creating hardware and devices needs admin rights';
  if (error.status === 403) {
    const account = auth.kind === 'basic' ? `the account "${auth.username}"` : 'the token\'s account';
    return new CliError(
      ExitCode.failure,
      `${description} refused (403): ${rights}, and ${account} is no Admin. Run setup with an Admin account (auth: basic with its username and password, for this command only), or from an address in Setup → Settings → Security → Trusted Networks with auth: none; the sink itself needs only a User account`,
      { cause: error },
    );
  }
  const fix =
    auth.kind === 'none'
      ? "this machine's address is not in Domoticz's Trusted Networks: add it under Setup → Settings → Security → Trusted Networks (e.g. 192.168.2.0/24), which runs its calls with admin rights, or sign in with an Admin account (auth: basic)"
      : auth.kind === 'basic'
        ? `the username or password of "${auth.username}" is wrong, or Domoticz refuses Basic over plain HTTP: check the account under Setup → Users, and over http:// enable "Allow Basic-Auth authentication over plain HTTP" under Setup → Settings → Security`
        : 'the token is not accepted: get a new access token for an Admin account';
  return new CliError(ExitCode.failure, `${description} refused (401): ${rights}; ${fix}`, { cause: error });
}

class SetupError extends Error {
  override readonly name = 'SetupError';
  readonly code: 'wrong-hardware' | 'wrong-device' | 'bad-answer';
  constructor(code: SetupError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A device setup will create or reuse, with what goes into the config for it. */
interface PlannedDevice {
  readonly meter: string;
  readonly name: string;
  readonly type: DomoticzDeviceType;
  readonly registerIds: readonly number[];
  readonly counter: DomoticzCounterMeterType | null;
  /** Custom sensors: the unit label (sensoroptions=1;<unit>). */
  readonly unit: string | null;
}

/** Tile names per register: "<meter> <suffix>". */
const nameSuffixes: ReadonlyMap<number, string> = new Map([
  [86, 'T1 flow'],
  [87, 'T2 return'],
  [89, 'T1-T2'],
  [74, 'flow'],
  [68, 'volume'],
  [INFO_REGISTER, 'info'],
]);

/** Custom sensors' unit labels by quantity, as Kamstrup meters report them (t_diff in K: unit byte 0x26). */
const customUnits: ReadonlyMap<RegisterDefinition['quantity'], string> = new Map([
  ['temperature-difference', 'K'],
  ['volume-temperature', 'm³×°C'],
]);

/**
 * The devices for each meter: the chosen registers (by default the heat-meter set, less those
 * no job on the meter reads), power and heat energy read by one job on one Electric tile.
 */
export function planDevices(config: AppConfig, registers: string | undefined): PlannedDevice[] {
  const chosen = registers === undefined ? [...DEFAULT_SETUP_REGISTERS] : registers.split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (chosen.length === 0) throw new CliError(ExitCode.usage, '--registers names no register: give a comma-separated list such as power,heat_energy,t1');
  const definitions = chosen.map((name) => {
    try {
      const { id, definition } = resolveRegister(name);
      if (definition === undefined) throw new CliError(ExitCode.usage, `--registers: register ${id} is not in the catalogue, so setup cannot tell which tile it needs: map it by hand in sinks.domoticz.devices`);
      return definition;
    } catch (error) {
      if (error instanceof UnknownRegisterError) throw new CliError(ExitCode.usage, `--registers: ${error.message}`, { cause: error });
      throw error;
    }
  });
  const unique = definitions.filter((d, i) => definitions.findIndex((e) => e.id === d.id) === i);
  const planned: PlannedDevice[] = [];
  for (const meter of config.meters) {
    const jobs = config.jobs.filter((job) => job.meters.includes(meter.name));
    const read = (id: number): boolean => jobs.some((job) => job.registerIds.includes(id));
    const readable = unique.filter((d) => {
      if (read(d.id)) return true;
      if (registers !== undefined) {
        throw new CliError(ExitCode.usage, `--registers names ${d.name}, but no job reads it on meter ${meter.name}: add it to a job's registers in the config first (a device is only fed what a job reads)`);
      }
      process.stderr.write(`meter ${meter.name}: no device for ${d.name}: no job reads it\n`);
      return false;
    });
    const ids = readable.map((d) => d.id);
    const paired = ids.includes(POWER_REGISTER) && ids.includes(HEAT_ENERGY_REGISTER) && jobs.some((job) => job.registerIds.includes(POWER_REGISTER) && job.registerIds.includes(HEAT_ENERGY_REGISTER));
    for (const definition of readable) {
      if (paired && definition.id === HEAT_ENERGY_REGISTER) continue;
      const device = paired && definition.id === POWER_REGISTER
        ? { type: 'electric' as const, registerIds: [POWER_REGISTER, HEAT_ENERGY_REGISTER], counter: null, unit: null, suffix: 'heat' }
        : deviceFor(definition);
      planned.push({ meter: meter.name, name: `${meter.name} ${device.suffix}`, type: device.type, registerIds: device.registerIds, counter: device.counter, unit: device.unit });
    }
  }
  return planned;
}

function deviceFor(definition: RegisterDefinition): Omit<PlannedDevice, 'meter' | 'name'> & { suffix: string } {
  const one = { registerIds: [definition.id], counter: null, unit: null, suffix: nameSuffixes.get(definition.id) ?? definition.name };
  switch (definition.quantity) {
    case 'energy':
      return { ...one, type: 'counter', counter: 'energy' };
    case 'volume':
      return { ...one, type: 'counter', counter: 'water' };
    case 'power':
      return { ...one, type: 'usage' };
    case 'flow':
      return { ...one, type: 'waterflow' };
    case 'temperature':
      return { ...one, type: 'temperature' };
    case 'temperature-difference':
    case 'volume-temperature':
      return { ...one, type: 'custom', unit: customUnits.get(definition.quantity) ?? null };
    case 'code':
      return { ...one, type: definition.id === INFO_REGISTER ? 'alert' : 'text' };
    default:
      // Dates, times, durations and counts: shown as text, with the unit the meter reports.
      return { ...one, type: 'text' };
  }
}

/**
 * Domoticz's commands as setup makes them: reads always; changes only when not a dry run,
 * which records them (as GET lines, without credentials: those go in a header) instead.
 */
class SetupCalls {
  readonly skipped: string[] = [];

  constructor(
    private readonly client: DomoticzCommands,
    private readonly url: string,
    private readonly dryRun: boolean,
  ) {}

  read(param: string, params: Readonly<Record<string, string | number>>): Promise<Readonly<Record<string, unknown>>> {
    return this.client.command(param, params);
  }

  /**
   * A change; resolves with Domoticz's answer, or on a dry run with `placeholder` as its idx.
   * A placeholder (`<…>`) in the params is printed as it is.
   */
  async change(param: string, params: Readonly<Record<string, Idx>>, placeholder: string): Promise<Readonly<Record<string, unknown>>> {
    if (!this.dryRun) return this.client.command(param, params);
    const query = Object.entries(params).map(([key, value]) => `${key}=${isPlaceholder(value) ? value : encodeURIComponent(String(value))}`);
    this.skipped.push(`GET ${this.url}/json.htm?${['type=command', `param=${param}`, ...query].join('&')}`);
    return { status: 'OK', idx: placeholder };
  }
}

/** An idx Domoticz gave, or on a dry run the placeholder for one it would give ("<idx of home flow>"). */
type Idx = number | string;

function isPlaceholder(value: string | number): value is string {
  return typeof value === 'string' && /^<.*>$/.test(value);
}

/** A configured device as written in sinks.domoticz.devices. */
interface CreatedDevice extends PlannedDevice {
  readonly idx: Idx;
}

async function setUp(calls: SetupCalls, planned: readonly PlannedDevice[], hardwareName: string): Promise<CreatedDevice[]> {
  const hardware = await findHardware(calls, hardwareName);
  const hardwareIdx = hardware ?? (await createHardware(calls, hardwareName));
  const existing = hardware === null ? [] : await devicesOn(calls, hardware);
  const devices: CreatedDevice[] = [];
  for (const device of planned) {
    const tile = DOMOTICZ_DEVICE_TYPES[device.type];
    const same = existing.find((e) => e.name === device.name);
    let idx: Idx;
    if (same !== undefined) {
      if (same.type !== tile.type || same.subType !== tile.subType) {
        throw new SetupError(
          'wrong-device',
          `hardware "${hardwareName}" has a device "${device.name}" (idx ${same.idx}) that is a ${same.type} / ${same.subType}, not a ${tile.tile} (${tile.type} / ${tile.subType}): rename or delete it in Domoticz (Setup → Devices), then run setup again`,
        );
      }
      idx = same.idx;
      process.stderr.write(`${device.name}: idx ${idx}, exists (${tile.tile})\n`);
    } else {
      const params: Record<string, Idx> = { idx: hardwareIdx, sensorname: device.name, sensormappedtype: `0x${tile.mappedType.toString(16).toUpperCase()}` };
      if (device.unit !== null) params['sensoroptions'] = `1;${device.unit}`;
      idx = newIdx(await calls.change('createdevice', params, `<idx of ${device.name}>`), 'createdevice');
      process.stderr.write(`${device.name}: ${isPlaceholder(idx) ? 'would be created' : `idx ${idx}, created`} (${tile.tile})\n`);
    }
    if (device.counter !== null) {
      const switchType = COUNTER_SWITCH_TYPES[device.counter];
      if (same === undefined || same.switchTypeVal !== switchType || same.divider !== COUNTER_DIVIDER) {
        // setused applies switchtype only with a name (Cmd_SetUsed): without it the type stays Energy.
        await calls.change('setused', { idx, name: device.name, used: 'true', switchtype: switchType, addjvalue2: COUNTER_DIVIDER }, '');
        process.stderr.write(`${device.name}: meter type ${device.counter}, divider ${COUNTER_DIVIDER}${isPlaceholder(idx) ? ' would be set' : ' set'}\n`);
      }
    }
    devices.push({ ...device, idx });
  }
  return devices;
}

/** The idx of an answer to addhardware or createdevice (a dry run's placeholder as it is). */
function newIdx(answer: Readonly<Record<string, unknown>>, param: string): Idx {
  const idx = answer['idx'];
  if (typeof idx === 'string' && isPlaceholder(idx)) return idx;
  const value = Number(idx);
  if (!Number.isInteger(value) || value <= 0) throw new SetupError('bad-answer', `Domoticz answered ${param} with OK but no idx (${JSON.stringify(idx)}): is it a Domoticz 2023.2 or newer?`);
  return value;
}

async function findHardware(calls: SetupCalls, name: string): Promise<number | null> {
  const answer = await calls.read('gethardware', {});
  const result = Array.isArray(answer['result']) ? (answer['result'] as unknown[]) : [];
  const named = result.filter((h): h is Record<string, unknown> => typeof h === 'object' && h !== null && (h as Record<string, unknown>)['Name'] === name);
  const dummy = named.find((h) => h['Type'] === DUMMY_HARDWARE_TYPE);
  if (dummy !== undefined) {
    process.stderr.write(`hardware "${name}": idx ${String(dummy['idx'])}, exists\n`);
    return Number(dummy['idx']);
  }
  if (named.length > 0) {
    throw new SetupError('wrong-hardware', `Domoticz has a hardware "${name}" that is not a Dummy (type ${String(named[0]?.['Type'])}): give setup another --hardware-name, or rename that hardware under Setup → Hardware`);
  }
  return null;
}

async function createHardware(calls: SetupCalls, name: string): Promise<Idx> {
  const idx = newIdx(await calls.change('addhardware', { htype: DUMMY_HARDWARE_TYPE, port: 1, name, enabled: 'true' }, '<idx of the new hardware>'), 'addhardware');
  process.stderr.write(`hardware "${name}": ${isPlaceholder(idx) ? 'would be created' : `idx ${idx}, created`} (Dummy)\n`);
  return idx;
}

interface ExistingDevice {
  readonly idx: number;
  readonly name: string;
  readonly type: string;
  readonly subType: string;
  readonly switchTypeVal: unknown;
  readonly divider: unknown;
}

/** Every device on the hardware, hidden and unused ones too. */
async function devicesOn(calls: SetupCalls, hardwareIdx: number): Promise<ExistingDevice[]> {
  const answer = await calls.read('getdevices', { filter: 'all', displayhidden: 1, hwidx: hardwareIdx });
  const result = Array.isArray(answer['result']) ? (answer['result'] as unknown[]) : [];
  return result
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null && Number((d as Record<string, unknown>)['HardwareID']) === hardwareIdx)
    .map((d) => ({ idx: Number(d['idx']), name: String(d['Name']), type: String(d['Type']), subType: String(d['SubType']), switchTypeVal: d['SwitchTypeVal'], divider: d['Divider'] }));
}

/** A device as its entry in sinks.domoticz.devices, keys in the example's order. */
function deviceEntry(device: CreatedDevice, severalMeters: boolean): Record<string, Idx> {
  const names = device.registerIds.map((id) => registerById(id)?.name ?? String(id));
  const entry: Record<string, Idx> = { idx: device.idx, type: device.type };
  if (severalMeters) entry['meter'] = device.meter;
  if (device.type === 'electric') {
    entry['power'] = names[0] ?? '';
    entry['energy'] = names[1] ?? '';
  } else {
    entry['register'] = names[0] ?? '';
  }
  if (device.counter !== null) entry['meter_type'] = device.counter;
  if (device.unit !== null) entry['unit'] = device.unit;
  return entry;
}

function devicesNode(doc: Document, devices: readonly CreatedDevice[]): ReturnType<Document['createNode']> {
  const severalMeters = new Set(devices.map((d) => d.meter)).size > 1;
  const node = doc.createNode(devices.map((d) => deviceEntry(d, severalMeters)));
  if (isSeq(node)) for (const item of node.items) if (isMap(item)) (item as YAMLMap).flow = true;
  return node;
}

/** The `devices:` block to paste under sinks.domoticz: one flow mapping per line. */
function devicesBlock(devices: readonly CreatedDevice[]): string {
  const doc = new Document({});
  doc.set('devices', devicesNode(doc, devices));
  return doc.toString({ lineWidth: 0 });
}

/** A device's identity for "are these the same devices": what the config feeds it. */
function sameness(device: { idx: Idx; type: string; meter: string; registerIds: readonly number[]; counter: string | null }): string {
  return `${device.idx} ${device.type} ${device.meter} ${device.registerIds.join(',')} ${device.counter ?? ''}`;
}

function configuredSameness(device: DomoticzDeviceConfig): string {
  const registerIds = device.type === 'electric' ? [device.powerRegisterId, device.energyRegisterId] : [device.registerId];
  return sameness({ idx: device.idx, type: device.type, meter: device.meter, registerIds, counter: device.type === 'counter' ? device.meterType : null });
}

/**
 * Writes the devices into the config file through the yaml Document, so its comments and
 * layout stay; devices already listed are never replaced by others.
 */
function writeDevices(file: string, sink: DomoticzSinkConfig, devices: readonly CreatedDevice[]): void {
  const configured = sink.devices.map(configuredSameness).sort();
  const created = devices.map(sameness).sort();
  if (configured.length > 0) {
    if (configured.join('\n') === created.join('\n')) {
      process.stderr.write(`sinks.domoticz.devices in ${file} already lists these devices: nothing to write\n`);
      return;
    }
    throw new CliError(
      ExitCode.failure,
      `sinks.domoticz.devices in ${file} already lists other devices, and --write does not replace them: run setup without --write and edit the list by hand, or empty it (devices: []) and run again`,
    );
  }
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['sinks', 'domoticz', 'devices'], devicesNode(doc, devices));
  try {
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
  } catch (error) {
    throw new CliError(ExitCode.failure, `cannot write ${file}: ${error instanceof Error ? error.message : String(error)}; the devices exist in Domoticz: run setup again without --write and paste the block`, { cause: error });
  }
  process.stderr.write(`wrote ${devices.length} device${devices.length === 1 ? '' : 's'} into sinks.domoticz.devices of ${file}\n`);
}
