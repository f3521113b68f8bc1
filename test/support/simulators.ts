// Test setups that put the simulator behind each kind of meter link.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingProgram, onPath } from './programs.js';
import { FrameSplitter } from '../../src/kmp/index.js';
import type { MeterLink } from '../../src/links/link.js';
import { SerialLink } from '../../src/links/serial-link.js';
import { TcpLink } from '../../src/links/tcp-link.js';
import type { LineOptions } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { serveSimulatorOverPty } from '../../src/simulator/pty-server.js';
import { SimulatedLink } from '../../src/simulator/simulated-link.js';
import { serveSimulatorOverTcp, type SimulatorServer } from '../../src/simulator/tcp-server.js';

export interface LinkSetup {
  readonly link: MeterLink;
  /** The simulator's TCP server, where there is one (to count requests or drop connections). */
  readonly server?: SimulatorServer;
  close(): Promise<void>;
}

export interface LinkKind {
  readonly name: string;
  /** Why this kind cannot run here, or null. */
  readonly unavailable: string | null;
  setup(line: LineOptions, meter?: SimulatedMultical402): Promise<LinkSetup>;
}


export const linkKinds: readonly LinkKind[] = [
  {
    name: 'in-process simulator',
    unavailable: null,
    setup: (line, meter = new SimulatedMultical402()) => {
      const link = new SimulatedLink(meter, line, 'simulated multical-402');
      return Promise.resolve({ link, close: () => link.close() });
    },
  },
  {
    name: 'TCP bridge on 127.0.0.1',
    unavailable: null,
    setup: async (line, meter = new SimulatedMultical402()) => {
      const server = await serveSimulatorOverTcp(meter, line, '127.0.0.1', 0);
      const link = new TcpLink({ host: '127.0.0.1', port: server.port });
      return {
        link,
        server,
        close: async () => {
          await link.close();
          await server.close();
        },
      };
    },
  },
  {
    name: 'serialport over a pseudo-terminal',
    unavailable: onPath('socat') ? null : missingProgram('socat not installed (apt install socat): serial-over-PTY tests skipped'),
    setup: async (line, meter = new SimulatedMultical402()) => {
      const dir = mkdtempSync(join(tmpdir(), 'kamstrup-pty-'));
      const pty = await serveSimulatorOverPty(meter, line, join(dir, 'ttyKAM'));
      const link = new SerialLink({ path: pty.path });
      return {
        link,
        server: pty.tcp,
        close: async () => {
          await link.close();
          await pty.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** What a hostile bridge sends once a request arrives on a connection, until it closes. */
export interface BridgeStream {
  /** 'random': pseudo-random bytes (0x40 and 0x0D among them); 'start-then-filler': 0x40, then 0x11 forever. */
  readonly bytes: 'silence' | 'random' | 'start-then-filler';
  /** Bytes per write, and the pause between writes. */
  readonly chunkBytes?: number;
  readonly everyMs?: number;
  /** Falls silent after this many bytes; never, when unset. */
  readonly totalBytes?: number;
}

export interface HostileBridge {
  readonly port: number;
  /** KMP requests received over all connections. */
  readonly requests: number;
  readonly connections: number;
  readonly openConnections: number;
  bytesSent: number;
  close(): Promise<void>;
}

/** A TCP bridge on 127.0.0.1 that accepts requests and never sends a KMP answer. */
export async function serveHostileBridge(stream: BridgeStream): Promise<HostileBridge> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  let connections = 0;
  let listeningPort = 0;
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed & 0xff;
  };
  const bridge: HostileBridge = {
    bytesSent: 0,
    get port() {
      return listeningPort;
    },
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    const splitter = new FrameSplitter('to-meter');
    let timer: NodeJS.Timeout | undefined;
    let started = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
    });
    socket.on('data', (chunk) => {
      requests += splitter.push(chunk).filter((event) => event.kind === 'frame').length;
      if (started || stream.bytes === 'silence') return;
      started = true;
      let first = true;
      let sent = 0;
      timer = setInterval(() => {
        const length = Math.min(stream.chunkBytes ?? 64, (stream.totalBytes ?? Number.POSITIVE_INFINITY) - sent);
        if (length <= 0) return clearInterval(timer);
        sent += length;
        const bytes = Array.from({ length }, () => (stream.bytes === 'random' ? random() : 0x11));
        if (first && stream.bytes === 'start-then-filler') bytes[0] = 0x40;
        first = false;
        if (!socket.destroyed) {
          socket.write(Uint8Array.from(bytes));
          bridge.bytesSent += bytes.length;
        }
      }, stream.everyMs ?? 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listeningPort = (server.address() as net.AddressInfo).port;
  return bridge;
}
