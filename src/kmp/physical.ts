// Physical layer (Kamstrup doc 5512-447 §3.1): start byte, stuffed data-link bytes, stop byte.
// The start byte tells the direction (0x80 towards the meter, 0x40 from it), so a reader can
// tell a head's echo of the request from the meter's answer on the same line.

import { KmpError } from './errors.js';
import { hexByte } from './bytes.js';

export const START_TO_METER = 0x80;
export const START_FROM_METER = 0x40;
export const STOP = 0x0d;
export const ACK = 0x06;
export const ESCAPE = 0x1b;

export type Direction = 'to-meter' | 'from-meter';

/** KMP's line speed; some meters (MULTICAL 302) also allow 2400. */
export const KMP_BAUD_RATE = 1200;
/** One byte on the 8N2 line: start bit, 8 data bits, 2 stop bits. */
export const BITS_PER_BYTE = 11;

export function startByteOf(direction: Direction): number {
  return direction === 'to-meter' ? START_TO_METER : START_FROM_METER;
}

const reserved = new Set([START_TO_METER, START_FROM_METER, STOP, ACK, ESCAPE]);

export function isReserved(byte: number): boolean {
  return reserved.has(byte);
}

/** Escapes every reserved byte as 0x1B followed by the byte XOR 0xFF. */
export function stuff(bytes: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of bytes) if (reserved.has(b)) extra++;
  const out = new Uint8Array(bytes.length + extra);
  let j = 0;
  for (const b of bytes) {
    if (reserved.has(b)) {
      out[j++] = ESCAPE;
      out[j++] = b ^ 0xff;
    } else {
      out[j++] = b;
    }
  }
  return out;
}

/**
 * Reverses `stuff` in one left-to-right pass: an escaped byte is never looked at again, so
 * data that happens to read `1B E4 7F` decodes to `1B 7F`, not to `80`.
 */
export function unstuff(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b !== ESCAPE) {
      out[j++] = b;
      continue;
    }
    if (i + 1 >= bytes.length) {
      throw new KmpError('truncated-escape', 'frame ends on a lone escape byte 0x1B', { offset: i });
    }
    const unescaped = (bytes[++i] as number) ^ 0xff;
    if (!reserved.has(unescaped)) {
      throw new KmpError(
        'bad-escape',
        `escape 0x1B followed by ${hexByte(bytes[i] as number)}, which does not stand for a reserved byte`,
        { offset: i - 1, expected: '7F, BF, F2, F9 or E4', actual: hexByte(bytes[i] as number) },
      );
    }
    out[j++] = unescaped;
  }
  return out.slice(0, j);
}

/** Wraps data-link bytes into a frame: start byte, stuffed bytes, stop byte. */
export function encodeFrame(direction: Direction, dataLinkBytes: Uint8Array): Uint8Array {
  const body = stuff(dataLinkBytes);
  const frame = new Uint8Array(body.length + 2);
  frame[0] = startByteOf(direction);
  frame.set(body, 1);
  frame[frame.length - 1] = STOP;
  return frame;
}

/** Unwraps one complete frame (start byte … stop byte) into its data-link bytes. */
export function decodeFrame(direction: Direction, frame: Uint8Array): Uint8Array {
  const start = startByteOf(direction);
  if (frame[0] !== start) {
    throw new KmpError('bad-start-byte', `frame does not start with ${hexByte(start)}`, {
      expected: hexByte(start),
      actual: frame.length > 0 ? hexByte(frame[0] as number) : 'nothing',
    });
  }
  if (frame.length < 2 || frame[frame.length - 1] !== STOP) {
    throw new KmpError('missing-stop-byte', 'frame does not end with the stop byte 0x0D', {
      expected: '0x0D',
      actual: frame.length > 1 ? hexByte(frame[frame.length - 1] as number) : 'nothing',
    });
  }
  return unstuff(frame.subarray(1, frame.length - 1));
}
