// The delivery loop draining a newest-per-key sink through the same code as an every-reading
// one: after an outage each key gets one update, the newest; a refused key is held and reported
// once while the others go on; a key confirmed long ago is sent again; held keys are reported once.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Delivery } from '../../src/delivery/delivery.js';
import { SinkError, type NewestValueSink } from '../../src/delivery/sink.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import type { KeyedPayload, PayloadRun } from '../../src/store/index.js';
import { Store } from '../../src/store/index.js';
import { jobRun, liveReadings, readingOf, tempDir } from '../store/helpers.js';
import { join } from 'node:path';

const T0 = Date.UTC(2026, 0, 12, 10, 0, 0);

/** Log lines as objects. */
function capture(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', pretty: false, destination }), lines };
}

/**
 * A newest-per-key sink with one key per register in `ids` (payload `<id>=<value>`), held when
 * the value is below the one last sent; its writes are answered by `answer`.
 */
function tiles(ids: readonly number[], answer: (payload: string) => SinkError | null, refreshMs: number | null = null): NewestValueSink & { sent: string[] } {
  const sent: string[] = [];
  return {
    name: 'tiles',
    description: 'test tiles',
    delivery: 'newest-per-key',
    format: 'test-tiles/1',
    keys: ids.map((id) => `r${id}`),
    batchSize: 1,
    refreshMs,
    sent,
    renderEntries(run: PayloadRun, last: (key: string) => string | null): KeyedPayload[] {
      return run.readings
        .filter((reading) => ids.includes(reading.registerId))
        .map((reading) => {
          const key = `r${reading.registerId}`;
          const payload = `${reading.registerId}=${reading.value}`;
          const previous = last(key);
          const backwards = previous !== null && Number(reading.value) < Number(previous.split('=')[1]);
          return { key, payload, held: backwards ? `${key} went backwards` : null };
        });
    },
    write(texts) {
      assert.equal(texts.length, 1, 'one payload per write');
      const [payload] = texts as [string];
      const error = answer(payload);
      if (error) return Promise.reject(error);
      sent.push(payload);
      return Promise.resolve();
    },
    check: () => Promise.resolve(null),
    close: () => Promise.resolve(),
  };
}

describe('delivering to a newest-per-key sink', () => {
  let temp: ReturnType<typeof tempDir>;
  let now: number;
  let store: Store;
  const open = (sink: NewestValueSink): void => {
    store = Store.open(join(temp.dir, 'kamstrup.sqlite'), { sinks: [sink.name], renderers: { [sink.name]: sink }, now: () => new Date(now) });
  };
  const run = (step: number): void => {
    store.recordJobRun(jobRun({ readAt: new Date(T0 + step * 300_000), readings: liveReadings(step) }));
  };
  /** Batches until one sends nothing. */
  const drain = async (delivery: Delivery): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const { delivered, rejected } = await delivery.deliverBatch();
      if (delivered + rejected === 0) return;
    }
    assert.fail('the outbox did not drain in 100 batches');
  };

  beforeEach(() => {
    temp = tempDir();
    now = T0;
  });
  afterEach(() => {
    store.close();
    temp.remove();
  });

  it('sends each key once, its newest value, after the target was down for several runs', async () => {
    let down = true;
    const sink = tiles([80, 86], () => (down ? new SinkError('unavailable', 'connection refused') : null));
    open(sink);
    const delivery = new Delivery({ sink, store, logger: capture().logger });
    for (let step = 0; step < 5; step++) {
      run(step);
      await assert.rejects(delivery.deliverBatch(), (error: unknown) => error instanceof SinkError && error.kind === 'unavailable');
    }
    down = false;
    await drain(delivery);
    assert.deepEqual(sink.sent, ['80=3.9', '86=72.64']);
    assert.deepEqual(
      store.status().sinks[0]?.entries.map((e) => [e.key, e.state, e.superseded, e.sent?.readAt.getTime()]),
      [
        ['r80', 'sent', 4, T0 + 4 * 300_000],
        ['r86', 'sent', 4, T0 + 4 * 300_000],
      ],
    );
  });

  it('holds a key its target refuses, says so once, and goes on with the others', async () => {
    const sink = tiles([80, 86], (payload) => (payload.startsWith('80=') ? new SinkError('rejected', 'Domoticz has no device idx 80') : null));
    open(sink);
    const { logger, lines } = capture();
    const delivery = new Delivery({ sink, store, logger });
    run(0);
    await drain(delivery);
    run(1);
    await drain(delivery);
    run(2);
    await drain(delivery);
    assert.deepEqual(sink.sent, ['86=72.64', '86=72.64', '86=72.64']);
    const reports = lines.filter((line) => String(line.msg).includes('no device idx 80'));
    assert.equal(reports.length, 1, 'reported once, not once per run');
    assert.equal(reports[0]?.level, 'error');
    assert.match(String(reports[0]?.msg), /not sent again until its configuration changes/);
    assert.deepEqual(store.heldEntries('tiles'), [{ key: 'r80', state: 'refused', reason: 'Domoticz has no device idx 80' }]);
  });

  it('sends a key again once its last value is older than the refresh, and no sooner', async () => {
    const sink = tiles([80], () => null, 55 * 60_000);
    open(sink);
    run(0);
    const controller = new AbortController();
    let waited = 0;
    const delivery = new Delivery({
      sink,
      store,
      logger: capture().logger,
      pollMs: 60_000,
      // Each poll is a minute of the store's clock.
      sleep: (ms) => {
        now += ms;
        waited += ms;
        if (sink.sent.length >= 3 || waited > 4 * 3_600_000) controller.abort();
        return Promise.resolve();
      },
    });
    await delivery.run(controller.signal);
    assert.deepEqual(sink.sent, ['80=3.5', '80=3.5', '80=3.5']);
    const sentAt = store.status().sinks[0]?.entries[0]?.sent?.at.getTime() ?? 0;
    // Sent at the start, then at the first poll more than 55 minutes later, twice.
    assert.equal(sentAt - T0, 2 * 56 * 60_000);
  });

  it('looks at once when woken as a run commits, instead of at its next poll an hour later', async () => {
    const sink = tiles([80], () => null);
    open(sink);
    const controller = new AbortController();
    const delivery = new Delivery({ sink, store, logger: capture().logger, pollMs: 3_600_000 });
    const running = delivery.run(controller.signal);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)); // idle now, waiting for its poll
      run(0);
      delivery.wake();
      for (let i = 0; i < 500 && sink.sent.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(sink.sent, ['80=3.5']);
    } finally {
      controller.abort();
      await running;
    }
  });

  it('reports a held key once per episode, as a warning', async () => {
    const sink = tiles([60], () => null);
    open(sink);
    const { logger, lines } = capture();
    const energy = (value: string, step: number): void => {
      store.recordJobRun(jobRun({ readAt: new Date(T0 + step * 300_000), readings: [readingOf(60, 0x02, value)] }));
    };
    const controller = new AbortController();
    let polls = 0;
    const script = [() => energy('5000', 0), () => energy('12', 1), () => energy('13', 2), () => energy('5001', 3), () => energy('11', 4)];
    const delivery = new Delivery({
      sink,
      store,
      logger,
      sleep: () => {
        const next = script[polls++];
        if (next) next();
        else controller.abort();
        return Promise.resolve();
      },
    });
    await delivery.run(controller.signal);
    assert.deepEqual(sink.sent, ['60=5000', '60=5001']);
    const warnings = lines.filter((line) => String(line.msg).includes('went backwards'));
    assert.deepEqual(
      warnings.map((line) => line.level),
      ['warn', 'warn'],
      'once for the first episode (12, 13), once for the second (11)',
    );
  });
});
