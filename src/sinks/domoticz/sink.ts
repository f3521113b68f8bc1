// Domoticz as a newest-per-key sink: each configured device is kept on its newest value (the
// store supersedes older undelivered ones; Domoticz takes no timestamp), sent as one udevice call
// per payload over DomoticzClient. Domoticz answers "status":"ERR" to an idx it does not have, so
// a refusal is a configuration error of that one device: it is named with what to check.

import type { DomoticzDeviceConfig, DomoticzSinkConfig } from '../../config/index.js';
import { SinkError, type NewestValueSink } from '../../delivery/sink.js';
import type { MeterModel } from '../../registers/index.js';
import type { KeyedPayload, PayloadRun } from '../../store/index.js';
import { DomoticzClient } from './client.js';
import { checkDevices, DOMOTICZ_DEVICE_TYPES, summarizeChecks } from './device-check.js';
import { describeDevice, DomoticzRenderer } from './devices.js';

export const DOMOTICZ_SINK = 'domoticz';

interface DevicePayload {
  readonly idx: number;
  readonly nvalue: number;
  readonly svalue: string;
}

export function createDomoticzSink(config: DomoticzSinkConfig, models: ReadonlyMap<string, MeterModel>): NewestValueSink {
  return new DomoticzSink(config, models);
}

class DomoticzSink implements NewestValueSink {
  readonly name = DOMOTICZ_SINK;
  readonly description: string;
  /** One device update per request: Domoticz's udevice takes one idx. */
  readonly batchSize = 1;
  readonly refreshMs: number;
  readonly delivery = 'newest-per-key';
  readonly format: string;
  readonly keys: readonly string[];
  private readonly renderer: DomoticzRenderer;
  private readonly client: DomoticzClient;
  private readonly devices: ReadonlyMap<number, DomoticzDeviceConfig>;

  constructor(config: DomoticzSinkConfig, models: ReadonlyMap<string, MeterModel>) {
    this.client = new DomoticzClient({ url: config.url, auth: config.auth, timeoutMs: config.timeoutMs, ca: config.ca });
    this.description = this.client.description;
    this.refreshMs = config.refreshMs;
    this.renderer = new DomoticzRenderer(config.devices, models);
    this.format = this.renderer.format;
    this.keys = this.renderer.keys;
    this.devices = new Map(config.devices.map((device) => [device.idx, device]));
  }

  renderEntries(run: PayloadRun, sent: (key: string) => string | null): readonly KeyedPayload[] {
    return this.renderer.renderEntries(run, sent);
  }

  /** Each payload one udevice call, in order; the first failure ends the write. */
  async write(texts: readonly string[]): Promise<void> {
    for (const text of texts) {
      const payload = parsePayload(text);
      if (payload === null) throw new SinkError('rejected', `${this.description}: ${JSON.stringify(text.slice(0, 120))} is not a device update (idx, nvalue, svalue): it is not sent`);
      try {
        await this.client.command('udevice', { idx: payload.idx, nvalue: payload.nvalue, svalue: payload.svalue });
      } catch (error) {
        if (error instanceof SinkError && error.kind === 'rejected') throw this.refused(payload.idx, error);
        throw error;
      }
    }
  }

  /**
   * Never rejects: Domoticz answers, the credentials work, and every configured device exists and
   * is of the type it is fed as (the short form of `domoticz check`), or the problems in words.
   */
  async check(): Promise<string | null> {
    try {
      await this.client.command('getversion');
      const checks = await checkDevices(this.client, [...this.devices.values()]);
      const problems = summarizeChecks(checks.filter(({ problem }) => problem !== null));
      if (problems.length === 0) return null;
      return [`${problems.length} of ${checks.length} devices in ${this.description} need attention (\`kamstrup-logger domoticz check --config FILE\` shows them all):`, ...problems].join('\n    ');
    } catch (error) {
      return error instanceof Error ? error.message : `checking ${this.description} failed unexpectedly: ${String(error)}`;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private refused(idx: number, error: SinkError): SinkError {
    const device = this.devices.get(idx);
    const what = device === undefined ? `device idx ${idx}` : describeDevice(device);
    const type = device === undefined ? 'a device of the configured type' : `a ${DOMOTICZ_DEVICE_TYPES[device.type].tile} device`;
    return new SinkError(
      'rejected',
      `${this.description} refused the update of ${what} ("status":"ERR"): check in Domoticz that idx ${idx} exists and is ${type} (\`kamstrup-logger domoticz check --config FILE\` shows it)`,
      { status: error.status, cause: error },
    );
  }
}

function parsePayload(text: string): DevicePayload | null {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { idx, nvalue, svalue } = parsed as Record<string, unknown>;
    return Number.isInteger(idx) && Number.isInteger(nvalue) && typeof svalue === 'string' ? { idx: idx as number, nvalue: nvalue as number, svalue } : null;
  } catch {
    return null;
  }
}
