// Reads every configured device back from Domoticz (getdevices&rid=N) and says whether it exists
// and is of the type the config feeds: Domoticz stores any svalue on any device and answers OK,
// so a temperature register mapped to a counter is found here, not by staring at a tile.
// `domoticz check` prints the long form, `status` the short one; `domoticz setup` creates
// devices from the same table.

import type { DomoticzCounterMeterType, DomoticzDeviceConfig, DomoticzDeviceType } from '../../config/index.js';
import { registerById } from '../../registers/index.js';
import { deviceRegisters } from './devices.js';

/** The one call of the Domoticz client the check needs. */
export interface DomoticzCommands {
  command(param: string, params?: Readonly<Record<string, string | number>>): Promise<Readonly<Record<string, unknown>>>;
}

export interface DomoticzTile {
  /** The tile's name in Domoticz's "Create Virtual Sensor" list. */
  readonly tile: string;
  /** createdevice's sensormappedtype: (type << 8) | subtype. */
  readonly mappedType: number;
  /** What getdevices shows as Type and SubType for it. */
  readonly type: string;
  readonly subType: string;
}

/**
 * Per device type, the Domoticz device it feeds. Rows marked "recorded" are what a real
 * Domoticz 2025.1 answered in ../shared/fixtures/domoticz-2025.1-recorded.jsonl (the label of
 * the getdevices answer), with the create code of docs/domoticz-api.md; the others were never
 * created there and follow Domoticz's source (main/RFXNames.cpp names, main/RFXtrx.h codes).
 */
export const DOMOTICZ_DEVICE_TYPES: Readonly<Record<DomoticzDeviceType, DomoticzTile>> = {
  temperature: { tile: 'Temperature', mappedType: 0x5005, type: 'Temp', subType: 'LaCrosse TX3' }, // recorded: S3-0
  electric: { tile: 'Electric (Instant+Counter)', mappedType: 0xf31d, type: 'General', subType: 'kWh' }, // recorded: S3-2b
  custom: { tile: 'Custom Sensor', mappedType: 0xf31f, type: 'General', subType: 'Custom Sensor' }, // recorded: S3-3b
  waterflow: { tile: 'Waterflow', mappedType: 0xf31e, type: 'General', subType: 'Waterflow' }, // recorded: S3-4b
  counter: { tile: 'Counter', mappedType: 0x7100, type: 'RFXMeter', subType: 'RFXMeter counter' }, // recorded: S3-5b, S3-6b
  text: { tile: 'Text', mappedType: 0xf313, type: 'General', subType: 'Text' }, // recorded: B9a
  usage: { tile: 'Usage (Electric)', mappedType: 0xf801, type: 'Usage', subType: 'Electric' }, // source: pTypeUsage, sTypeElectric
  percentage: { tile: 'Percentage', mappedType: 0xf306, type: 'General', subType: 'Percentage' }, // source: pTypeGeneral, sTypePercentage
  alert: { tile: 'Alert', mappedType: 0xf316, type: 'General', subType: 'Alert' }, // source: pTypeGeneral, sTypeAlert
};

/**
 * A counter's meter type as setused's switchtype and getdevices' SwitchTypeVal (main/RFXNames.h
 * _eMeterType; energy 0 and water 2 are recorded in S2l/S2m).
 */
export const COUNTER_SWITCH_TYPES: Readonly<Record<DomoticzCounterMeterType, number>> = { energy: 0, water: 2, custom: 3 };

const COUNTER_METER_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'Energy', 1: 'Gas', 2: 'Water', 3: 'Counter', 4: 'Energy Generated', 5: 'Time' };

/** The device as Domoticz described it. */
export interface FoundDevice {
  readonly name: string;
  readonly type: string;
  readonly subType: string;
  readonly hardwareName: string;
  /** Counters: the meter type (setused switchtype); null for other types. */
  readonly switchTypeVal: number | null;
  /** Counters: the divider the tile divides the raw count by; null for other types. */
  readonly divider: number | null;
  /** Custom sensors: the unit label; null for other types. */
  readonly sensorUnit: string | null;
  /** Electric: "1" when Domoticz computes the energy from the power itself. */
  readonly energyMeterMode: string | null;
}

export type DeviceProblemKind = 'missing' | 'wrong-type' | 'wrong-meter-type' | 'wrong-divider' | 'wrong-unit' | 'computed-energy';

export interface DeviceProblem {
  readonly kind: DeviceProblemKind;
  /** What is wrong and what to do about it, in words. */
  readonly message: string;
}

export interface DeviceCheck {
  readonly device: DomoticzDeviceConfig;
  /** null when Domoticz has no device with that idx. */
  readonly found: FoundDevice | null;
  /** null when the device is what the config feeds. */
  readonly problem: DeviceProblem | null;
}

/** Register names of a device, in the config's order ("power, heat_energy"). */
export function registerNames(device: DomoticzDeviceConfig): string {
  return deviceRegisters(device)
    .map((id) => registerById(id)?.name ?? `register ${id}`)
    .join(', ');
}

/** "counter (water)" for counters, the type otherwise. */
export function deviceTypeLabel(device: DomoticzDeviceConfig): string {
  return device.type === 'counter' ? `counter (${device.meterType})` : device.type;
}

/** Reads each device back, one call each, in the order given. The client's SinkError passes through. */
export async function checkDevices(client: DomoticzCommands, devices: readonly DomoticzDeviceConfig[]): Promise<DeviceCheck[]> {
  const checks: DeviceCheck[] = [];
  for (const device of devices) {
    const answer = await client.command('getdevices', { rid: device.idx });
    const found = foundDevice(answer, device.idx);
    checks.push({ device, found, problem: found === null ? missing(device) : mismatch(device, found) });
  }
  return checks;
}

/** The device of a getdevices answer; an unknown rid answers OK with no `result`. */
function foundDevice(answer: Readonly<Record<string, unknown>>, idx: number): FoundDevice | null {
  const result = answer['result'];
  if (!Array.isArray(result)) return null;
  const entry: unknown = result.find((item: unknown) => isRecord(item) && String(item['idx']) === String(idx));
  if (!isRecord(entry)) return null;
  const text = (key: string): string | null => (typeof entry[key] === 'string' ? entry[key] : null);
  const number = (key: string): number | null => (typeof entry[key] === 'number' ? entry[key] : null);
  const counter = entry['Type'] === DOMOTICZ_DEVICE_TYPES.counter.type;
  return {
    name: text('Name') ?? '',
    type: text('Type') ?? '',
    subType: text('SubType') ?? '',
    hardwareName: text('HardwareName') ?? '',
    switchTypeVal: counter ? number('SwitchTypeVal') : null,
    divider: counter ? number('Divider') : null,
    sensorUnit: text('SensorUnit'),
    energyMeterMode: text('EnergyMeterMode'),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function missing(device: DomoticzDeviceConfig): DeviceProblem {
  const wanted = DOMOTICZ_DEVICE_TYPES[device.type];
  return {
    kind: 'missing',
    message: `Domoticz has no device with idx ${device.idx}: check the idx under Setup → Devices, or create a ${wanted.tile} device (\`kamstrup-logger domoticz setup\` does) and put its idx in the config`,
  };
}

function mismatch(device: DomoticzDeviceConfig, found: FoundDevice): DeviceProblem | null {
  const wanted = DOMOTICZ_DEVICE_TYPES[device.type];
  if (found.type !== wanted.type || found.subType !== wanted.subType) {
    return {
      kind: 'wrong-type',
      message:
        `idx ${device.idx} ("${found.name}") is a ${found.type} / ${found.subType} device, but a ${device.type} device needs a ${wanted.tile} (${wanted.type} / ${wanted.subType}): ` +
        `Domoticz would store the values and show nonsense. Point the config at a ${wanted.tile} device, or change this device's type in the config to match`,
    };
  }
  if (device.type === 'counter') {
    const switchType = COUNTER_SWITCH_TYPES[device.meterType];
    if (found.switchTypeVal !== switchType) {
      const shown = found.switchTypeVal === null ? 'unknown' : (COUNTER_METER_TYPE_NAMES[found.switchTypeVal] ?? String(found.switchTypeVal));
      return {
        kind: 'wrong-meter-type',
        message: `idx ${device.idx} ("${found.name}") is a counter of meter type ${shown}, but the config feeds it ${device.meterType}: set Type to ${COUNTER_METER_TYPE_NAMES[switchType] ?? ''} in the device's Edit dialog (Utility tab)`,
      };
    }
    if (found.divider !== device.divider) {
      return {
        kind: 'wrong-divider',
        message: `idx ${device.idx} ("${found.name}") divides its count by ${found.divider ?? 'an unknown divider'}, but the logger sends ${device.meterType === 'energy' ? 'Wh' : device.meterType === 'water' ? 'litres' : 'counts'} for a divider of ${device.divider}: set Counter Divider to ${device.divider} in the device's Edit dialog (Utility tab)`,
      };
    }
  }
  if (device.type === 'custom' && device.unit !== null && found.sensorUnit !== device.unit) {
    return {
      kind: 'wrong-unit',
      message: `idx ${device.idx} ("${found.name}") shows its value in "${found.sensorUnit ?? ''}", but the config says ${device.unit}: set Axis Label to ${device.unit} in the device's Edit dialog (Utility tab)`,
    };
  }
  if (device.type === 'electric' && found.energyMeterMode === '1') {
    return {
      kind: 'computed-energy',
      message: `idx ${device.idx} ("${found.name}") computes its energy from the power and ignores the meter's counter: set Energy read to "From device" in the device's Edit dialog (Utility tab)`,
    };
  }
  return null;
}

/** A check's result in a word or two: "ok", "missing", "wrong type", "wrong settings". */
export function checkResult(problem: DeviceProblem | null): string {
  if (problem === null) return 'ok';
  return problem.kind === 'missing' ? 'missing' : problem.kind === 'wrong-type' ? 'wrong type' : 'wrong settings';
}

/** For `status` and the daemon's start: one line per device, "ok" or the problem and what to do. */
export function summarizeChecks(checks: readonly DeviceCheck[]): string[] {
  return checks.map(({ device, problem }) => {
    const head = `idx ${device.idx} ${deviceTypeLabel(device)} (${registerNames(device)}): ${checkResult(problem)}`;
    return problem === null ? head : `${head}: ${problem.message}`;
  });
}
