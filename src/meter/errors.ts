// Errors of reading a meter: what failed after all retries, with the last cause attached.

export type MeterErrorCode =
  | 'no-answer' // the meter stayed silent on every attempt
  | 'corrupt-answer' // answers came, but garbled (CRC, stuffing, length) or not to this request
  | 'link-failure'; // the link could not be opened or broke

export class MeterError extends Error {
  override readonly name = 'MeterError';
  readonly code: MeterErrorCode;

  constructor(code: MeterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
