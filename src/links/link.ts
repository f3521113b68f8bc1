// A meter link moves bytes between this program and an optical head, wherever the head is:
// a serial device, a TCP bridge, or the simulator in this process. It knows nothing of KMP;
// framing, timing and retries live in the meter client, once, for every link.

import type { LinkError } from './errors.js';

export interface LinkReceiver {
  data(chunk: Uint8Array): void;
  /** The link closed without being asked to (head unplugged, bridge dropped the connection). */
  closed(reason: LinkError): void;
}

export interface MeterLink {
  /** For messages: "serial /dev/ttyUSB0", "tcp 127.0.0.1:2002", "simulated multical-402". */
  readonly description: string;
  readonly isOpen: boolean;
  /** Opens the link, or reopens it after it closed; received bytes go to the receiver. */
  open(receiver: LinkReceiver): Promise<void>;
  /** Sends the bytes in one write; resolves once they have been handed on (drained on serial). */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
