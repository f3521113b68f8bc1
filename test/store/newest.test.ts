// The outbox of a newest-per-key sink: per key only the newest value waits, older ones are
// superseded (counted, never handed out), a refused key stays refused until it changes, a
// held value waits for one that can be sent, confirmed keys are queued again when stale.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Store, type KeyedPayload, type NewestValueRenderer, type PayloadRun, type PendingPayloads } from '../../src/store/index.js';
import { assertStoreError, count, jobRun, liveReadings, readingOf, tempDir } from './helpers.js';
import { join } from 'node:path';

/** One key per register it is given: `r<id>`, the payload `<id>=<value>`; `hold` decides which values are held. */
function perRegister(ids: readonly number[], hold: (payload: string, sent: string | null) => string | null = () => null, format = 'test-newest/1'): NewestValueRenderer & { calls: number } {
  const renderer = {
    delivery: 'newest-per-key' as const,
    format,
    keys: ids.map((id) => `r${id}`),
    calls: 0,
    renderEntries(run: PayloadRun, sent: (key: string) => string | null): KeyedPayload[] {
      renderer.calls++;
      return run.readings
        .filter((reading) => ids.includes(reading.registerId))
        .map((reading) => {
          const key = `r${reading.registerId}`;
          const payload = `${reading.registerId}=${reading.value}`;
          return { key, payload, held: hold(payload, sent(key)) };
        });
    },
  };
  return renderer;
}

const T0 = Date.UTC(2026, 0, 12, 10, 0, 0);
const POWER = 80;
const T1 = 86;

describe('a newest-per-key outbox', () => {
  let temp: ReturnType<typeof tempDir>;
  let path: string;
  let now: number;
  const clock = (): Date => new Date(now);
  const open = (renderer: NewestValueRenderer, extra: Partial<Parameters<typeof Store.open>[1]> = {}): Store =>
    Store.open(path, { sinks: ['tiles'], renderers: { tiles: renderer }, now: clock, ...extra });
  const run = (store: Store, step: number): void => {
    store.recordJobRun(jobRun({ readAt: new Date(T0 + step * 300_000), readings: liveReadings(step) }));
  };
  const waiting = (store: Store): PendingPayloads[] => store.pendingRuns('tiles', { limit: 100 }) as PendingPayloads[];

  beforeEach(() => {
    temp = tempDir();
    path = join(temp.dir, 'kamstrup.sqlite');
    now = T0;
  });
  afterEach(() => temp.remove());

  it('hands out one value per key, the newest, after several runs; the older ones count as superseded', () => {
    const store = open(perRegister([POWER, T1]));
    try {
      for (let step = 0; step < 4; step++) run(store, step);
      const items = waiting(store);
      assert.deepEqual(
        items.map((item) => item.payload),
        ['80=3.8', '86=72.64'],
      );
      assert.ok(items.every((item) => item.runs === 1 && item.firstReadingId === item.lastReadingId));
      const [sink] = store.status().sinks;
      assert.deepEqual([sink?.delivery, sink?.pending, sink?.oldestPendingReadAt?.getTime()], ['newest-per-key', 2, T0 + 3 * 300_000]);
      assert.deepEqual(sink?.entries.map((e) => [e.key, e.state, e.superseded, e.sent]), [
        ['r80', 'pending', 3, null],
        ['r86', 'pending', 3, null],
      ]);
      assert.equal(count(path, 'outbox_ranges'), 0, 'no reading is owed: the payloads are the values');
    } finally {
      store.close();
    }
  });

  it('pages by seq like reading ids, and what the sink confirmed is sent, not waiting, and not superseded by the next run', () => {
    const store = open(perRegister([POWER, T1]));
    try {
      run(store, 0);
      const [first, second] = waiting(store);
      assert.ok(first && second);
      assert.deepEqual(store.pendingRuns('tiles', { afterReadingId: first.lastReadingId, limit: 100 }).map((i) => (i as PendingPayloads).payload), [second.payload]);
      now = T0 + 2000;
      assert.equal(store.markDelivered('tiles', [[first.firstReadingId, second.lastReadingId]]), 2);
      assert.deepEqual(waiting(store), []);
      const entry = store.status().sinks[0]?.entries[0];
      assert.deepEqual(entry?.sent, { payload: '80=3.5', readAt: new Date(T0), at: new Date(T0 + 2000) });
      run(store, 1);
      assert.deepEqual(waiting(store).map((i) => i.payload), ['80=3.6', '86=72.64']);
      assert.deepEqual(store.status().sinks[0]?.entries.map((e) => e.superseded), [0, 0]);
    } finally {
      store.close();
    }
  });

  it('does not mark a value delivered that a newer one replaced while it was being sent', () => {
    const store = open(perRegister([POWER]));
    try {
      run(store, 0);
      const [sending] = waiting(store);
      assert.ok(sending);
      run(store, 1); // arrives while the sink works on the first
      assert.equal(store.markDelivered('tiles', [[sending.firstReadingId, sending.lastReadingId]]), 0);
      assert.deepEqual(waiting(store).map((i) => i.payload), ['80=3.6'], 'the newer value still waits');
    } finally {
      store.close();
    }
  });

  it('keeps a refused key out of the queue, with the newest value and the reason, until the key is gone from the sink', () => {
    const store = open(perRegister([POWER, T1]));
    try {
      run(store, 0);
      const [power] = waiting(store);
      assert.ok(power);
      store.markRejected('tiles', power.firstReadingId, 'no device idx 80');
      run(store, 1);
      assert.deepEqual(waiting(store).map((i) => i.payload), ['86=72.64'], 'a refused key is not sent again');
      assert.deepEqual(store.heldEntries('tiles'), [{ key: 'r80', state: 'refused', reason: 'no device idx 80' }]);
      assert.equal(store.status().sinks[0]?.entries[0]?.payload, '80=3.6');
      assert.equal(store.status().sinks[0]?.rejected, 1);
    } finally {
      store.close();
    }
    // The config changed: the key is no longer the sink's, and its entry goes.
    const again = open(perRegister([T1]));
    try {
      assert.deepEqual(again.heldEntries('tiles'), []);
      assert.deepEqual(again.status().sinks[0]?.entries.map((e) => e.key), ['r86']);
    } finally {
      again.close();
    }
  });

  it('holds a value the renderer holds, compares the next with what was last sent, and sends it once it can', () => {
    // Held when the value is below the one the sink last confirmed: a counter going backwards.
    const backwards = (payload: string, sent: string | null): string | null =>
      sent !== null && Number(payload.split('=')[1]) < Number(sent.split('=')[1]) ? 'went backwards' : null;
    const store = open(perRegister([60], backwards));
    const energy = (value: string, step: number): void => {
      store.recordJobRun(jobRun({ readAt: new Date(T0 + step * 300_000), readings: [readingOf(60, 0x02, value)] }));
    };
    try {
      energy('5000', 0);
      const [sent] = waiting(store);
      assert.ok(sent);
      store.markDelivered('tiles', [[sent.firstReadingId, sent.lastReadingId]]);
      energy('12', 1);
      assert.deepEqual(waiting(store), []);
      assert.deepEqual(store.heldEntries('tiles'), [{ key: 'r60', state: 'held', reason: 'went backwards' }]);
      energy('13', 2);
      assert.deepEqual(waiting(store), [], 'still below what the target shows');
      energy('5001', 3);
      assert.deepEqual(waiting(store).map((i) => i.payload), ['60=5001']);
      assert.deepEqual(store.heldEntries('tiles'), []);
    } finally {
      store.close();
    }
  });

  it('queues a confirmed key again once it was sent longer ago than asked, and at once after the clock went back', () => {
    const store = open(perRegister([POWER]));
    try {
      run(store, 0);
      const [item] = waiting(store);
      assert.ok(item);
      store.markDelivered('tiles', [[item.firstReadingId, item.lastReadingId]]);
      now = T0 + 55 * 60_000;
      assert.equal(store.refresh('tiles', 55 * 60_000), 0, 'not older than asked yet');
      now += 1;
      assert.equal(store.refresh('tiles', 55 * 60_000), 1);
      const [again] = waiting(store);
      assert.equal(again?.payload, '80=3.5');
      assert.ok(again && again.firstReadingId > item.firstReadingId, 'a new place in the queue, after the old one');
      store.markDelivered('tiles', [[again.firstReadingId, again.lastReadingId]]);
      now = T0 - 3_600_000; // stepped back an hour
      assert.equal(store.refresh('tiles', 55 * 60_000), 1);
    } finally {
      store.close();
    }
  });

  it('survives a reopen with the same keys: values, states and counts as they were', () => {
    const store = open(perRegister([POWER, T1]));
    run(store, 0);
    run(store, 1);
    const before = store.status().sinks;
    store.close();
    const again = open(perRegister([POWER, T1]));
    try {
      assert.deepEqual(again.status().sinks, before);
      assert.equal(again.pendingRuns('tiles', { limit: 10 }).length, 2);
    } finally {
      again.close();
    }
  });

  it('drops its values when the sink renders in another format', () => {
    open(perRegister([POWER])).close();
    const store = open(perRegister([POWER]));
    run(store, 0);
    store.close();
    const again = open(perRegister([POWER], () => null, 'test-newest/2'));
    try {
      assert.deepEqual(again.status().sinks[0]?.entries, []);
    } finally {
      again.close();
    }
  });

  it('takes no history (backfill) and is refused when opened without its renderer', () => {
    open(perRegister([POWER])).close();
    const store = Store.open(path, { sinks: [], now: clock });
    try {
      assertStoreError(() => store.requeue('tiles', {}), 'invalid-input');
      assertStoreError(() => store.pendingDeliveries('tiles', { limit: 10 }), 'invalid-input');
    } finally {
      store.close();
    }
    assertStoreError(() => Store.open(path, { sinks: ['tiles'], now: clock }), 'invalid-input');
  });

  it('runs beside an every-reading sink without touching its backlog', () => {
    const influx = { format: 'lines/1', render: (r: PayloadRun): string => `${r.meter} ${r.readAt.getTime()}` };
    const store = open(perRegister([POWER]), { sinks: ['influxdb', 'tiles'], renderers: { tiles: perRegister([POWER]), influxdb: influx } });
    try {
      run(store, 0);
      run(store, 1);
      assert.equal(store.pendingRuns('influxdb', { limit: 100 }).length, 1, 'the two runs joined as one text');
      assert.equal(store.status().sinks.find((s) => s.name === 'influxdb')?.pending, 2 * liveReadings().length);
      assert.deepEqual(waiting(store).map((i) => i.payload), ['80=3.6']);
    } finally {
      store.close();
    }
  });
});
