// Serves the simulator to other programs as a raw TCP bridge would (ser2net, ESP-Link):
// every connection is a head on the same simulated meter.

import net from 'node:net';
import { RequestCounter, SimulatedMeterPort, type FaultKind, type LineOptions, type SimulatedMeter } from './meter-port.js';

export interface SimulatorServer {
  readonly host: string;
  readonly port: number;
  /** Requests received over all connections. */
  readonly requests: number;
  /** Drops every open connection, as a bridge does to idle clients. */
  dropConnections(): void;
  /** Changes the injected faults from the next request on, for tests that break a running line. */
  setFaults(faults: readonly FaultKind[], every?: number): void;
  close(): Promise<void>;
}

export function serveSimulatorOverTcp(meter: SimulatedMeter, lineOptions: LineOptions, host: string, port: number): Promise<SimulatorServer> {
  const sockets = new Map<net.Socket, SimulatedMeterPort>();
  const counter = new RequestCounter();
  // One options object shared by every connection's port, so setFaults reaches them all.
  const line: { -readonly [K in keyof LineOptions]: LineOptions[K] } = { ...lineOptions };
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const meterPort = new SimulatedMeterPort(
      meter,
      line,
      (chunk) => {
        if (!socket.destroyed) socket.write(chunk);
      },
      counter,
    );
    sockets.set(socket, meterPort);
    socket.on('data', (chunk: Buffer) => meterPort.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      meterPort.close();
      sockets.delete(socket);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        host,
        port: address.port,
        get requests() {
          return counter.count;
        },
        dropConnections() {
          for (const socket of sockets.keys()) socket.destroy();
        },
        setFaults(faults, every = 1) {
          line.faults = faults;
          line.faultEvery = every;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets.keys()) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
