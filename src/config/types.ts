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

export interface SinksConfig {
  readonly influxdb?: InfluxDbSinkConfig;
}

export interface AppConfig {
  /** Absolute path of the config file read; null when there was none (environment only). */
  readonly file: string | null;
  readonly meters: readonly MeterConfig[];
  readonly jobs: readonly JobConfig[];
  readonly storage: StorageConfig;
  readonly log: LogConfig;
  readonly sinks: SinksConfig;
}

export interface LoadedConfig {
  readonly config: AppConfig;
  /** Start-up warnings: worth logging, not worth refusing to start. */
  readonly warnings: readonly string[];
}
