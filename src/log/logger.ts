// The daemon's logger: JSON lines for machines (journald, Docker, Loki), human-readable lines
// on a terminal or with --pretty. Secrets never reach a line: any key that names a secret is
// redacted wherever it sits, and errors are logged under `err` so their `code` survives.

import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../config/index.js';

export type { Logger } from 'pino';

/**
 * A key whose value is a secret, in any spelling and at any depth: token, influx_token,
 * INFLUX_PASSWORD, Authorization, apiKey, client_secret …
 */
export const secretKeyPattern = /token|passw(or)?d|secret|authori[sz]ation|api[-_]?key|credential/i;

/**
 * A copy of a log record with every secret value replaced; errors keep message, code and cause.
 * A Date stays a Date, and an object that says how it is written (toJSON: a URL, a Buffer) is
 * redacted in that form: copying its own keys would log it as {}.
 */
/** A URL's text with the password of its user:password@ part redacted. */
function withoutPassword(url: URL): string {
  if (url.password === '') return url.href;
  const shown = new URL(url.href);
  shown.password = 'redacted';
  return shown.href;
}

export function redactSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  if (value instanceof URL) return withoutPassword(value);
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, seen));
  if (!(value instanceof Error) && 'toJSON' in value && typeof value.toJSON === 'function') return redactSecrets((value.toJSON as () => unknown).call(value), seen);
  const copy: Record<string, unknown> = {};
  const keys = value instanceof Error ? ['name', 'message', 'stack', ...Object.keys(value), 'cause'] : Object.keys(value);
  for (const key of keys) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    copy[key] = secretKeyPattern.test(key) ? '[redacted]' : redactSecrets(field, seen);
  }
  return copy;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines instead of JSON. */
  readonly pretty: boolean;
  /** Where lines go; stdout by default. Tests pass their own stream. */
  readonly destination?: NodeJS.WritableStream;
}

/** How many of a record's `values` a pretty line shows in its message. */
export const PRETTY_VALUES = 6;

/**
 * A pretty line's message, followed by the first of a record's `values` (a job run's readings):
 * "job run ok · heat_energy 74.561 MWh · power 2.6 kW · … · +3 more". JSON keeps them as a field.
 */
export function prettyMessage(record: Record<string, unknown>, messageKey: string): string {
  const message = typeof record[messageKey] === 'string' ? record[messageKey] : '';
  const values = record.values;
  if (typeof values !== 'object' || values === null) return message;
  const entries = Object.entries(values);
  const shown = entries.slice(0, PRETTY_VALUES).map(([name, value]) => `${name} ${String(value)}`);
  if (entries.length > PRETTY_VALUES) shown.push(`+${entries.length - PRETTY_VALUES} more`);
  return [message, ...shown].join(' · ');
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const stream: NodeJS.WritableStream = options.pretty
    ? pretty({
        destination: destination as Writable,
        colorize: destination === process.stdout && process.stdout.isTTY,
        translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
        // The values are in the message already.
        ignore: 'pid,hostname,values',
        messageFormat: (record, messageKey) => prettyMessage(record, messageKey),
        singleLine: true,
        sync: true,
      })
    : destination;
  return pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.errWithCause },
      formatters: {
        level: (label) => ({ level: label }),
        // After the serializers: walks the whole record, so depth and spelling cannot hide a secret.
        log: (record) => redactSecrets(record) as Record<string, unknown>,
      },
    },
    stream,
  );
}
