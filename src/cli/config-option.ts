// The --config option and loading the file, shared by run, status and export.

import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { nearest } from '../config/keys.js';
import { ConfigError, loadConfig, type LoadedConfig, type StorageAccess } from '../config/index.js';
import { Store, StoreError } from '../store/index.js';
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
export function loadConfigOrExit(path: string, explicit = true, heading = 'the config is not valid; nothing started:', storageAccess: StorageAccess = 'write'): LoadedConfig {
  const environmentOnly = !explicit && Object.keys(process.env).some((name) => name.startsWith('KAMSTRUP_METERS__'));
  try {
    return loadConfig({ path, env: process.env, optionalFile: environmentOnly, storageAccess });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(ExitCode.usage, `${heading}\n${error.format()}`, { cause: error });
    throw error;
  }
}

/**
 * status, export and backfill work on what the daemon wrote; they never create an empty
 * database. status and export only read ('read'): they open the file read-only, so they work
 * on a file or file system this user may not write, and never change the schema under a
 * running daemon.
 */
export function openExistingStore(path: string, access: 'read' | 'write'): Store {
  if (!existsSync(path)) {
    throw new CliError(ExitCode.failure, `no database at ${path} yet: \`kamstrup-logger run\` creates it with its first reading (check storage.path in the config)`);
  }
  try {
    return Store.open(path, { sinks: [], readOnly: access === 'read' });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'needs-upgrade') throw new CliError(ExitCode.usage, error.message, { cause: error });
    throw error;
  }
}

/** --from and --to as a range; a range that ends before it starts is a mistake, not an empty answer. */
export function parseRange(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const range = {
    ...(from !== undefined && { from: parseTime(from, '--from') }),
    ...(to !== undefined && { to: parseTime(to, '--to') }),
  };
  if (range.from !== undefined && range.to !== undefined && range.from.getTime() >= range.to.getTime()) {
    throw new CliError(ExitCode.usage, `--from ${from ?? ''} is not before --to ${to ?? ''}: that range holds no reading (--to is exclusive). Swap them, or move --to later.`);
  }
  return range;
}

/** A date alone means local midnight: the owner of a heat meter thinks in local days. */
export function parseTime(text: string, flag: string): Date {
  const usage = new CliError(ExitCode.usage, `${flag} takes an ISO 8601 time such as 2026-01-01 or 2026-01-01T06:00:00Z, not "${text}"`);
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(text);
  if (!match) throw usage;
  const date = new Date(text.length === 10 ? `${text}T00:00:00` : text);
  if (Number.isNaN(date.getTime())) throw usage;
  // new Date() rolls 2026-02-30 over into March; a calendar day that does not exist is a typo.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) throw usage;
  return date;
}

/** A --meter that names no meter of the config or the database is a typo: exit 2, with the nearest name. */
export function checkMeterName(name: string, known: readonly string[]): void {
  if (known.includes(name)) return;
  const names = [...new Set(known)];
  const guess = nearest(name, names);
  throw new CliError(ExitCode.usage, `no meter is named "${name}"${guess === undefined ? '' : `; did you mean "${guess}"?`} (known: ${names.length > 0 ? names.join(', ') : 'none yet'})`);
}
