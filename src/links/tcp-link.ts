// A raw TCP bridge to an optical head: ser2net (raw mode), ESP-Link, a USR-TCP232 box, or
// `kamstrup-logger simulate --listen`. Bridges drop idle connections (ESP-Link after ~5 min),
// so the link connects lazily and reconnects on the next exchange after a drop.

import net from 'node:net';
import { LinkError, errnoOf } from './errors.js';
import type { LinkReceiver, MeterLink } from './link.js';

export interface TcpLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs?: number;
}

export class TcpLink implements MeterLink {
  readonly description: string;
  private socket: net.Socket | null = null;
  private readonly options: TcpLinkOptions;

  constructor(options: TcpLinkOptions) {
    this.options = options;
    this.description = `tcp ${options.host}:${options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== null;
  }

  open(receiver: LinkReceiver): Promise<void> {
    if (this.socket) return Promise.resolve();
    const { host, port, connectTimeoutMs = 5000 } = this.options;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LinkError('connect-timeout', `no answer from the TCP bridge at ${host}:${port} within ${connectTimeoutMs} ms: is the host up and the port right?`));
      }, connectTimeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(connectError(error, host, port));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        this.socket = socket;
        socket.on('data', (chunk: Buffer) => receiver.data(chunk));
        socket.on('error', () => {
          // 'close' follows and reports; a reset bridge is an ordinary drop.
        });
        socket.on('close', () => {
          if (this.socket !== socket) return;
          this.socket = null;
          receiver.closed(new LinkError('closed', `the TCP bridge at ${host}:${port} closed the connection`));
        });
        resolve();
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new LinkError('closed', `${this.description} is not connected`));
    return new Promise((resolve, reject) => {
      socket.write(bytes, (error) => {
        if (error) reject(new LinkError('closed', `writing to ${this.description} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      socket.destroySoon();
    });
  }
}

function connectError(error: Error, host: string, port: number): LinkError {
  const where = `${host}:${port}`;
  switch (errnoOf(error)) {
    case 'ECONNREFUSED':
      return new LinkError(
        'connection-refused',
        `connection refused by ${where}: nothing listens there. Start the bridge (ser2net, ESP-Link, or \`kamstrup-logger simulate --listen tcp://${where}\`) or fix the port in the meter URL.`,
        { cause: error },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new LinkError('host-not-found', `cannot resolve the host "${host}": check the name in the meter URL, or use its IP address.`, { cause: error });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new LinkError('connect-timeout', `no route to ${where}: is the bridge's host on the network?`, { cause: error });
    default:
      return new LinkError('io', `cannot connect to ${where}: ${error.message}`, { cause: error });
  }
}
