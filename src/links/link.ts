// A meter link moves bytes between this program and an optical head, wherever the head is:
// a serial device, a TCP bridge, or the simulator in this process. It knows nothing of KMP;
// framing, timing and retries live in the meter client, once, for every link.

import type { LinkError } from './errors.js';

export interface LinkReceiver {
  data(chunk: Uint8Array): void;
  /** The link closed without being asked to (head unplugged, bridge dropped the connection). */
  closed(reason: LinkError): void;
}

export type LinkKind = 'serial' | 'tcp' | 'simulated';

export interface MeterLink {
  readonly kind: LinkKind;
  /** For messages: "serial /dev/ttyUSB0", "tcp 127.0.0.1:2002", "simulated multical-402". */
  readonly description: string;
  readonly isOpen: boolean;
  /** True where write() resolves only once the bytes are on the line (serial drain). */
  readonly writeWaitsForLine: boolean;
  /** Opens the link, or reopens it after it closed; received bytes go to this receiver from now on. */
  open(receiver: LinkReceiver): Promise<void>;
  /** Sends the bytes in one write; rejects with LinkError 'closed' when the link is not open. */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
