// Serves the simulator to other programs as a raw TCP bridge would (ser2net, ESP-Link):
// every connection is a head on the same simulated meter.

import net from 'node:net';
import { RequestCounter, SimulatedMeterPort, type LineOptions, type SimulatedMeter } from './meter-port.js';

export interface SimulatorServer {
  readonly host: string;
  readonly port: number;
  /** Requests received over all connections. */
  readonly requests: number;
  /** Drops every open connection, as a bridge does to idle clients. */
  dropConnections(): void;
  close(): Promise<void>;
}

export function serveSimulatorOverTcp(meter: SimulatedMeter, lineOptions: LineOptions, host: string, port: number): Promise<SimulatorServer> {
  const sockets = new Map<net.Socket, SimulatedMeterPort>();
  const counter = new RequestCounter();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const meterPort = new SimulatedMeterPort(
      meter,
      lineOptions,
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
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets.keys()) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
