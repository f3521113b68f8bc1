// A line that never stops sending cannot hold a read, and close() ends a read at once: real
// TCP bridges on 127.0.0.1 that send noise forever, a start byte and filler, or nothing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KmpRequest } from '../../src/kmp/index.js';
import { TcpLink } from '../../src/links/tcp-link.js';
import { MeterClient } from '../../src/meter/client.js';
import { MeterError } from '../../src/meter/errors.js';
import type { SimulatedMeter } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { serveSimulatorOverTcp } from '../../src/simulator/tcp-server.js';
import { serveHostileBridge, type BridgeStream } from '../support/simulators.js';
import { ManualClock, failIfStillPending, waitUntil } from './manual-clock.js';

/** Far above the ~3.5 s two attempts take with these options: only a hang reaches it. */
const HANG_GUARD_MS = 20_000;
/** A short between-bytes timeout and a fast line keep each attempt's deadline near 1.7 s. */
const short = { responseTimeoutMs: 200, retries: 1, retryPauseMs: 10, baudRate: 115_200 } as const;

describe('a bridge that never stops sending', { concurrency: true }, () => {
  const streams: readonly [string, BridgeStream][] = [
    ['random bytes, fast', { bytes: 'random', chunkBytes: 64, everyMs: 1 }],
    ['0x40 then filler, fast', { bytes: 'start-then-filler', chunkBytes: 64, everyMs: 1 }],
    ['0x40 then filler, trickled a byte at a time within the between-bytes timeout', { bytes: 'start-then-filler', chunkBytes: 1, everyMs: 40 }],
    ['random bytes, trickled a byte at a time', { bytes: 'random', chunkBytes: 1, everyMs: 40 }],
  ];
  for (const [name, stream] of streams) {
    it(`${name}: each attempt ends at its deadline and the read fails naming what the line did`, async () => {
      const bridge = await serveHostileBridge(stream);
      const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: bridge.port }), short);
      try {
        const read = client.readRegisters([60, 80]);
        await assert.rejects(failIfStillPending(read, HANG_GUARD_MS, 'the read'), (error: unknown) => {
          assert.ok(error instanceof MeterError);
          assert.equal(error.code, 'line-noise');
          assert.match(error.message, /^the line to the meter on tcp 127\.0\.0\.1:\d+ kept sending bytes that were no KMP answer \(\d+ bytes in \d+ ms/);
          assert.match(error.message, /after 2 attempts: check that the bridge talks to the head at 1200 baud 8N2/);
          return true;
        });
        assert.equal(bridge.requests, 2, 'one request per attempt, then no more');
        assert.ok(bridge.bytesSent > 0);
      } finally {
        await bridge.close();
        await client.close();
      }
    });
  }

  it('a frame longer than any valid answer, then silence: the read fails as line noise, not silence', async () => {
    const bridge = await serveHostileBridge({ bytes: 'start-then-filler', chunkBytes: 64, everyMs: 1, totalBytes: 300 });
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: bridge.port }), { ...short, retries: 0 });
    try {
      await assert.rejects(failIfStillPending(client.readRegisters([60]), HANG_GUARD_MS, 'the read'), {
        name: 'MeterError',
        code: 'line-noise',
        message: /kept sending bytes that were no KMP answer \(300 bytes in \d+ ms on the last attempt\) after 1 attempt:/,
      });
    } finally {
      await bridge.close();
      await client.close();
    }
  });

  it('gives an attempt time for the longest valid answer at the line speed', () => {
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: 1 }), { responseTimeoutMs: 1600 });
    // 9 request bytes and 218 answer bytes at 1200 baud 8N2 (11 bits a byte), after 1.6 s.
    assert.ok(client.attemptDeadlineMs(9) >= ((9 + 218) * 11 * 1000) / 1200 + 1600);
  });
});

describe('close() during a read', { concurrency: true }, () => {
  // The client's clock never moves: whatever close() does, it does without a timer firing.
  async function closeDuring(stream: BridgeStream, ready: (client: MeterClient) => boolean): Promise<void> {
    const bridge = await serveHostileBridge(stream);
    const clock = new ManualClock();
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: bridge.port }), { clock });
    try {
      const read = client.readRegisters([60, 80]);
      read.catch(() => undefined);
      await waitUntil(() => bridge.requests === 1 && ready(client), 'the attempt under way');
      await failIfStillPending(client.close(), HANG_GUARD_MS, 'close()');
      await assert.rejects(failIfStillPending(read, HANG_GUARD_MS, 'the read'), (error: unknown) => {
        assert.ok(error instanceof MeterError);
        assert.equal(error.code, 'closed');
        assert.match(error.message, /was stopped: the client was closed/);
        assert.equal(error.partial?.readings.size, 0);
        assert.deepEqual(error.partial?.unread, [60, 80]);
        return true;
      });
      assert.equal(clock.pendingTimers, 0, 'no timer of the exchange is left');
      assert.equal(client.link.isOpen, false);
      await waitUntil(() => bridge.openConnections === 0, 'the bridge sees the connection closed');
      assert.equal(bridge.requests, 1, 'no further attempt');
      assert.equal(client.statistics.attempts, 1);
    } finally {
      await bridge.close();
    }
  }

  it('aborts a silent attempt at once', () => closeDuring({ bytes: 'silence' }, () => true));

  it('aborts a trickling attempt at once', () =>
    closeDuring({ bytes: 'start-then-filler', chunkBytes: 1, everyMs: 20 }, (client) => client.statistics.bytesReceived >= 3));

  it('aborts the quiet time before a retry', async () => {
    const bridge = await serveHostileBridge({ bytes: 'silence' });
    const clock = new ManualClock();
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: bridge.port }), { clock });
    try {
      const read = client.readRegisters([60]);
      read.catch(() => undefined);
      await waitUntil(() => bridge.requests === 1, 'the first request sent');
      // The attempt's silence timer fires; the client then waits its quiet time before a retry.
      assert.ok(clock.fireNext());
      await waitUntil(() => !client.link.isOpen, 'the silent connection dropped');
      await failIfStillPending(client.close(), HANG_GUARD_MS, 'close()');
      await assert.rejects(read, { name: 'MeterError', code: 'closed' });
      assert.equal(clock.pendingTimers, 0);
      assert.equal(bridge.requests, 1, 'no retry after close()');
    } finally {
      await bridge.close();
    }
  });

  it('between the batches of a 16-register read, handing back what batch 1 read', async () => {
    const real = new SimulatedMultical402();
    let requests = 0;
    // Answers the first batch, stays silent on the second.
    const meter: SimulatedMeter = { answer: (request: KmpRequest) => (++requests === 1 ? real.answer(request) : null) };
    const server = await serveSimulatorOverTcp(meter, {}, '127.0.0.1', 0);
    const clock = new ManualClock();
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: server.port }), { clock });
    const ids = [60, 63, 68, 74, 80, 86, 87, 89, 97, 99, 110, 113, 1001, 1002, 1003, 1004];
    try {
      const read = client.readRegisters(ids);
      read.catch(() => undefined);
      await waitUntil(() => server.requests === 2, 'the second batch requested');
      await failIfStillPending(client.close(), HANG_GUARD_MS, 'close()');
      await assert.rejects(read, (error: unknown) => {
        assert.ok(error instanceof MeterError);
        assert.equal(error.code, 'closed');
        assert.deepEqual([...(error.partial?.readings.keys() ?? [])].sort((a, b) => a - b), ids.slice(0, 8));
        assert.deepEqual(error.partial?.missing, []);
        assert.deepEqual(error.partial?.unread, ids.slice(8));
        return true;
      });
      assert.equal(clock.pendingTimers, 0);
      assert.equal(server.requests, 2);
    } finally {
      await server.close();
    }
  });

  it('refuses queued exchanges at once', async () => {
    const bridge = await serveHostileBridge({ bytes: 'silence' });
    const client = new MeterClient(new TcpLink({ host: '127.0.0.1', port: bridge.port }), { clock: new ManualClock() });
    try {
      const first = client.getSerialNo();
      const queued = client.readRegisters([60]);
      first.catch(() => undefined);
      queued.catch(() => undefined);
      await waitUntil(() => bridge.requests === 1, 'the first request sent');
      await failIfStillPending(client.close(), HANG_GUARD_MS, 'close()');
      await assert.rejects(first, { code: 'closed' });
      await assert.rejects(queued, { code: 'closed' });
      assert.equal(bridge.requests, 1);
    } finally {
      await bridge.close();
    }
  });
});
