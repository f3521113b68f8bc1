// A raw TCP bridge to an optical head: ser2net (raw mode), ESP-Link, a USR-TCP232 box, or
// `kamstrup-logger simulate --listen`. Bridges drop idle connections (ESP-Link after ~5 min),
// so the link connects lazily and reconnects on the next exchange after a drop; keep-alive
// probes find a connection that died without a reset (Wi-Fi gone, NAT entry expired).

import net from 'node:net';
import { LinkError, errnoOf } from './errors.js';
import type { LinkReceiver, MeterLink } from './link.js';

export interface TcpLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs?: number;
}

const KEEPALIVE_DELAY_MS = 30_000;
/** Recent bytes kept to quote a bridge's own text when it hangs up ("port in use", …). */
const RECENT_BYTES = 120;

export class TcpLink implements MeterLink {
  readonly kind = 'tcp';
  readonly writeWaitsForLine = false;
  readonly description: string;
  private socket: net.Socket | null = null;
  private receiver: LinkReceiver | null = null;
  private recent: number[] = [];
  private readonly options: TcpLinkOptions;

  constructor(options: TcpLinkOptions) {
    this.options = options;
    this.description = `tcp ${options.host}:${options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== null;
  }

  open(receiver: LinkReceiver): Promise<void> {
    this.receiver = receiver;
    if (this.socket) return Promise.resolve();
    const { host, port, connectTimeoutMs = 5000 } = this.options;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
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
        socket.setNoDelay(true);
        socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
        this.socket = socket;
        this.recent = [];
        socket.on('data', (chunk: Buffer) => {
          this.recent = [...this.recent, ...chunk].slice(-RECENT_BYTES);
          this.receiver?.data(chunk);
        });
        socket.on('error', () => {
          // 'close' follows and reports; a reset bridge is an ordinary drop.
        });
        socket.on('close', () => {
          if (this.socket !== socket) return;
          this.socket = null;
          const said = bridgeText(this.recent);
          this.receiver?.closed(
            new LinkError('closed', `the TCP bridge at ${host}:${port} closed the connection${said ? `, saying "${said}"` : ''}`),
          );
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
      socket.destroy();
    });
  }
}

/** A bridge that refuses service often says why in plain text; meter frames are binary. */
function bridgeText(bytes: readonly number[]): string | null {
  const text = String.fromCharCode(...bytes.filter((b) => b >= 0x20 && b < 0x7f)).trim();
  return text.length >= 4 && text.length >= bytes.length * 0.8 ? text : null;
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
      return new LinkError('host-not-found', `cannot resolve the host "${host}": check the name in the meter URL, or use its IP address.`, { cause: error });
    case 'EAI_AGAIN':
      return new LinkError('host-not-found', `cannot resolve the host "${host}" right now (is the network or DNS up yet?); the IP address avoids the look-up.`, { cause: error });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new LinkError('host-unreachable', `no route to ${where}: is the bridge's host on the network?`, { cause: error });
    default:
      return new LinkError('io', `cannot connect to ${where}: ${error.message}`, { cause: error });
  }
}
