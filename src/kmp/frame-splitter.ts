// Finds frames in a byte stream that arrives in arbitrary chunks (serial reads, TCP segments).
// Everything before a start byte is discarded: an IR head's echo of the request, a meter's
// stray 0x00, line noise. A start byte inside a frame cannot occur (it would be stuffed), so
// one restarts the frame: the reader re-synchronises on the next real frame.

import { MAX_REGISTERS_PER_REQUEST } from './messages.js';
import { ACK, STOP, startByteOf, type Direction } from './physical.js';
import { MAX_MANTISSA_BYTES } from './value.js';

export type SplitterEvent =
  | { readonly kind: 'frame'; readonly frame: Uint8Array }
  | { readonly kind: 'ack' };

/** A GetRegister record: id (2 bytes), unit, NoB, SiEx, then up to 8 mantissa bytes. */
const MAX_RECORD_BYTES = 5 + MAX_MANTISSA_BYTES;
/**
 * The longest answer is a GetRegister answer with 8 full records (GetType and GetSerialNo carry
 * 4 data bytes, requests at most 17): DST + CID + data + 2 CRC bytes before stuffing.
 */
const MAX_DATA_LINK_BYTES = 2 + MAX_REGISTERS_PER_REQUEST * MAX_RECORD_BYTES + 2;
/**
 * The longest valid frame on the wire, either way: stuffing at worst doubles every byte between
 * start and stop (218 bytes). Anything longer is no KMP frame and is given up.
 */
export const MAX_FRAME_BYTES = 2 * MAX_DATA_LINK_BYTES + 2;

export class FrameSplitter {
  private readonly start: number;
  private readonly acceptsAck: boolean;
  private buffer: number[] = [];
  private collecting = false;
  private discarded = 0;
  private overlong = 0;

  constructor(direction: Direction) {
    this.start = startByteOf(direction);
    // Only a meter answers with a bare ACK.
    this.acceptsAck = direction === 'from-meter';
  }

  /** True once a start byte has been seen and its frame is not complete yet. */
  get inFrame(): boolean {
    return this.collecting;
  }

  /** Bytes thrown away so far because they were outside any frame. */
  get discardedBytes(): number {
    return this.discarded;
  }

  /** Frames given up so far because they grew longer than any valid KMP frame. */
  get overlongFrames(): number {
    return this.overlong;
  }

  push(chunk: Uint8Array): SplitterEvent[] {
    const events: SplitterEvent[] = [];
    for (const byte of chunk) {
      if (byte === this.start) {
        if (this.collecting) this.discarded += this.buffer.length;
        this.buffer = [byte];
        this.collecting = true;
      } else if (!this.collecting) {
        if (byte === ACK && this.acceptsAck) events.push({ kind: 'ack' });
        else this.discarded++;
      } else {
        this.buffer.push(byte);
        if (byte === STOP) {
          events.push({ kind: 'frame', frame: Uint8Array.from(this.buffer) });
          this.buffer = [];
          this.collecting = false;
        } else if (this.buffer.length >= MAX_FRAME_BYTES) {
          this.discarded += this.buffer.length;
          this.overlong++;
          this.buffer = [];
          this.collecting = false;
        }
      }
    }
    return events;
  }

  reset(): void {
    this.discarded += this.buffer.length;
    this.buffer = [];
    this.collecting = false;
  }
}
