// Test setups that put the simulator behind each kind of meter link.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingProgram, onPath } from './programs.js';
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
