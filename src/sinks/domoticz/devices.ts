// The configured Domoticz devices as a newest-per-key renderer: a run becomes one payload per
// device of the run's meter whose registers are all in the run, keyed by the device (idx, type,
// meter, registers: remapping a device changes its key, so the store drops what was queued for
// the old mapping). A payload is Domoticz's MQTT `domoticz/in` JSON, which the HTTP sink turns into
// a udevice call. What must not reach Domoticz is held with the reason: a reading svalue.ts cannot
// convert, and a counter that would go backwards (Domoticz computes the day's use against its
// 5-minute log, so a drop shows as a huge negative use and spoils the day's statistics).

import type { DomoticzCounterDevice, DomoticzDeviceConfig, DomoticzElectricDevice } from '../../config/index.js';
import { infoFlagsOf, meterModels, registerById, type InfoFlag, type MeterModel } from '../../registers/index.js';
import type { KeyedPayload, NewestValueRenderer, PayloadReading, PayloadRun } from '../../store/index.js';
import {
  alertUpdate,
  counterUpdate,
  customCounterUpdate,
  customUpdate,
  electricUpdate,
  infoTextUpdate,
  percentageUpdate,
  SvalueError,
  temperatureUpdate,
  textUpdate,
  usageUpdate,
  waterflowUpdate,
  type DeviceUpdate,
} from './svalue.js';

export const DOMOTICZ_FORMAT = 'domoticz-udevice/1';

/** The info register (kmp-protocol.md §8): its code is decoded into words on text and alert devices. */
const INFO_REGISTER = 99;

/** The register ids a device is fed from, power before energy for an electric device. */
export function deviceRegisters(device: DomoticzDeviceConfig): readonly number[] {
  return device.type === 'electric' ? [device.powerRegisterId, device.energyRegisterId] : [device.registerId];
}

/** `idx=12 type=electric meter=home registers=80,60` (counters: `type=counter/water`). */
export function deviceKey(device: DomoticzDeviceConfig): string {
  const type = device.type === 'counter' ? `counter/${device.meterType}` : device.type;
  return `idx=${device.idx} type=${type} meter=${device.meter} registers=${deviceRegisters(device).join(',')}`;
}

/** "device idx 12 (electric, registers power (80) and heat_energy (60))", for messages. */
export function describeDevice(device: DomoticzDeviceConfig): string {
  const registers = deviceRegisters(device).map(registerName);
  const type = device.type === 'counter' ? `counter, meter_type ${device.meterType}` : device.type;
  return `device idx ${device.idx} (${type}, register${registers.length > 1 ? 's' : ''} ${registers.join(' and ')})`;
}

function registerName(id: number): string {
  const definition = registerById(id);
  return definition === undefined ? `${id}` : `${definition.name} (${id})`;
}

/** Domoticz's `domoticz/in` JSON: idx, nvalue a JSON integer, svalue a JSON string, in this order. */
export function devicePayload(idx: number, update: DeviceUpdate): string {
  return JSON.stringify({ idx, nvalue: update.nvalue, svalue: update.svalue });
}

export class DomoticzRenderer implements NewestValueRenderer {
  readonly delivery = 'newest-per-key';
  readonly format = DOMOTICZ_FORMAT;
  readonly keys: readonly string[];
  private readonly devices: readonly { readonly device: DomoticzDeviceConfig; readonly key: string }[];
  private readonly models: ReadonlyMap<string, MeterModel>;

  constructor(devices: readonly DomoticzDeviceConfig[], models: ReadonlyMap<string, MeterModel>) {
    this.devices = devices.map((device) => ({ device, key: deviceKey(device) }));
    this.keys = this.devices.map((entry) => entry.key);
    this.models = models;
  }

  renderEntries(run: PayloadRun, sent: (key: string) => string | null): readonly KeyedPayload[] {
    const readings = new Map(run.readings.map((reading) => [reading.registerId, reading]));
    const flags = infoFlagsOf(this.modelOf(run));
    const entries: KeyedPayload[] = [];
    for (const { device, key } of this.devices) {
      if (device.meter !== run.meter) continue;
      const inputs = deviceRegisters(device).map((id) => readings.get(id));
      if (inputs.some((reading) => reading === undefined)) continue;
      entries.push(this.entry(device, key, inputs as PayloadReading[], flags, sent(key)));
    }
    return entries;
  }

  /** The run's model decides the info table; a run stored under a name no model has falls back to the configured one. */
  private modelOf(run: PayloadRun): MeterModel {
    const known = (meterModels as readonly string[]).includes(run.model) ? (run.model as MeterModel) : undefined;
    return known ?? this.models.get(run.meter) ?? 'multical-402';
  }

  private entry(device: DomoticzDeviceConfig, key: string, readings: readonly PayloadReading[], flags: readonly InfoFlag[], sent: string | null): KeyedPayload {
    let update: DeviceUpdate;
    try {
      update = deviceUpdate(device, readings, flags);
    } catch (error) {
      if (!(error instanceof SvalueError)) throw error;
      // Nothing Domoticz could be sent: the payload stays empty, the reason says why.
      return { key, payload: '', held: `${describeDevice(device)}: ${error.message}` };
    }
    const payload = devicePayload(device.idx, update);
    const backwards = device.type === 'electric' || device.type === 'counter' ? goesBackwards(device, update, sent) : null;
    return { key, payload, held: backwards };
  }
}

function deviceUpdate(device: DomoticzDeviceConfig, readings: readonly PayloadReading[], flags: readonly InfoFlag[]): DeviceUpdate {
  const [first, second] = readings as [PayloadReading, PayloadReading | undefined];
  switch (device.type) {
    case 'electric':
      return electricUpdate(first, second ?? first);
    case 'counter':
      return device.meterType === 'custom' ? customCounterUpdate(first, device.divider) : counterUpdate(first, device.meterType);
    case 'temperature':
      return temperatureUpdate(first);
    case 'custom':
      return customUpdate(first);
    case 'usage':
      return usageUpdate(first);
    case 'waterflow':
      return waterflowUpdate(first);
    case 'percentage':
      return percentageUpdate(first);
    case 'text':
      return device.registerId === INFO_REGISTER ? infoTextUpdate(first, flags) : textUpdate(first);
    case 'alert':
      return alertUpdate(first, flags);
  }
}

/** The held reason when the device's total would drop below what Domoticz shows now, or null. */
function goesBackwards(device: DomoticzElectricDevice | DomoticzCounterDevice, update: DeviceUpdate, sent: string | null): string | null {
  const shown = sent === null ? null : totalOf(device, svalueOf(sent));
  const next = totalOf(device, update.svalue);
  if (shown === null || next === null || compareDecimals(next, shown) >= 0) return null;
  const unit = device.type === 'electric' || device.meterType === 'energy' ? ' Wh' : device.meterType === 'water' ? ' litres' : '';
  return (
    `${describeDevice(device)}: the counter would go back from ${shown}${unit} to ${next}${unit}, so the meter was probably replaced or reset. ` +
    'Sent, Domoticz would show a huge negative use for today, so it is held. ' +
    'In Domoticz, create a new device (`kamstrup-logger domoticz setup`, or Setup → Hardware → Dummy → Create Virtual Sensors) ' +
    `and put its idx in the config in place of ${device.idx}: the old device keeps its history.`
  );
}

/** The total an svalue carries: an electric device's energy part, a counter's count. */
function totalOf(device: DomoticzElectricDevice | DomoticzCounterDevice, svalue: string | null): string | null {
  if (svalue === null) return null;
  const total = device.type === 'electric' ? svalue.split(';')[1] : svalue;
  return total !== undefined && /^\d+(\.\d+)?$/.test(total) ? total : null;
}

function svalueOf(payload: string): string | null {
  try {
    const parsed = JSON.parse(payload) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'svalue' in parsed && typeof parsed.svalue === 'string' ? parsed.svalue : null;
  } catch {
    return null;
  }
}

/** Compares two non-negative decimal texts exactly. */
function compareDecimals(a: string, b: string): number {
  const [aWhole = '', aFraction = ''] = a.split('.');
  const [bWhole = '', bFraction = ''] = b.split('.');
  const places = Math.max(aFraction.length, bFraction.length);
  const left = BigInt(aWhole + aFraction.padEnd(places, '0'));
  const right = BigInt(bWhole + bFraction.padEnd(places, '0'));
  return left < right ? -1 : left > right ? 1 : 0;
}
