// The delivery loop against a real store and a scripted sink: what is confirmed leaves the
// outbox, what fails stays, refused points are isolated and parked, and failures back off.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Delivery } from '../../src/delivery/delivery.js';
import { SinkError, retryAfterMs, type Sink } from '../../src/delivery/sink.js';
import { createLogger } from '../../src/log/logger.js';
import { influxLines } from '../../src/sinks/influxdb/point.js';
import { rangesOf, type EveryReadingRenderer } from '../../src/store/index.js';
import { jobRun, liveReadings, tempStore } from '../store/helpers.js';

const silent = createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) });

/** A sink whose write answers come from a script; it records what it was sent. */
function scriptedSink(answer: (lines: readonly string[]) => SinkError | null, batchSize = 100): Sink & { writes: string[][] } {
  const writes: string[][] = [];
  return {
    name: 'influxdb',
    description: 'test sink',
    batchSize,
    writes,
    format: influxLines.format,
    render: (run) => influxLines.render(run),
    write: (texts) => {
      // Stored lines of consecutive runs come as one text: recorded line by line.
      const lines = texts.flatMap((text) => text.split('\n'));
      writes.push(lines);
      const error = answer(lines);
      return error ? Promise.reject(error) : Promise.resolve();
    },
    check: () => Promise.resolve(null),
    close: () => Promise.resolve(),
  };
}

/** The runs' own lines: these tests count points per run (consumption lines: test/consumption/; health lines: test/sinks/influxdb-health.test.ts). */
const runLinesOnly: EveryReadingRenderer = {
  format: influxLines.format,
  render: (run) => influxLines.render({ meter: run.meter, model: run.model, serial: run.serial, job: run.job, readAt: run.readAt, readings: run.readings }),
};

/**
 * A store with `runs` live runs queued for influxdb; `rendered`: with their lines stored as the
 * daemon records them, else rendered by the delivery (runs queued again by backfill).
 */
function filled(runs: number, rendered = true): ReturnType<typeof tempStore> {
  const temp = tempStore(rendered ? { sinks: ['influxdb'], renderers: { influxdb: runLinesOnly } } : {});
  for (let i = 0; i < runs; i++) temp.store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + i * 300_000), readings: liveReadings(i) }));
  return temp;
}

describe('delivery from the outbox', () => {
  for (const rendered of [true, false]) {
    it(`sends one point per run, oldest first, and removes what the server confirmed (lines ${rendered ? 'stored' : 'rendered at delivery'})`, async () => {
      const temp = filled(5, rendered);
      try {
        const sink = scriptedSink(() => null, 3);
        const delivery = new Delivery({ sink, store: temp.store, logger: silent });
        const first = await delivery.deliverBatch();
        assert.equal(sink.writes[0]?.length, 3);
        assert.ok(sink.writes[0]?.[0]?.endsWith(String(Date.UTC(2026, 0, 1))), 'oldest run first, ms timestamp');
        assert.equal(first.delivered, 3 * liveReadings().length);
        await delivery.deliverBatch();
        assert.equal((await delivery.deliverBatch()).delivered, 0);
        assert.equal(temp.store.status().sinks[0]?.pending, 0);
        const expected = Array.from({ length: 5 }, (_, i) => influxLines.render({ ...jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + i * 300_000), readings: liveReadings(i) }), serial: 70000402 }));
        assert.deepEqual(sink.writes.flat(), expected, 'the same lines either way');
      } finally {
        temp.cleanup();
      }
    });
  }

  it('sends stored lines and runs queued again without one in reading order, across pages', async () => {
    const temp = filled(700);
    try {
      // Backfill queues the first 300 runs again, after they were delivered: no lines stored for them.
      const sink = scriptedSink(() => null, 10_000);
      const all = await new Delivery({ sink, store: temp.store, logger: silent }).deliverBatch();
      assert.equal(all.delivered, 700 * liveReadings().length);
      assert.equal(temp.store.requeue('influxdb', { to: new Date(Date.UTC(2026, 0, 1) + 300 * 300_000) }), 300 * liveReadings().length);
      for (let i = 700; i < 1400; i++) temp.store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + i * 300_000), readings: liveReadings(i) }));
      const again = scriptedSink(() => null, 777);
      const delivery = new Delivery({ sink: again, store: temp.store, logger: silent });
      // 1000 runs in batches of 777: two batches, then nothing; a delivery that never runs dry fails here.
      for (let batch = 0; (await delivery.deliverBatch()).delivered > 0; batch++) assert.ok(batch < 10, 'the backlog ran dry');
      const times = again.writes.flat().map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
      const expected = [...Array.from({ length: 300 }, (_, i) => i), ...Array.from({ length: 700 }, (_, i) => 700 + i)].map((i) => Date.UTC(2026, 0, 1) + i * 300_000);
      assert.deepEqual(times, expected);
      assert.deepEqual(again.writes.map((w) => w.length), [777, 223]);
      assert.deepEqual(again.writes.flat().slice(0, 300), sink.writes.flat().slice(0, 300), 'rendered from the readings: the lines stored for them before');
    } finally {
      temp.cleanup();
    }
  });

  it('marks a batch of any size delivered, in order or not', () => {
    const temp = filled(17_000);
    try {
      const ids: number[] = [];
      for (let page = temp.store.pendingDeliveries('influxdb', { limit: 10_000 }); page.length > 0; page = temp.store.pendingDeliveries('influxdb', { afterReadingId: page[page.length - 1]?.readingId ?? 0, limit: 10_000 })) {
        ids.push(...page.map((p) => p.readingId));
      }
      assert.ok(ids.length > 150_000);
      const shuffled = [...ids.slice(0, 1000)].reverse();
      assert.equal(temp.store.markDelivered('influxdb', rangesOf(shuffled)), 1000, 'out of order');
      assert.equal(temp.store.markDelivered('influxdb', rangesOf(ids.slice(1000))), ids.length - 1000, 'in order');
      assert.equal(temp.store.status().sinks[0]?.pending, 0);
    } finally {
      temp.cleanup();
    }
  });

  it('keeps everything in the outbox while the server is unavailable', async () => {
    const temp = filled(3);
    try {
      const sink = scriptedSink(() => new SinkError('unavailable', 'down'));
      const delivery = new Delivery({ sink, store: temp.store, logger: silent });
      await assert.rejects(delivery.deliverBatch(), { name: 'SinkError', kind: 'unavailable' });
      assert.equal(temp.store.status().sinks[0]?.pending, 3 * liveReadings().length);
    } finally {
      temp.cleanup();
    }
  });

  for (const rendered of [true, false]) {
    it(`finds a refused point by splitting the batch, parks it as rejected, and delivers the rest (lines ${rendered ? 'stored' : 'rendered at delivery'})`, async () => {
      const temp = filled(7, rendered);
      try {
        const bad = String(Date.UTC(2026, 0, 1) + 4 * 300_000);
        const sink = scriptedSink((lines) => (lines.some((l) => l.endsWith(bad)) ? new SinkError('rejected', 'field type conflict', { status: 400 }) : null));
        const result = await new Delivery({ sink, store: temp.store, logger: silent }).deliverBatch();
        const perRun = liveReadings().length;
        assert.deepEqual(result, { delivered: 6 * perRun, rejected: perRun });
        const status = temp.store.status().sinks[0];
        assert.equal(status?.pending, 0);
        assert.equal(status?.rejected, perRun);
        assert.ok(sink.writes.length <= 1 + 2 * Math.ceil(Math.log2(7)), `bisected in few writes (${sink.writes.length})`);
      } finally {
        temp.cleanup();
      }
    });
  }

  /**
   * Runs the loop against a scripted sink (one answer per write, then success) with the waits it
   * chooses recorded instead of taken; returns them in order. `steps` bounds the loop: a loop that
   * never settles fails the test instead of hanging it.
   */
  async function waitsChosen(answers: readonly (SinkError | null)[], options: { random?: () => number; pauseMs?: number; backoffMaxMs?: number } = {}): Promise<{ waits: number[]; writes: number }> {
    // A run per write (batch size 1), so a success mid-script leaves more to send.
    const temp = filled(answers.length + 1);
    const stop = new AbortController();
    const waits: number[] = [];
    let call = 0;
    const sink = scriptedSink(() => {
      const answer = answers[call++];
      if (answer === undefined) stop.abort(); // script done: this write succeeds, the loop stops
      return answer ?? null;
    }, 1);
    try {
      const delivery = new Delivery({
        sink,
        store: temp.store,
        logger: silent,
        pollMs: 1,
        backoffMinMs: 1000,
        backoffMaxMs: options.backoffMaxMs ?? 300_000,
        pauseMs: options.pauseMs ?? 60_000,
        random: options.random ?? (() => 0.5),
        sleep: (ms) => {
          waits.push(ms);
          if (waits.length > answers.length + 10) stop.abort();
          return Promise.resolve();
        },
      });
      await delivery.run(stop.signal);
      assert.ok(waits.length <= answers.length + 10, `the loop settled (it waited ${waits.length} times for ${answers.length} failures)`);
      return { waits: waits.filter((ms) => ms !== 1), writes: sink.writes.length };
    } finally {
      temp.cleanup();
    }
  }

  const down = (): SinkError => new SinkError('unavailable', 'down');

  it('backs off from 1 s, doubling up to the maximum, and starts again from 1 s after a success', async () => {
    const growth = await waitsChosen(Array.from({ length: 12 }, down), { backoffMaxMs: 300_000 });
    assert.deepEqual(growth.waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
    assert.equal(growth.writes, 13, 'twelve failures, then the write that succeeds');
    const reset = await waitsChosen([down(), down(), down(), null, down(), down()]);
    assert.deepEqual(reset.waits, [1000, 2000, 4000, 1000, 2000]);
  });

  it('jitters each backoff between half and one and a half of it', async () => {
    const randoms = [0, 0.999, 0.25, 0.75];
    let next = 0;
    const { waits } = await waitsChosen([down(), down(), down(), down()], { random: () => randoms[next++ % randoms.length] ?? 0.5 });
    assert.deepEqual(waits, [500, 2998, 3000, 10_000], 'base 1000, 2000, 4000, 8000 times 0.5, 1.499, 0.75, 1.25');
  });

  it('waits what Retry-After asks instead of its own backoff, and the backoff goes on growing under it', async () => {
    const busy = new SinkError('unavailable', 'busy', { status: 429, retryAfterMs: 7000 });
    const { waits } = await waitsChosen([down(), busy, down(), new SinkError('unavailable', 'busy', { status: 503, retryAfterMs: 0 })]);
    assert.deepEqual(waits, [1000, 7000, 4000, 0]);
    assert.deepEqual([retryAfterMs('7'), retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', Date.UTC(2026, 0, 1))], [7000, 10_000], 'Retry-After in seconds, or as a date');
  });

  it('pauses on refused credentials, an unknown target or a url that leads elsewhere: the pause interval every time, no backoff growth', async () => {
    const refusals = [
      new SinkError('auth', 'bad token', { status: 401 }),
      new SinkError('auth', 'bad token', { status: 401 }),
      new SinkError('not-found', 'no bucket', { status: 404 }),
      new SinkError('wrong-url', 'a login page', { status: 200 }),
      new SinkError('wrong-url', 'redirects', { status: 307 }),
      new SinkError('auth', 'bad token', { status: 403 }),
    ];
    const { waits, writes } = await waitsChosen(refusals, { pauseMs: 45_000 });
    assert.deepEqual(waits, [45_000, 45_000, 45_000, 45_000, 45_000, 45_000]);
    assert.equal(writes, 7);
  });
});
