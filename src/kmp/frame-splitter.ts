// Finds frames in a byte stream that arrives in arbitrary chunks (serial reads, TCP segments).
// Everything before a start byte is discarded: an IR head's echo of the request, a meter's
// stray 0x00, line noise. A start byte inside a frame cannot occur (it would be stuffed), so
// one restarts the frame: the reader re-synchronises on the next real frame.

import { ACK, STOP, startByteOf, type Direction } from './physical.js';

export type SplitterEvent =
  | { readonly kind: 'frame'; readonly frame: Uint8Array }
  | { readonly kind: 'ack' };

/** Longest plausible frame: 8 records of up to 13 bytes, all stuffed, plus header and CRC. */
export const MAX_FRAME_BYTES = 512;

export class FrameSplitter {
  private readonly start: number;
  private readonly acceptsAck: boolean;
  private buffer: number[] = [];
  private collecting = false;
  private discarded = 0;

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
