// Options shared by every command that talks to a meter.

import { Option, type Command } from 'commander';
import { DEFAULT_RESPONSE_TIMEOUT_MS, DEFAULT_RETRIES, type MeterClientOptions } from '../meter/client.js';
import { connectMeter } from '../app/connect-meter.js';
import type { MeterClient } from '../meter/client.js';
import { CliError, ExitCode } from './exit-codes.js';

export const MAX_TIMEOUT_MS = 60_000;
export const MAX_RETRIES = 10;

export interface MeterCommandOptions {
  meter: string;
  timeout: number;
  retries: number;
  json?: boolean;
}

export function addMeterOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-m, --meter <url>', 'the meter: /dev/ttyUSB0, serial:///dev/ttyUSB0?baud=2400, tcp://HOST:PORT or sim://multical-402')
        .env('KAMSTRUP_METER')
        .makeOptionMandatory(),
    )
    .addOption(new Option('--timeout <ms>', 'wait this long for the first answer byte').default(DEFAULT_RESPONSE_TIMEOUT_MS).argParser(wholeNumber('--timeout', 1, MAX_TIMEOUT_MS)))
    .addOption(new Option('--retries <n>', 'attempts after a silent or garbled answer').default(DEFAULT_RETRIES).argParser(wholeNumber('--retries', 0, MAX_RETRIES)))
    .option('--json', 'one JSON object per line, for machines');
}

export function openMeter(options: MeterCommandOptions): MeterClient {
  const clientOptions: MeterClientOptions = { responseTimeoutMs: options.timeout, retries: options.retries };
  return connectMeter(options.meter, clientOptions);
}

/** A parser for a whole-number option within limits (timers hold at most 2^31 − 1 ms). */
export function wholeNumber(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new CliError(ExitCode.usage, `${flag} takes a whole number from ${min} to ${max}, not "${value}"`);
    }
    return n;
  };
}
