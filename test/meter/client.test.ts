// The meter client's timing and bookkeeping, against the in-process simulator.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KmpRequest } from '../../src/kmp/index.js';
import type { LinkReceiver, MeterLink } from '../../src/links/link.js';
import { MeterClient } from '../../src/meter/client.js';
import { MeterError } from '../../src/meter/errors.js';
import type { LineOptions, SimulatedMeter } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { SimulatedLink } from '../../src/simulator/simulated-link.js';

/** A link that notes when each request went out. */
class RecordingLink implements MeterLink {
  readonly writes: number[] = [];
  private readonly inner: MeterLink;
  constructor(inner: MeterLink) {
    this.inner = inner;
  }
  get kind() {
    return this.inner.kind;
  }
  get description() {
    return this.inner.description;
  }
  get isOpen() {
    return this.inner.isOpen;
  }
  get writeWaitsForLine() {
    return this.inner.writeWaitsForLine;
  }
  open(receiver: LinkReceiver) {
    return this.inner.open(receiver);
  }
  write(bytes: Uint8Array) {
    this.writes.push(performance.now());
    return this.inner.write(bytes);
  }
  close() {
    return this.inner.close();
  }
}

function simulated(line: LineOptions, meter: SimulatedMeter = new SimulatedMultical402()): RecordingLink {
  return new RecordingLink(new SimulatedLink(meter, line, 'simulated multical-402'));
}

describe('meter client', () => {
  it('keeps the line quiet after a failed exchange before the next request goes out', async () => {
    // The first request goes unanswered; the meter wants quiet before it is asked again.
    const link = simulated({ faults: ['no-answer'], faultEvery: 2 });
    const client = new MeterClient(link, { responseTimeoutMs: 100, retries: 0, retryPauseMs: 500 });
    await assert.rejects(client.readRegisters([60, 80]), { code: 'no-answer' });
    assert.deepEqual([...(await client.readRegisters([86, 87])).readings.keys()].sort(), [86, 87]);
    const [failed, next] = link.writes;
    assert.ok(failed !== undefined && next !== undefined);
    assert.ok(next - failed >= 100 + 500 - 5, `the next request waited out the quiet period (${Math.round(next - failed)} ms after the failed one)`);
  });

  it('ignores an answer holding registers it did not ask for', async () => {
    const late = new SimulatedMultical402();
    // A meter that answers every GetRegister with register 60, whatever was asked.
    const confused: SimulatedMeter = {
      answer: (request: KmpRequest) => late.answer(request.command === 'get-register' ? { command: 'get-register', registerIds: [60] } : request),
    };
    const client = new MeterClient(simulated({}, confused), { responseTimeoutMs: 100, retries: 0, retryPauseMs: 10 });
    await assert.rejects(client.readRegisters([80]), (error: unknown) => {
      assert.ok(error instanceof MeterError);
      assert.equal(error.code, 'corrupt-answer');
      assert.match(error.message, /register 60, which was not asked for/);
      return true;
    });
    assert.deepEqual([...(await client.readRegisters([60])).readings.keys()], [60]);
  });

  it('hands back what earlier requests read when a later one fails', async () => {
    const real = new SimulatedMultical402();
    const failsOnHours: SimulatedMeter = {
      answer: (request) => (request.command === 'get-register' && request.registerIds.includes(1004) ? null : real.answer(request)),
    };
    const client = new MeterClient(simulated({}, failsOnHours), { responseTimeoutMs: 100, retries: 1, retryPauseMs: 10 });
    const ids = [60, 63, 68, 74, 80, 86, 87, 89, 1004, 99];
    await assert.rejects(client.readRegisters([...ids, 9999]), (error: unknown) => {
      assert.ok(error instanceof MeterError);
      assert.equal(error.code, 'no-answer');
      assert.deepEqual([...(error.partial?.readings.keys() ?? [])], ids.slice(0, 8));
      assert.deepEqual(error.partial?.missing, []);
      assert.deepEqual(error.partial?.unread, [1004, 99, 9999]);
      return true;
    });
  });

  it('reads through a false frame in the noise without another attempt', async () => {
    const client = new MeterClient(simulated({ faults: ['garbage'], echo: true }), { responseTimeoutMs: 300, retryPauseMs: 10 });
    for (let i = 0; i < 8; i++) assert.equal((await client.readRegisters([60])).readings.size, 1);
    assert.equal(client.statistics.attempts, 8);
  });

  it('refuses new exchanges once closed', async () => {
    const client = new MeterClient(simulated({}));
    await client.readRegisters([60]);
    await client.close();
    await assert.rejects(client.getSerialNo(), { name: 'MeterError', code: 'closed' });
  });
});
