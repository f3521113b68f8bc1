// The config as the daemon uses it: camelCase, every default filled in, names resolved.

import type { MeterUrl } from '../app/meter-url.js';
import type { MeterModel } from '../registers/catalogue.js';
import type { LogLevel } from './schema.js';

export interface MeterConfig {
  /** Unique; tags every reading. */
  readonly name: string;
  /** As written: /dev/…, serial:///dev/…, tcp://HOST:PORT or sim://MODEL. */
  readonly url: string;
  /** The URL parsed (it is known to be valid). */
  readonly link: MeterUrl;
  readonly model: MeterModel;
  readonly timeoutMs: number;
  readonly retries: number;
  /** The first day of the billing year until the meter's target date is read; null: 1 January. */
  readonly billingDate: { readonly month: number; readonly day: number } | null;
}

export interface JobConfig {
  /** Unique; recorded with every reading the job takes. */
  readonly name: string;
  /** A valid node-cron expression: 5 fields, or 6 with seconds first. */
  readonly cron: string;
  /** Register ids (resolved from names, labels or numbers), in the order written, each once. */
  readonly registerIds: readonly number[];
  /** Names of configured meters, in the order written, each once; every meter when the file names none. */
  readonly meters: readonly string[];
}

export interface StorageConfig {
  /** Absolute path of the SQLite database file. */
  readonly path: string;
  readonly retentionDays: number;
}

export interface ConsumptionConfig {
  /** IANA name: the configured time_zone, else the process's zone (TZ). */
  readonly timeZone: string;
  /** Readings further apart than this are a gap. */
  readonly gapMs: number;
}

export interface LogConfig {
  readonly level: LogLevel;
}

export interface InfluxDbSinkConfig {
  readonly url: string;
  readonly api: 'v1' | 'v2';
  readonly token: string | null;
  readonly org: string | null;
  readonly bucket: string | null;
  readonly database: string | null;
  readonly retentionPolicy: string | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly batchSize: number;
  readonly timeoutMs: number;
  /** PEM certificates (ca_file's content) trusted for an https:// url besides the system's, or null. */
  readonly ca: string | null;
}

/** How the logger proves itself to Domoticz; secrets already read from their files. */
export type DomoticzAuth =
  | { readonly kind: 'none' } // the logger's address is in Domoticz's Trusted Networks
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export type DomoticzDeviceType = 'temperature' | 'custom' | 'electric' | 'usage' | 'counter' | 'waterflow' | 'percentage' | 'text' | 'alert';

export type DomoticzCounterMeterType = 'energy' | 'water' | 'custom';

interface DomoticzDeviceBase {
  /** The device's idx in Domoticz (a positive integer). */
  readonly idx: number;
  /** The configured meter whose readings feed it (resolved: the only meter when there is one). */
  readonly meter: string;
}

/** Electric (Instant+Counter): power in W and energy in Wh, from two registers of one job. */
export interface DomoticzElectricDevice extends DomoticzDeviceBase {
  readonly type: 'electric';
  readonly powerRegisterId: number;
  readonly energyRegisterId: number;
}

/** Counter (RFXMeter): energy in Wh, water in litres, or custom: the value × divider as a whole count. */
export interface DomoticzCounterDevice extends DomoticzDeviceBase {
  readonly type: 'counter';
  readonly registerId: number;
  readonly meterType: DomoticzCounterMeterType;
  /** The counter's divider in Domoticz: 1000 for energy and water; custom: as configured (default 1). */
  readonly divider: number;
  /** Custom counters: the unit label Domoticz shows (`domoticz setup` sets it); null otherwise. */
  readonly unit: string | null;
}

/** Every other type: one register. */
export interface DomoticzSingleRegisterDevice extends DomoticzDeviceBase {
  readonly type: Exclude<DomoticzDeviceType, 'electric' | 'counter'>;
  readonly registerId: number;
  /** Custom sensors: the unit label (default: the register's unit as the meter reports it, set by `domoticz setup`); null otherwise. */
  readonly unit: string | null;
}

export type DomoticzDeviceConfig = DomoticzElectricDevice | DomoticzCounterDevice | DomoticzSingleRegisterDevice;

export interface DomoticzSinkConfig {
  /** http:// or https://, without credentials, without a trailing slash. */
  readonly url: string;
  readonly auth: DomoticzAuth;
  /** A device's newest value is sent again when Domoticz last got it longer ago than this. */
  readonly refreshMs: number;
  readonly timeoutMs: number;
  /** PEM certificates (ca_file's content) trusted for an https:// url besides the system's, or null. */
  readonly ca: string | null;
  /** In the order written; each idx once. */
  readonly devices: readonly DomoticzDeviceConfig[];
}

export interface SinksConfig {
  readonly influxdb?: InfluxDbSinkConfig;
  readonly domoticz?: DomoticzSinkConfig;
}

export interface AppConfig {
  /** Absolute path of the config file read; null when there was none (environment only). */
  readonly file: string | null;
  readonly meters: readonly MeterConfig[];
  readonly jobs: readonly JobConfig[];
  readonly storage: StorageConfig;
  readonly consumption: ConsumptionConfig;
  readonly log: LogConfig;
  readonly sinks: SinksConfig;
}

export interface LoadedConfig {
  readonly config: AppConfig;
  /** Start-up warnings: worth logging, not worth refusing to start. */
  readonly warnings: readonly string[];
}
