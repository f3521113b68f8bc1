// Links come back by themselves: a TCP bridge that drops an idle connection, a serial head
// closed and opened again, and a bridge that is down for a while.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { LinkError } from '../../src/links/errors.js';
import { TcpLink } from '../../src/links/tcp-link.js';
import { MeterClient } from '../../src/meter/client.js';
import { MeterError } from '../../src/meter/errors.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { serveSimulatorOverTcp } from '../../src/simulator/tcp-server.js';
import { linkKinds } from '../support/simulators.js';

const fast = { responseTimeoutMs: 400, retryPauseMs: 30 } as const;

describe('TCP bridge', () => {
  it('reconnects on the next read after the bridge dropped an idle connection', async () => {
    const server = await serveSimulatorOverTcp(new SimulatedMultical402(), {}, '127.0.0.1', 0);
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: server.port }), fast);
    try {
      assert.equal((await client.readRegisters([60])).readings.size, 1);
      server.dropConnections();
      await waitFor(() => !client.link.isOpen);
      assert.equal((await client.readRegisters([60])).readings.size, 1);
      assert.equal(client.statistics.attempts, 2);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('retries when the bridge drops the connection in the middle of an exchange', async () => {
    // A bridge that accepts, reads the request, and hangs up without answering — once.
    const meter = new SimulatedMultical402();
    const real = await serveSimulatorOverTcp(meter, {}, '127.0.0.1', 0);
    let hangUps = 0;
    const flaky = net.createServer((socket) => {
      if (hangUps++ === 0) {
        socket.once('data', () => socket.destroy());
        return;
      }
      const upstream = net.connect(real.port, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const port = (flaky.address() as net.AddressInfo).port;
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port }), fast);
    try {
      assert.equal((await client.readRegisters([60, 80])).readings.size, 2);
      assert.equal(client.statistics.attempts, 2);
    } finally {
      await client.close();
      flaky.close();
      await real.close();
    }
  });

  it('names the cause when nothing listens, and reads once the bridge is up', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port }), fast);
    await assert.rejects(client.readRegisters([60]), (error: unknown) => {
      assert.ok(error instanceof MeterError);
      assert.equal(error.code, 'link-failure');
      assert.ok(error.cause instanceof LinkError);
      assert.equal(error.cause.code, 'connection-refused');
      assert.match(error.message, /connection refused by 127\.0\.0\.1:\d+: nothing listens there/);
      return true;
    });
    const server = await serveSimulatorOverTcp(new SimulatedMultical402(), {}, '127.0.0.1', port);
    try {
      assert.equal((await client.readRegisters([60])).readings.size, 1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

const serial = linkKinds.find((k) => k.name.startsWith('serialport'));
describe('serial head', { skip: serial?.unavailable ?? false }, () => {
  it('reopens the device after it was closed', async () => {
    assert.ok(serial);
    const setup = await serial.setup({});
    const client = new MeterClient(setup.link, fast);
    try {
      assert.equal((await client.readRegisters([60])).readings.size, 1);
      await setup.link.close();
      assert.equal(setup.link.isOpen, false);
      assert.equal((await client.readRegisters([1004])).readings.size, 1);
    } finally {
      await setup.close();
    }
  });

  it('names the cause and the fix for a device that does not exist', async () => {
    const { SerialLink } = await import('../../src/links/serial-link.js');
    const client = new MeterClient(new SerialLink({ path: '/dev/ttyKamstrupMissing0' }), fast);
    await assert.rejects(client.readRegisters([60]), (error: unknown) => {
      assert.ok(error instanceof MeterError);
      assert.ok(error.cause instanceof LinkError);
      assert.equal(error.cause.code, 'device-not-found');
      assert.match(error.message, /no serial device \/dev\/ttyKamstrupMissing0: is the optical head plugged in\?/);
      return true;
    });
    assert.equal(client.statistics.attempts, 0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
