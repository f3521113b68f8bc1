// The meter client's timing and bookkeeping, against the in-process simulator.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KmpRequest } from '../../src/kmp/index.js';
import type { LinkReceiver, MeterLink } from '../../src/links/link.js';
import { MeterClient, wireTimeMs } from '../../src/meter/client.js';
import { MeterError } from '../../src/meter/errors.js';
import type { LineOptions, SimulatedMeter } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { SimulatedLink } from '../../src/simulator/simulated-link.js';
import { ManualClock } from './manual-clock.js';

/** A link that notes when each request went out, and when the client closed it. */
class RecordingLink implements MeterLink {
  readonly writes: number[] = [];
  readonly closes: number[] = [];
  private readonly inner: MeterLink;
  private readonly now: () => number;
  constructor(inner: MeterLink, now: () => number = () => performance.now()) {
    this.inner = inner;
    this.now = now;
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
    this.writes.push(this.now());
    return this.inner.write(bytes);
  }
  close() {
    this.closes.push(this.now());
    return this.inner.close();
  }
}

function simulated(line: LineOptions, meter: SimulatedMeter = new SimulatedMultical402(), now?: () => number): RecordingLink {
  return new RecordingLink(new SimulatedLink(meter, line, 'simulated multical-402'), now);
}

/** A meter that stays silent for its first `silent` requests, then answers. */
function silentAtFirst(silent: number): SimulatedMeter {
  const real = new SimulatedMultical402();
  let requests = 0;
  return { answer: (request) => (++requests <= silent ? null : real.answer(request)) };
}

describe('meter client', () => {
  it('with the default options, keeps 1.6 s of quiet after a silent attempt, before each retry and before the next request', async () => {
    // Kamstrup doc 5512-447 §2.1: the first answer byte within 1.6 s; after a timeout ≥ 1.6 s of quiet.
    const meterTimeoutMs = 1600;
    const meterQuietMs = 1600;
    const clock = new ManualClock();
    const link = simulated({}, silentAtFirst(3), () => clock.now());
    const client = new MeterClient(link, { clock });
    await assert.rejects(clock.runUntilSettled(client.readRegisters([60])), { code: 'no-answer', message: /after 3 attempts/ });
    assert.equal((await clock.runUntilSettled(client.readRegisters([60]))).readings.size, 1);

    const { writes, closes } = link;
    assert.equal(writes.length, 4, 'three attempts, then the next request');
    assert.equal(closes.length, 3, 'each silent attempt ends by dropping the line');
    const requestOnLine = wireTimeMs(9, 1200);
    for (let i = 0; i < 3; i++) {
      const [sent, gaveUp, next] = [writes[i] as number, closes[i] as number, writes[i + 1] as number];
      assert.equal(gaveUp - sent, requestOnLine + meterTimeoutMs, `attempt ${i + 1} waits 1.6 s for the first byte after the request is on the line`);
      assert.equal(next - gaveUp, meterQuietMs, `quiet after attempt ${i + 1}, before ${i < 2 ? 'the retry' : 'the next request'}`);
    }
  });

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
