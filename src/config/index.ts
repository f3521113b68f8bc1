// The config layer: the YAML file, environment overrides, validation, defaults and warnings.

export { ConfigError, formatProblems, type ConfigErrorCode, type ConfigProblem } from './errors.js';
export { exampleConfigPath, loadConfig, storageProblem, type LoadConfigOptions, type StorageAccess } from './load.js';
export type {
  AppConfig,
  DomoticzAuth,
  DomoticzCounterDevice,
  DomoticzCounterMeterType,
  DomoticzDeviceConfig,
  DomoticzDeviceType,
  DomoticzElectricDevice,
  DomoticzSingleRegisterDevice,
  DomoticzSinkConfig,
  InfluxDbSinkConfig, JobConfig, LoadedConfig, LogConfig, MeterConfig, SinksConfig, StorageConfig } from './types.js';
export {
  configSchema,
  cronProblem,
  DEFAULT_CONFIG_FILE,
  DEFAULT_LOG_LEVEL,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_RETRIES,
  DEFAULT_STORAGE_PATH,
  DEFAULT_TIMEOUT_MS,
  EXAMPLE_CONFIG_FILE,
  limits,
  logLevels,
  secretKeys,
  type ConfigFile,
  type ConfigInput,
  type LogLevel,
} from './schema.js';
export { defaultJobs, DEFAULT_LIVE_CRON, DEFAULT_LIVE_REGISTERS, DEFAULT_STATISTICS_CRON } from './defaults.js';
export { RESERVED_ENV } from './env.js';
export { readGaps } from './schedule.js';
export { IR_IDLE_LIMIT_MINUTES, startupWarnings } from './warnings.js';
