// Errors of reading a meter: what failed after all retries, with the last cause attached.

import type { RegisterReading } from '../registers/index.js';

/** What a multi-request read got before an exchange failed: the caller keeps what was read. */
export interface PartialRead {
  readonly readings: ReadonlyMap<number, RegisterReading>;
  /** Ids the meter answered without (it does not support them). */
  readonly missing: readonly number[];
  /** Ids not read because an exchange failed. */
  readonly unread: readonly number[];
}

export type MeterErrorCode =
  | 'no-answer' // the meter stayed silent on every attempt
  | 'corrupt-answer' // answers came, but garbled (CRC, stuffing, length) or not to this request
  | 'line-noise' // the line kept sending bytes that were no KMP answer until the attempt's deadline
  | 'link-failure' // the link could not be opened or broke
  | 'closed'; // the client was closed, also in the middle of an exchange

export class MeterError extends Error {
  override readonly name = 'MeterError';
  readonly code: MeterErrorCode;
  readonly partial: PartialRead | undefined;

  constructor(code: MeterErrorCode, message: string, options?: { cause?: unknown; partial?: PartialRead }) {
    super(message, options);
    this.code = code;
    this.partial = options?.partial;
  }
}

/** One attempt's silence: no start byte in time, or the answer stopped halfway. */
export class SilenceError extends Error {
  override readonly name = 'SilenceError';
  readonly code = 'silence';
  readonly partial: boolean;

  constructor(message: string, partial: boolean) {
    super(message);
    this.partial = partial;
  }
}

/** One attempt's noise: bytes kept coming until the deadline, or a frame outgrew any KMP answer. */
export class NoiseError extends Error {
  override readonly name = 'NoiseError';
  readonly code = 'noise';
  /** Bytes received during the attempt. */
  readonly bytes: number;
  readonly elapsedMs: number;

  constructor(message: string, bytes: number, elapsedMs: number) {
    super(message);
    this.bytes = bytes;
    this.elapsedMs = elapsedMs;
  }
}
