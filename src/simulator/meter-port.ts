// The meter's end of the line: request bytes in, answer bytes out, as a real MULTICAL behaves
// on its optical port — silence for anything it does not understand (bad CRC, more than 8 ids,
// another address, unknown command), an optional IR-head echo, and optional line pacing at
// 1200 baud 8N2 plus a turnaround before the answer. Faults can be injected so tests reach
// every path of the reader: silence, a corrupted CRC, garbage or a stray 0x00 before the answer.

import {
  BITS_PER_BYTE,
  DESTINATION_HEAT_METER,
  KMP_BAUD_RATE,
  FrameSplitter,
  concatBytes,
  decodeRequestFrame,
  encodeDataLink,
  encodeFrame,
  encodeResponseFrame,
  type ApplicationMessage,
  type KmpRequest,
} from '../kmp/index.js';

export const faultKinds = ['no-answer', 'crc-error', 'garbage', 'stray-zero'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface SimulatedMeter {
  answer(request: KmpRequest): ApplicationMessage | null;
}

export interface LineOptions {
  /** Deliver bytes at the speed of a real serial line instead of all at once. */
  readonly pace?: boolean;
  readonly baudRate?: number;
  /** Pause between the request's last byte and the answer's first (paced: default 50 ms, else 0). */
  readonly turnaroundMs?: number;
  /** Send every request byte back first, as many optical heads do. */
  readonly echo?: boolean;
  readonly faults?: readonly FaultKind[];
  /** Apply the faults to request 1, 1 + n, 1 + 2n, …; 1 means every request. */
  readonly faultEvery?: number;
}

export const DEFAULT_TURNAROUND_MS = 50;

/**
 * Counts the requests a simulated meter has seen over all its connections, so a fault pattern
 * ("every second request") holds across reconnects, as it would for the one real meter.
 */
export class RequestCounter {
  count = 0;
}

export class SimulatedMeterPort {
  private readonly meter: SimulatedMeter;
  private readonly options: LineOptions;
  private readonly transmit: (chunk: Uint8Array) => void;
  private readonly splitter = new FrameSplitter('to-meter');
  private readonly byteMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** When the line towards the meter / from the meter is free again (performance.now() ms). */
  private inboundFreeAt = 0;
  private outboundFreeAt = 0;
  private closed = false;

  private readonly counter: RequestCounter;

  constructor(meter: SimulatedMeter, options: LineOptions, transmit: (chunk: Uint8Array) => void, counter = new RequestCounter()) {
    this.meter = meter;
    this.counter = counter;
    this.options = options;
    this.transmit = transmit;
    this.byteMs = (BITS_PER_BYTE * 1000) / (options.baudRate ?? KMP_BAUD_RATE);
  }

  /** Requests seen so far (over every port sharing the counter), answered or not. */
  get requests(): number {
    return this.counter.count;
  }

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.options.pace) {
      if (this.options.echo) this.transmit(chunk);
      this.handleArrived(chunk, this.options.turnaroundMs ?? 0);
      return;
    }
    // Paced: the bytes take their wire time to arrive; the head echoes each as it passes.
    const start = Math.max(performance.now(), this.inboundFreeAt);
    this.inboundFreeAt = start + chunk.length * this.byteMs;
    if (this.options.echo) this.send(chunk, start);
    this.at(this.inboundFreeAt, () => this.handleArrived(chunk, this.options.turnaroundMs ?? DEFAULT_TURNAROUND_MS));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private handleArrived(chunk: Uint8Array, turnaroundMs: number): void {
    for (const event of this.splitter.push(chunk)) {
      if (event.kind !== 'frame') continue;
      this.counter.count++;
      const answer = this.answerFrame(event.frame);
      if (!answer) continue;
      if (!this.options.pace && turnaroundMs === 0) {
        this.transmit(answer);
      } else {
        const start = Math.max(performance.now() + turnaroundMs, this.outboundFreeAt);
        this.send(answer, start);
      }
    }
  }

  private answerFrame(frame: Uint8Array): Uint8Array | null {
    let destination: number;
    let request: KmpRequest;
    try {
      ({ destination, request } = decodeRequestFrame(frame));
    } catch {
      return null; // a real meter never answers what it cannot read
    }
    if (destination !== DESTINATION_HEAT_METER) return null;
    const answer = this.meter.answer(request);
    if (!answer) return null;
    const faults = this.activeFaults();
    if (faults.has('no-answer')) return null;
    let bytes = faults.has('crc-error') ? corruptedFrame(destination, answer) : encodeResponseFrame(destination, answer);
    if (faults.has('garbage')) bytes = concatBytes([lineNoise(this.counter.count), bytes]);
    if (faults.has('stray-zero')) bytes = concatBytes([Uint8Array.of(0x00), bytes]);
    return bytes;
  }

  private activeFaults(): Set<FaultKind> {
    const every = Math.max(1, this.options.faultEvery ?? 1);
    return (this.counter.count - 1) % every === 0 ? new Set(this.options.faults ?? []) : new Set();
  }

  /**
   * Sends bytes from `start`; when paced, at line speed and drift-free: each wake-up sends
   * every byte that is due by then.
   */
  private send(bytes: Uint8Array, start: number): void {
    if (!this.options.pace) {
      this.at(start, () => this.transmit(bytes));
      return;
    }
    this.outboundFreeAt = Math.max(this.outboundFreeAt, start + bytes.length * this.byteMs);
    let sent = 0;
    const step = (): void => {
      const due = Math.min(bytes.length, Math.floor((performance.now() - start) / this.byteMs));
      if (due > sent) {
        this.transmit(bytes.slice(sent, due));
        sent = due;
      }
      if (sent < bytes.length) this.at(start + (sent + 1) * this.byteMs, step);
    };
    this.at(start + this.byteMs, step);
  }

  private at(time: number, action: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) action();
    }, Math.max(0, time - performance.now()));
    this.timers.add(timer);
  }
}

function corruptedFrame(destination: number, answer: ApplicationMessage): Uint8Array {
  const dataLink = encodeDataLink({ destination, commandId: answer.commandId, data: answer.data });
  dataLink[dataLink.length - 1] = (dataLink[dataLink.length - 1] as number) ^ 0x01;
  return encodeFrame('from-meter', dataLink);
}

/**
 * Line noise before the answer, varying with the request: sometimes a false start byte that
 * runs into the real answer, sometimes a whole false frame (40 … 0D) that fails its CRC.
 */
function lineNoise(salt: number): Uint8Array {
  const noise = [0xff, 0x13, 0x40, 0xa5, 0x0d, 0x37, 0x40, 0xfe, 0x80];
  return Uint8Array.from(noise.slice(0, 2 + (salt % 8)));
}
