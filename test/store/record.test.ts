// Recording job runs: one transaction for the run, its readings and their place in the outbox; exact
// values in, exact values out.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { decodeNumber, fromHex, type KmpNumber } from '../../src/kmp/index.js';
import { toReading, type RegisterReading } from '../../src/registers/index.js';
import { assertStoreError, count, jobRun, liveReadings, rawDatabase, readingOf, statisticsReadings, QUEUED, tempStore } from './helpers.js';

const MAX_U64 = (1n << 64n) - 1n;

/** Values whose exactness is easy to lose on the way through a database. */
function awkwardReadings(): RegisterReading[] {
  return [
    readingOf(149, 0x25, '63.44'), // 63.440000000000005 as a float
    readingOf(89, 0x26, '-0.74'),
    readingOf(4242, 0x00, { negative: false, mantissa: MAX_U64, exponent: 0 }, 8), // beyond int64: stored as text
    readingOf(4243, 0x00, { negative: false, mantissa: 1n << 63n, exponent: 0 }, 8), // the first that needs text
    readingOf(4244, 0x00, { negative: false, mantissa: (1n << 63n) - 1n, exponent: 0 }, 8), // the last INTEGER
    readingOf(4245, 0x00, { negative: false, mantissa: (1n << 53n) + 1n, exponent: -63 }, 8), // beyond a double's integers
    readingOf(130, 0x16, '0.0'),
    readingOf(80, 0x16, { negative: true, mantissa: 0n, exponent: -1 }), // negative zero: value "0.0", sign kept raw
    readingOf(138, 0x30, '220112'), // date 2022-01-12
    readingOf(140, 0x30, '0'), // no date yet: text null
    readingOf(1002, 0x2f, '200243'), // time 20:02:43
    readingOf(98, 0x32, '1231'), // mm:dd
    // The DST date-time comes as seven binary bytes; decoded from them, as the codec does.
    toReading({ registerId: 348, unitCode: 0x4f, value: decodeNumber(0x00, fromHex('01 18 0C 1F 00 00 04')), mantissaBytes: fromHex('01 18 0C 1F 00 00 04') }),
  ];
}

describe('recordJobRun', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore({ sinks: ['influxdb'] });
  });
  afterEach(() => t.cleanup());

  it('keeps every value exactly: decimal text, mantissa (up to 2^64 − 1), exponent, sign, date text', () => {
    const readings = awkwardReadings();
    assert.equal(readings.find((r) => r.registerId === 4242)?.value, '18446744073709551615');
    assert.equal(readings.find((r) => r.registerId === 138)?.text, '2022-01-12');
    assert.equal(readings.find((r) => r.registerId === 348)?.text, '2024-12-31 00:00:04');
    const { runId } = t.store.recordJobRun(jobRun({ readings }));
    assert.ok(runId > 0);

    // Out again as the sinks get them: the very RegisterReading that went in.
    const delivered = t.store.pendingDeliveries('influxdb', { limit: 100 });
    assert.deepEqual(
      delivered.map((d) => d.reading),
      readings,
    );
    // And as export rows: strings all the way.
    const exported = [...t.store.exportReadings()];
    const byId = new Map(exported.map((row) => [row.registerId, row]));
    assert.deepEqual(
      [4242, 149, 89, 130, 80, 138, 140].map((id) => {
        const row = byId.get(id);
        return [row?.value, row?.mantissa, row?.exponent, row?.negative, row?.text];
      }),
      [
        ['18446744073709551615', '18446744073709551615', 0, false, null],
        ['63.44', '6344', -2, false, null],
        ['-0.74', '74', -2, true, null],
        ['0.0', '0', -1, false, null],
        ['0.0', '0', -1, true, null],
        ['220112', '220112', 0, false, '2022-01-12'],
        ['0', '0', 0, false, null],
      ],
    );
    assert.equal(byId.get(4245)?.value, `0.${'0'.repeat(47)}9007199254740993`);
    assert.equal(byId.get(4245)?.mantissa, '9007199254740993');
  });

  it('stores the mantissa as INTEGER while it fits int64 and as decimal TEXT above, never as REAL', () => {
    t.store.recordJobRun(jobRun({ readings: awkwardReadings() }));
    const db = rawDatabase(t.path, { readonly: true });
    try {
      const rows = db.prepare('SELECT register_id AS id, typeof(mantissa) AS type, typeof(value) AS valueType FROM readings').all() as { id: number; type: string; valueType: string }[];
      const types = new Map(rows.map((r) => [r.id, r.type]));
      assert.equal(types.get(4242), 'text');
      assert.equal(types.get(4243), 'text');
      assert.equal(types.get(4244), 'integer');
      assert.equal(types.get(149), 'integer');
      assert.ok(rows.every((r) => r.valueType === 'text'));
      assert.ok(!rows.some((r) => r.type === 'real'));
    } finally {
      db.close();
    }
  });

  it('queues each reading once per enabled sink', () => {
    const recorded = t.store.recordJobRun(jobRun());
    assert.deepEqual([recorded.readings, recorded.queued], [9, 9]);
    const stats = t.store.recordJobRun(jobRun({ job: 'statistics', readings: statisticsReadings() }));
    assert.deepEqual([stats.readings, stats.queued], [20, 20]);
    assert.equal(count(t.path, QUEUED), 29);
    assert.equal(count(t.path, 'outbox_ranges'), 1, 'the second run extends the range of the first');
    assert.equal(count(t.path, 'readings'), 29);
  });

  it('queues readings × sinks with two sinks, none without sinks', async (context) => {
    for (const [sinks, expected] of [[['influxdb', 'domoticz'], 18], [[], 0]] as const) {
      await context.test(`${sinks.length} sinks`, () => {
        const s = tempStore({ sinks });
        try {
          assert.equal(s.store.recordJobRun(jobRun()).queued, expected);
          assert.equal(count(s.path, QUEUED), expected);
          assert.equal(count(s.path, 'readings'), 9);
        } finally {
          s.cleanup();
        }
      });
    }
  });

  it('records a failed run without readings, and queues nothing for it', () => {
    const recorded = t.store.recordJobRun(jobRun({ outcome: 'failed', error: 'the meter did not answer (3 attempts)', readings: [], meterSerial: null }));
    assert.deepEqual([recorded.readings, recorded.queued], [0, 0]);
    const [job] = t.store.status().jobs;
    assert.equal(job?.lastRun.outcome, 'failed');
    assert.equal(job?.lastRun.error, 'the meter did not answer (3 attempts)');
    assert.equal(count(t.path, 'outbox_ranges'), 0);
  });

  it('records the registers the meter left out', () => {
    t.store.recordJobRun(jobRun({ outcome: 'partial', missing: [266, 1004], readings: liveReadings().slice(0, 8) }));
    assert.deepEqual(t.store.status().jobs[0]?.lastRun.missing, [266, 1004]);
    assert.equal(t.store.status().jobs[0]?.lastRun.readingCount, 8);
  });

  for (const [what, bad] of [
    ['the same register twice in one run', [...liveReadings(), readingOf(60, 0x03, '55.649')]],
    ['an exponent beyond ±63', [...liveReadings(), { ...readingOf(61, 0x03, '1'), raw: { negative: false, mantissa: 1n, exponent: 64 } satisfies KmpNumber }]],
    ['a negative mantissa', [...liveReadings(), { ...readingOf(62, 0x03, '1'), raw: { negative: false, mantissa: -1n, exponent: 0 } }]],
    ['a register id beyond 16 bits', [...liveReadings(), readingOf(70_000, 0x03, '1')]],
    ['date text on a unit that is no date', [...liveReadings(), { ...readingOf(63, 0x03, '1'), text: '2022-01-12' }]],
  ] as const) {
    it(`rolls the whole run back when one reading is refused: ${what}`, () => {
      t.store.recordJobRun(jobRun({ readAt: new Date('2026-01-01T00:00:00Z') }));
      const before = ['runs', 'readings', 'outbox_ranges', 'meters', 'jobs', 'registers', 'units'].map((table) => count(t.path, table));
      // A new meter, job and register in the same run: their lookup rows must go too.
      const error = assertStoreError(() => t.store.recordJobRun(jobRun({ meter: 'garage', job: 'fast', readings: bad })), 'constraint');
      assert.ok(error.message.includes(t.path), error.message);
      assert.ok(error.cause instanceof Error);
      assert.deepEqual(['runs', 'readings', 'outbox_ranges', 'meters', 'jobs', 'registers', 'units'].map((table) => count(t.path, table)), before);
      // Nothing cached from the rolled-back transaction: the same meter and job record fine now.
      const ok = t.store.recordJobRun(jobRun({ meter: 'garage', job: 'fast' }));
      assert.deepEqual([ok.readings, ok.queued], [9, 9]);
    });
  }

  it('refuses invalid dates and outcomes before touching the database', () => {
    assertStoreError(() => t.store.recordJobRun(jobRun({ readAt: new Date(Number.NaN) })), 'invalid-input');
    assertStoreError(() => t.store.recordJobRun({ ...jobRun(), outcome: 'maybe' as 'ok' }), 'invalid-input');
    assert.equal(count(t.path, 'runs'), 0);
  });

  it('keeps the meter row up to date: model from the config, the serial as last read', () => {
    t.store.recordJobRun(jobRun({ meterSerial: null }));
    assert.equal(t.store.status().meters[0]?.serial, null);
    t.store.recordJobRun(jobRun({ meterSerial: 70000402 }));
    t.store.recordJobRun(jobRun({ meterSerial: null, model: 'multical-403' })); // serial not read this time: kept
    const [meter] = t.store.status().meters;
    assert.deepEqual([meter?.model, meter?.serial], ['multical-403', 70000402]);
  });

  it('shares one read time across the run, in epoch milliseconds', () => {
    const readAt = new Date('2026-01-12T10:00:00.123Z');
    t.store.recordJobRun(jobRun({ readAt }));
    const times = new Set([...t.store.exportReadings()].map((row) => row.readAt.getTime()));
    assert.deepEqual([...times], [readAt.getTime()]);
  });
});
