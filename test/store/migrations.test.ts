// The migration runner on real SQLite files: from empty and from every earlier version to the
// newest, a database newer than the code, and misnumbered or failing migration files.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { defaultMigrationsDir, loadMigrations, migrate, schemaVersion, Store, type Migration } from '../../src/store/index.js';
import { assertStoreError, count, rawDatabase, tempDir } from './helpers.js';

const shipped = loadMigrations();
const newest = shipped.length;

/**
 * Representative data for a database at each version, written with that version's schema (raw
 * SQL, as an older kamstrup-logger would have left it), and what must survive the upgrade.
 * Adding migration NNNN means adding its entry here: the test below insists on one per version.
 */
const seeds: Record<number, { seed(db: Database): void; check(store: Store): void }> = {
  1: {
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO jobs (id, name) VALUES (1, 'live'), (2, 'statistics');
        INSERT INTO registers (id, name) VALUES (60, 'heat_energy'), (138, 'max_flow_date_month'), (4242, NULL);
        INSERT INTO units (code, symbol) VALUES (3, 'MWh'), (48, 'yy:mm:dd'), (0, '');
        INSERT INTO sinks (id, name, enabled) VALUES (1, 'influxdb', 1);
        INSERT INTO runs (id, meter_id, job_id, read_at, finished_at, outcome, error, missing, reading_count)
          VALUES (1, 1, 1, 1768212000000, 1768212002300, 'partial', NULL, '[266]', 2),
                 (2, 1, 2, 1768212060000, 1768212061000, 'ok', NULL, NULL, 1),
                 (3, 1, 1, 1768212300000, 1768212301600, 'failed', 'no answer from the meter', NULL, 0);
        INSERT INTO readings (id, run_id, register_id, value, unit_code, mantissa, exponent, negative, text)
          VALUES (1, 1, 60, '55.648', 3, 55648, -3, 0, NULL),
                 (2, 1, 4242, '18446744073709551615', 0, '18446744073709551615', 0, 0, NULL),
                 (3, 2, 138, '261117', 48, 261117, 0, 0, '2026-11-17');
        INSERT INTO outbox (sink_id, reading_id) VALUES (1, 2), (1, 3);
        INSERT INTO outbox (sink_id, rejected, reading_id, rejected_at, reason) VALUES (1, 1, 1, 1768212400000, 'field type conflict');
      `);
    },
    check(store) {
      const rows = [...store.exportReadings()];
      assert.deepEqual(
        rows.map((r) => [r.meter, r.job, r.readAt.toISOString(), r.registerId, r.name, r.value, r.unit, r.text, r.mantissa, r.exponent, r.negative]),
        [
          ['home', 'live', '2026-01-12T10:00:00.000Z', 60, 'heat_energy', '55.648', 'MWh', null, '55648', -3, false],
          ['home', 'live', '2026-01-12T10:00:00.000Z', 4242, null, '18446744073709551615', '', null, '18446744073709551615', 0, false],
          ['home', 'statistics', '2026-01-12T10:01:00.000Z', 138, 'max_flow_date_month', '261117', 'yy:mm:dd', '2026-11-17', '261117', 0, false],
        ],
      );
      const status = store.status();
      assert.deepEqual(
        status.jobs.map((j) => [j.meter, j.job, j.lastRun.outcome, j.lastRun.error]),
        [
          ['home', 'live', 'failed', 'no answer from the meter'],
          ['home', 'statistics', 'ok', null],
        ],
      );
      assert.deepEqual(status.sinks.map((s) => [s.name, s.pending, s.rejected]), [['influxdb', 2, 1]]);
      assert.deepEqual(store.pendingDeliveries('influxdb', { limit: 10 }).map((d) => d.readingId), [2, 3]);
    },
  },
  2: {
    // Backlogs as ranges: influxdb owes readings 1 and 4…6 (it was disabled while 2…3 were
    // written), domoticz (no longer configured) owes 2…3 and parked 5 as rejected.
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO jobs (id, name) VALUES (1, 'live');
        INSERT INTO registers (id, name) VALUES (60, 'heat_energy'), (80, 'power'), (86, 'flow_temperature');
        INSERT INTO units (code, symbol) VALUES (2, 'kWh'), (22, 'kW'), (37, '°C');
        INSERT INTO sinks (id, name, enabled) VALUES (1, 'influxdb', 1), (2, 'domoticz', 0);
        INSERT INTO runs (id, meter_id, job_id, read_at, finished_at, outcome, error, missing, reading_count)
          VALUES (1, 1, 1, 1768212000000, 1768212001000, 'partial', NULL, '[80]', 1),
                 (2, 1, 1, 1768212300000, 1768212301000, 'ok', NULL, NULL, 2),
                 (3, 1, 1, 1768212600000, 1768212601000, 'ok', NULL, NULL, 3);
        INSERT INTO readings (id, run_id, register_id, value, unit_code, mantissa, exponent, negative, text)
          VALUES (1, 1, 60, '55648', 2, 55648, 0, 0, NULL),
                 (2, 2, 60, '55649', 2, 55649, 0, 0, NULL), (3, 2, 80, '3.1', 22, 31, -1, 0, NULL),
                 (4, 3, 60, '55650', 2, 55650, 0, 0, NULL), (5, 3, 80, '3.2', 22, 32, -1, 0, NULL), (6, 3, 86, '63.44', 37, 6344, -2, 0, NULL);
        INSERT INTO outbox_ranges (sink_id, first_reading_id, last_reading_id) VALUES (1, 1, 1), (1, 4, 6), (2, 2, 3);
        INSERT INTO rejections (sink_id, reading_id, rejected_at, reason) VALUES (2, 5, 1768213000000, 'unknown idx');
      `);
    },
    check(store) {
      assert.deepEqual(
        store.status().sinks.map((s) => [s.name, s.enabled, s.pending, s.rejected, s.oldestPendingReadAt?.toISOString()]),
        [
          ['domoticz', false, 2, 1, '2026-01-12T10:05:00.000Z'],
          ['influxdb', true, 4, 0, '2026-01-12T10:00:00.000Z'],
        ],
      );
      assert.deepEqual(store.pendingDeliveries('influxdb', { limit: 10 }).map((d) => d.readingId), [1, 4, 5, 6]);
      assert.deepEqual(store.pendingDeliveries('influxdb', { afterReadingId: 1, limit: 2 }).map((d) => d.readingId), [4, 5]);
    },
  },
  3: {
    // A stored line beside a queued run: influxdb owes run 2 whole (readings 2…3) with its line.
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO jobs (id, name) VALUES (1, 'live');
        INSERT INTO registers (id, name) VALUES (60, 'heat_energy'), (80, 'power');
        INSERT INTO units (code, symbol) VALUES (2, 'kWh'), (22, 'kW');
        INSERT INTO sinks (id, name, enabled, payload_format) VALUES (1, 'influxdb', 1, 'influxdb-line-ms/1');
        INSERT INTO runs (id, meter_id, job_id, read_at, finished_at, outcome, error, missing, reading_count)
          VALUES (1, 1, 1, 1768212000000, 1768212001000, 'ok', NULL, NULL, 1),
                 (2, 1, 1, 1768212300000, 1768212301000, 'ok', NULL, NULL, 2);
        INSERT INTO readings (id, run_id, register_id, value, unit_code, mantissa, exponent, negative, text)
          VALUES (1, 1, 60, '55648', 2, 55648, 0, 0, NULL),
                 (2, 2, 60, '55649', 2, 55649, 0, 0, NULL), (3, 2, 80, '3.1', 22, 31, -1, 0, NULL);
        INSERT INTO outbox_ranges (sink_id, first_reading_id, last_reading_id) VALUES (1, 2, 3);
        INSERT INTO outbox_payloads (sink_id, first_reading_id, last_reading_id, payload)
          VALUES (1, 2, 3, 'kamstrup,meter=home,model=multical-402,serial=70000402 heat_energy=55649,power=3.1 1768212300000');
      `);
    },
    check(store) {
      assert.deepEqual(store.status().sinks.map((s) => [s.name, s.pending]), [['influxdb', 2]]);
      assert.deepEqual(store.pendingDeliveries('influxdb', { limit: 10 }).map((d) => d.readingId), [2, 3]);
      assert.equal(count(store.path, "outbox_payloads WHERE first_reading_id = 2 AND last_reading_id = 3 AND payload LIKE 'kamstrup,%'"), 1);
    },
  },
  4: {
    // A newest-per-key sink: device 13 waits with a value that superseded two, device 12 was
    // sent, device 99 was refused; influxdb, an every-reading sink, is untouched by it.
    seed(db) {
      db.exec(`
        INSERT INTO sinks (id, name, enabled, payload_format) VALUES (1, 'influxdb', 1, NULL);
        INSERT INTO sinks (id, name, enabled, payload_format, delivery) VALUES (2, 'domoticz', 1, 'domoticz-udevice/1', 'newest-per-key');
        INSERT INTO outbox_newest (sink_id, key, seq, payload, read_at, state, reason, changed_at, superseded, sent_payload, sent_read_at, sent_at)
          VALUES (2, 'idx=12', 3, '{"idx":12,"nvalue":0,"svalue":"3100;55649000"}', 1768212300000, 'sent', NULL, 1768212301500, 0, '{"idx":12,"nvalue":0,"svalue":"3100;55649000"}', 1768212300000, 1768212301500),
                 (2, 'idx=13', 5, '{"idx":13,"nvalue":0,"svalue":"63.44"}', 1768212600000, 'pending', NULL, 1768212600100, 2, NULL, NULL, NULL),
                 (2, 'idx=99', 4, '{"idx":99,"nvalue":0,"svalue":"1"}', 1768212300000, 'refused', 'no device idx 99', 1768212301600, 0, NULL, NULL, NULL);
      `);
    },
    check(store) {
      const [domoticz, influxdb] = store.status().sinks;
      assert.deepEqual([influxdb?.name, influxdb?.delivery, influxdb?.pending, influxdb?.entries], ['influxdb', 'every-reading', 0, []]);
      assert.deepEqual([domoticz?.name, domoticz?.delivery, domoticz?.pending, domoticz?.rejected, domoticz?.oldestPendingReadAt?.toISOString()], ['domoticz', 'newest-per-key', 1, 1, '2026-01-12T10:10:00.000Z']);
      assert.deepEqual(
        domoticz?.entries.map((e) => [e.key, e.state, e.superseded, e.reason, e.sent?.payload ?? null]),
        [
          ['idx=12', 'sent', 0, null, '{"idx":12,"nvalue":0,"svalue":"3100;55649000"}'],
          ['idx=13', 'pending', 2, null, null],
          ['idx=99', 'refused', 0, 'no device idx 99', null],
        ],
      );
      assert.deepEqual(store.heldEntries('domoticz'), [{ key: 'idx=99', state: 'refused', reason: 'no device idx 99' }]);
    },
  },
  5: {
    // A run that simulate --history recorded, and a real one after it.
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO jobs (id, name) VALUES (1, 'live'), (2, 'statistics');
        INSERT INTO registers (id, name) VALUES (60, 'heat_energy');
        INSERT INTO units (code, symbol) VALUES (2, 'kWh');
        INSERT INTO runs (id, meter_id, job_id, read_at, finished_at, outcome, error, missing, reading_count, simulated)
          VALUES (1, 1, 1, 1768212000000, 1768212000100, 'ok', NULL, NULL, 1, 1),
                 (2, 1, 2, 1768212300000, 1768212300100, 'ok', NULL, NULL, 1, 0);
        INSERT INTO readings (run_id, register_id, value, unit_code, mantissa, exponent, negative, text)
          VALUES (1, 60, '55648', 2, 55648, 0, 0, NULL), (2, 60, '55649', 2, 55649, 0, 0, NULL);
      `);
    },
    check(store) {
      assert.deepEqual(
        store.status().jobs.map((j) => [j.job, j.lastRun.simulated]),
        [
          ['live', true],
          ['statistics', false],
        ],
      );
      // The upgrade to 0006 builds the consumption figures from the stored readings.
      assert.deepEqual(
        store.consumption({ kind: 'year' }).map((row) => [row.meter, row.figures.label, row.figures.sums.energy]),
        [['home', '2026', 1_000_000n]],
      );
    },
  },
  6: {
    // Figures kept with their settings and series state: opened again, they stay as they are.
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO consumption_periods (meter_id, kind, start_at, end_at, label, energy_kwh, volume_m3, hours, m3_t1, m3_t2, peak_power_kw, peak_power_at, gap_ms, resets, simulated)
          VALUES (1, 'month', 1767222000000, 1769900400000, '2026-01', '1234.5', '30.25', '744', NULL, NULL, '12.3', 1768212000000, 3600000, 1, 0);
        INSERT INTO consumption_series (meter_id, register_id, read_at, value) VALUES (1, 60, 1768212000000, '55648000');
        INSERT INTO consumption_meters (meter_id, series_at, last_at, billing_date) VALUES (1, 1768212000000, 1768212000000, '06-01');
        INSERT INTO consumption_settings (id, settings) VALUES (1, '{"timeZone":"Europe/Amsterdam","gapMs":7200000,"billing":{}}');
      `);
    },
    check(store) {
      const [row] = store.consumption({ kind: 'month' });
      assert.deepEqual(
        [row?.meter, row?.figures.label, row?.figures.sums, row?.figures.peak, row?.figures.gapMs, row?.figures.resets],
        ['home', '2026-01', { energy: 1_234_500_000n, volume: 30_250_000n, hours: 744_000_000n }, { kw: 12_300_000n, at: 1768212000000 }, 3600000, 1],
      );
    },
  },
  7: {
    // Health counters and a sink's newest delivery latency: kept as they are.
    seed(db) {
      db.exec(`
        INSERT INTO meters (id, name, model, serial) VALUES (1, 'home', 'multical-402', 70000402);
        INSERT INTO jobs (id, name) VALUES (1, 'live');
        INSERT INTO sinks (id, name, enabled, delivery) VALUES (1, 'influxdb', 1, 'every-reading');
        INSERT INTO job_health (meter_id, job_id, runs, ok, partial, failed, no_answer, corrupt_answer, line_noise, link_failure, other)
          VALUES (1, 1, 10, 6, 1, 3, 2, 1, 0, 1, 0);
        INSERT INTO sink_latency (sink_id, run_id, latency_ms, confirmed_at) VALUES (1, 42, 153, 1768212000153);
      `);
    },
    check(store) {
      assert.deepEqual(store.health(), {
        jobs: [{ meter: 'home', job: 'live', counts: { runs: 10, ok: 6, partial: 1, failed: 3, noAnswer: 2, corruptAnswer: 1, lineNoise: 0, linkFailure: 1, other: 0 } }],
        sinks: [{ sink: 'influxdb', latencyMs: 153, confirmedAt: new Date(1768212000153) }],
      });
    },
  },
};

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A migrations folder holding the first `k` shipped files, plus extra files. */
function migrationsFolder(parent: string, k: number, extra: Record<string, string> = {}): string {
  const dir = join(parent, `migrations-${k}-${Object.keys(extra).join('-') || 'shipped'}`);
  mkdirSync(dir);
  for (const migration of shipped.slice(0, k)) copyFileSync(migration.file, join(dir, migration.file.split('/').at(-1) ?? ''));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(join(dir, name), sql);
  return dir;
}

function assertHealthy(path: string, version: number): void {
  const db = rawDatabase(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    assert.equal(schemaVersion(db), version);
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];
    assert.deepEqual(
      recorded.map((r) => r.version),
      Array.from({ length: version }, (_, i) => i + 1),
    );
  } finally {
    db.close();
  }
}

describe('migration files', () => {
  it('are numbered 0001 … without gaps and found next to the compiled module', () => {
    assert.ok(newest >= 1);
    assert.equal(shipped[0]?.name, 'initial');
    assert.ok(shipped.every((m: Migration, i) => m.version === i + 1));
    assert.ok(existsSync(new URL('0001_initial.sql', defaultMigrationsDir)));
  });

  it('each have representative data in this test', () => {
    for (const migration of shipped) assert.ok(seeds[migration.version], `no seed for version ${migration.version} (${migration.file})`);
  });
});

describe('migrating', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  for (let k = 0; k <= newest; k++) {
    it(`brings a database at version ${k} to version ${newest} with its data intact`, () => {
      const path = join(temp.dir, `at-${k}.sqlite`);
      const db = rawDatabase(path);
      const result = migrate(db, { migrations: loadMigrations(migrationsFolder(temp.dir, k)), path });
      assert.deepEqual([result.from, result.to, result.applied.length], [0, k, k]);
      db.pragma('foreign_keys = ON');
      seeds[k]?.seed(db);
      db.close();

      const store = Store.open(path, { sinks: ['influxdb'], now: () => new Date('2026-02-01T00:00:00Z') });
      try {
        seeds[k]?.check(store);
      } finally {
        store.close();
      }
      assertHealthy(path, newest);
    });
  }

  it('applies a newer file to an existing database, each version once, recorded with its name and time', () => {
    const path = join(temp.dir, 'db.sqlite');
    Store.open(path, { sinks: [] }).close();
    const folder = migrationsFolder(temp.dir, newest, { [`${String(newest + 1).padStart(4, '0')}_meter_notes.sql`]: 'ALTER TABLE meters ADD COLUMN note TEXT;' });
    const at = new Date('2027-03-04T05:06:07Z');
    Store.open(path, { sinks: [], migrationsDir: folder, now: () => at }).close();
    Store.open(path, { sinks: [], migrationsDir: folder }).close(); // nothing left to apply
    assertHealthy(path, newest + 1);
    const db = rawDatabase(path, { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT name, applied_at AS at FROM schema_migrations WHERE version = ?').get(newest + 1), {
        name: 'meter_notes',
        at: '2027-03-04T05:06:07.000Z',
      });
      assert.ok(db.prepare("SELECT 1 FROM pragma_table_info('meters') WHERE name = 'note'").get());
    } finally {
      db.close();
    }
  });
});

describe('a database newer than the code', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('refuses to open, naming the file, both versions and the fix, and leaves the file untouched', () => {
    const path = join(temp.dir, 'db.sqlite');
    const future = migrationsFolder(temp.dir, newest, { [`${String(newest + 1).padStart(4, '0')}_future.sql`]: 'CREATE TABLE future (x INTEGER) STRICT;' });
    const store = Store.open(path, { sinks: ['influxdb'], migrationsDir: future });
    store.recordJobRun({
      meter: 'home', model: 'multical-402', meterSerial: null, job: 'live', readAt: new Date(0), finishedAt: new Date(1),
      outcome: 'failed', error: 'no answer', missing: [], readings: [],
    });
    store.close();
    const before = sha256(path);

    const error = assertStoreError(() => Store.open(path, { sinks: ['influxdb'] }), 'database-too-new');
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, new RegExp(`schema version ${newest + 1}\\b`));
    assert.match(error.message, new RegExp(`versions up to ${newest}\\b`));
    assert.match(error.message, /Upgrade kamstrup-logger, or restore a backup/i);
    assert.equal(error.path, path);

    assert.equal(sha256(path), before);
    assert.equal(existsSync(`${path}-wal`), false);
    const db = rawDatabase(path, { readonly: true });
    try {
      assert.equal(schemaVersion(db), newest + 1);
    } finally {
      db.close();
    }
  });

  it('is also refused by migrate() itself', () => {
    const path = join(temp.dir, 'db.sqlite');
    const db = rawDatabase(path);
    try {
      db.pragma(`user_version = ${newest + 3}`);
      const error = assertStoreError(() => migrate(db, { migrations: shipped, path }), 'database-too-new');
      assert.match(error.message, new RegExp(`${newest + 3}`));
      assert.equal(schemaVersion(db), newest + 3);
    } finally {
      db.close();
    }
  });
});

describe('bad migration files', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('a failing migration rolls back completely and names its file; the database stays at the version before', () => {
    const path = join(temp.dir, 'db.sqlite');
    Store.open(path, { sinks: [] }).close();
    const name = `${String(newest + 1).padStart(4, '0')}_broken.sql`;
    const folder = migrationsFolder(temp.dir, newest, { [name]: 'CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);' });
    const error = assertStoreError(() => Store.open(path, { sinks: [], migrationsDir: folder }), 'migration-failed');
    assert.ok(error.message.includes(name), error.message);
    assert.match(error.message, /no such table: no_such_table/);
    assert.match(error.message, new RegExp(`stays at version ${newest}\\b`));
    assertHealthy(path, newest);
    assert.throws(() => count(path, 'half_done'), /no such table/);
  });

  it('a gap in the numbering is refused before the database is touched', () => {
    const folder = migrationsFolder(temp.dir, newest, { [`${String(newest + 2).padStart(4, '0')}_skipped_one.sql`]: 'SELECT 1;' });
    const path = join(temp.dir, 'db.sqlite');
    const error = assertStoreError(() => Store.open(path, { sinks: [], migrationsDir: folder }), 'bad-migrations');
    assert.match(error.message, /without gaps or repeats/);
    assert.equal(existsSync(path), false);
  });

  it('a .sql file not named NNNN_name.sql is refused', () => {
    const folder = migrationsFolder(temp.dir, newest, { '2_Oops.sql': 'SELECT 1;' });
    assertStoreError(() => loadMigrations(folder), 'bad-migrations');
  });

  it('a missing migrations folder is refused', () => {
    const error = assertStoreError(() => loadMigrations(join(temp.dir, 'nowhere')), 'bad-migrations');
    assert.match(error.message, /Reinstall kamstrup-logger/);
  });
});
