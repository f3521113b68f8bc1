// The --config option and loading the file, shared by run, status and export.

import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/index.js';
import { Store } from '../store/index.js';
import { CliError, ExitCode } from './exit-codes.js';

export const DEFAULT_CONFIG_PATH = './kamstrup-logger.yaml';

export function configOption(): Option {
  return new Option('-c, --config <file>', 'the config file').env('KAMSTRUP_CONFIG').default(DEFAULT_CONFIG_PATH);
}

/**
 * Loads and validates the config; every problem goes to stderr and ends the command with exit 2.
 * Without --config, a missing default file is fine when the environment configures a meter
 * (a Docker setup configured by KAMSTRUP_… variables alone).
 */
export function loadConfigOrExit(path: string, explicit = true, heading = 'the config is not valid; nothing started:'): LoadedConfig {
  const environmentOnly = !explicit && Object.keys(process.env).some((name) => name.startsWith('KAMSTRUP_METERS__'));
  try {
    return loadConfig({ path, env: process.env, optionalFile: environmentOnly });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(ExitCode.usage, `${heading}\n${error.format()}`, { cause: error });
    throw error;
  }
}

/** status and export read what the daemon wrote; they never create an empty database. */
export function openExistingStore(path: string): Store {
  if (!existsSync(path)) {
    throw new CliError(ExitCode.failure, `no database at ${path} yet: \`kamstrup-logger run\` creates it with its first reading (check storage.path in the config)`);
  }
  return Store.open(path, { sinks: [] });
}
