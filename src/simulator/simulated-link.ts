// The simulator in this process, behind the same MeterLink interface as a real head.

import type { LinkReceiver, MeterLink } from '../links/link.js';
import { SimulatedMeterPort, type LineOptions, type SimulatedMeter } from './meter-port.js';

export class SimulatedLink implements MeterLink {
  readonly description: string;
  readonly meter: SimulatedMeter;
  private readonly lineOptions: LineOptions;
  private port: SimulatedMeterPort | null = null;

  constructor(meter: SimulatedMeter, lineOptions: LineOptions, description: string) {
    this.meter = meter;
    this.lineOptions = lineOptions;
    this.description = description;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  open(receiver: LinkReceiver): Promise<void> {
    this.port ??= new SimulatedMeterPort(this.meter, this.lineOptions, (chunk) => receiver.data(chunk));
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    this.port?.receive(bytes);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.port?.close();
    this.port = null;
    return Promise.resolve();
  }
}
