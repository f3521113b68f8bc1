// The simulator in this process, behind the same MeterLink interface as a real head.

import { LinkError } from '../links/errors.js';
import type { LinkReceiver, MeterLink } from '../links/link.js';
import { RequestCounter, SimulatedMeterPort, type LineOptions, type SimulatedMeter } from './meter-port.js';

export class SimulatedLink implements MeterLink {
  readonly kind = 'simulated';
  readonly writeWaitsForLine = false;
  readonly description: string;
  readonly meter: SimulatedMeter;
  private readonly lineOptions: LineOptions;
  private port: SimulatedMeterPort | null = null;
  private receiver: LinkReceiver | null = null;
  private readonly counter = new RequestCounter();

  constructor(meter: SimulatedMeter, lineOptions: LineOptions, description: string) {
    this.meter = meter;
    this.lineOptions = lineOptions;
    this.description = description;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  open(receiver: LinkReceiver): Promise<void> {
    this.receiver = receiver;
    this.port ??= new SimulatedMeterPort(this.meter, this.lineOptions, (chunk) => this.receiver?.data(chunk), this.counter);
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.port) return Promise.reject(new LinkError('closed', `${this.description} is not open`));
    this.port.receive(bytes);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.port?.close();
    this.port = null;
    return Promise.resolve();
  }
}
