// Typed errors of the KMP codec. Every failure has a discriminating `code`, and the
// structured facts (expected / actual / offset) so callers can decide without parsing text.

export const kmpErrorCodes = [
  'bad-escape', // 0x1B followed by a byte that is not an escaped reserved value
  'truncated-escape', // a frame ends on a lone 0x1B
  'bad-start-byte', // a frame does not begin with the start byte of its direction
  'missing-stop-byte', // a frame does not end with 0x0D
  'frame-too-short', // fewer bytes than destination + command id + CRC
  'crc-mismatch', // CRC-16/XMODEM over the data-link bytes is not zero
  'unexpected-destination', // answer from another address than the request went to
  'unexpected-command', // answer to another command than the one asked, or a command a meter does not know
  'unexpected-register', // a register in the answer that the request did not ask for
  'bad-length', // application data of the wrong length for its command
  'bad-register-count', // GetRegister with 0 or more than 8 ids
  'truncated-record', // a register record runs past the end of the answer
  'bad-value', // a value that cannot be encoded in the KMP number format
] as const;

export type KmpErrorCode = (typeof kmpErrorCodes)[number];

export interface KmpErrorDetails {
  readonly expected?: string;
  readonly actual?: string;
  readonly offset?: number;
}

export class KmpError extends Error {
  override readonly name = 'KmpError';
  readonly code: KmpErrorCode;
  readonly details: KmpErrorDetails;

  constructor(code: KmpErrorCode, message: string, details: KmpErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}
