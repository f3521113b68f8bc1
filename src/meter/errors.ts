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
  | 'link-failure' // the link could not be opened or broke
  | 'closed'; // the client was closed

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
