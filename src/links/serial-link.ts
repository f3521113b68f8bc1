// A serial optical head (USB IR head on /dev/ttyUSB0, a pseudo-terminal from socat or
// `kamstrup-logger simulate --pty`). KMP runs at 1200 baud, 8 data bits, no parity, 2 stop bits.

import { access, constants as fsConstants, stat } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import { KMP_BAUD_RATE } from '../kmp/index.js';
import { LinkError, errnoOf } from './errors.js';
import type { LinkReceiver, MeterLink } from './link.js';

export interface SerialLinkOptions {
  readonly path: string;
  readonly baudRate?: number;
}

export const MAX_SERIAL_BAUD_RATE = 115_200;

export class SerialLink implements MeterLink {
  readonly kind = 'serial';
  // drain() waits until the bytes are on the line, so the answer timeout starts at the right moment.
  readonly writeWaitsForLine = true;
  readonly description: string;
  private port: SerialPort | null = null;
  private receiver: LinkReceiver | null = null;
  private readonly options: SerialLinkOptions;

  constructor(options: SerialLinkOptions) {
    this.options = options;
    this.description = `serial ${options.path}`;
  }

  get isOpen(): boolean {
    return this.port !== null;
  }

  async open(receiver: LinkReceiver): Promise<void> {
    this.receiver = receiver;
    if (this.port) return;
    const { path, baudRate = KMP_BAUD_RATE } = this.options;
    // Loaded on first use: a daemon reading only TCP bridges or the simulator never pays for it.
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 2, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(error) : resolve()));
    }).catch(async (error: unknown) => {
      throw await openError(path, error);
    });
    this.port = port;
    port.on('data', (chunk: Buffer) => this.receiver?.data(chunk));
    // An unplugged USB head ends in 'close'; a failed write or close may only raise 'error'.
    const lost = (): void => {
      if (this.port !== port) return;
      this.port = null;
      this.receiver?.closed(new LinkError('closed', `${path} closed: was the optical head unplugged? It is reopened on the next read.`));
      if (port.isOpen) port.close(() => undefined);
    };
    port.on('error', lost);
    port.on('close', lost);
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new LinkError('closed', `${this.description} is not open`));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(bytes));
      port.drain((error) => {
        if (error) reject(new LinkError('closed', `writing to ${this.options.path} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}

/** What the file system says about a device path that would not open. */
export interface DeviceProbe {
  exists(path: string): Promise<boolean>;
  readableAndWritable(path: string): Promise<boolean>;
}

const fileSystemProbe: DeviceProbe = {
  exists: (path) =>
    stat(path).then(
      () => true,
      (error: unknown) => errnoOf(error) !== 'ENOENT',
    ),
  readableAndWritable: (path) =>
    access(path, fsConstants.R_OK | fsConstants.W_OK).then(
      () => true,
      () => false,
    ),
};

/** serialport reports open failures as text; the file system tells the cause reliably. */
export async function openError(path: string, error: unknown, probe: DeviceProbe = fileSystemProbe): Promise<LinkError> {
  const detail = (error instanceof Error ? error.message : String(error)).replace(/^(Error:\s*)+/, '');
  if (!(await probe.exists(path))) {
    return new LinkError(
      'device-not-found',
      `no serial device ${path}: is the optical head plugged in? List heads with \`ls -l /dev/serial/by-id/\` and use that stable path.`,
      { cause: error },
    );
  }
  if (!(await probe.readableAndWritable(path))) {
    return new LinkError(
      'permission-denied',
      `permission denied opening ${path}: add your user to the group that owns it (usually dialout: \`sudo usermod -aG dialout $USER\`, then log in again), or run the container with \`group_add: [dialout]\`.`,
      { cause: error },
    );
  }
  if (/inappropriate ioctl|not a typewriter|is a directory/i.test(detail)) {
    return new LinkError(
      'not-a-serial-device',
      `${path} is not a serial device: point the meter URL at the optical head's device, e.g. /dev/serial/by-id/usb-…-port0.`,
      { cause: error },
    );
  }
  if (/lock|busy/i.test(detail)) {
    return new LinkError('device-busy', `${path} is in use by another program: one process owns one optical head (stop the other reader).`, { cause: error });
  }
  return new LinkError('io', `cannot open ${path}: ${detail}`, { cause: error });
}
