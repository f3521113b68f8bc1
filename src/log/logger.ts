// The daemon's logger: JSON lines for machines (journald, Docker, Loki), human-readable lines
// on a terminal or with --pretty. Secrets never reach a line: known secret keys are redacted
// wherever they sit, and errors are logged under `err` so their `code` survives.

import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/index.js';

export type { Logger } from 'pino';

/** Keys whose values are secrets, at any of the depths config and errors put them. */
export const redactedKeys = ['token', 'password', 'secret', 'apiKey', 'api_key', 'authorization'] as const;

const redactPaths = redactedKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines instead of JSON. */
  readonly pretty: boolean;
  /** Where lines go; stdout by default. Tests pass their own stream. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const stream: NodeJS.WritableStream = options.pretty
    ? pretty({ destination: destination as Writable, colorize: destination === process.stdout && process.stdout.isTTY, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true })
    : destination;
  return pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.errWithCause },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
