// Opening the store: where it may and may not, the pragmas it runs under, the sinks it
// registers, and the typed errors for files that are no database or paths that cannot exist.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, loadMigrations, schemaVersion, Store, StoreError, toStoreError } from '../../src/store/index.js';
import { assertStoreError, count, jobRun, rawDatabase, tempDir } from './helpers.js';

/** The store's own connection, for pragmas that are per connection and cannot be seen from another. */
function connectionOf(store: Store): Database {
  return (store as unknown as { db: Database }).db;
}

describe('Store.open', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('creates the missing parent folders and a database at the newest version', () => {
    const path = join(temp.dir, 'a', 'b', 'kamstrup.sqlite');
    const store = Store.open(path, { sinks: ['influxdb'] });
    try {
      assert.ok(existsSync(path));
      assert.equal(store.path, path);
    } finally {
      store.close();
    }
    const db = rawDatabase(path, { readonly: true });
    try {
      assert.equal(schemaVersion(db), loadMigrations().length);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal'); // persistent, in the file
    } finally {
      db.close();
    }
  });

  it('runs with foreign keys on, WAL, synchronous NORMAL, a busy timeout and a 4 MB page cache', () => {
    const store = Store.open(join(temp.dir, 'db.sqlite'), { sinks: [] });
    try {
      const db = connectionOf(store);
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.equal(db.pragma('busy_timeout', { simple: true }), BUSY_TIMEOUT_MS);
      assert.equal(db.pragma('cache_size', { simple: true }), -4096); // KiB
    } finally {
      store.close();
    }
  });

  it('reopens an existing database with its data and without applying anything again', () => {
    const path = join(temp.dir, 'db.sqlite');
    const first = Store.open(path, { sinks: ['influxdb'] });
    first.recordJobRun(jobRun());
    first.close();
    const second = Store.open(path, { sinks: ['influxdb'] });
    try {
      assert.equal([...second.exportReadings()].length, 9);
    } finally {
      second.close();
    }
    assert.equal(count(path, 'schema_migrations'), loadMigrations().length);
  });

  for (const [below, errno] of [['db.sqlite', 'EEXIST'], ['data/db.sqlite', 'ENOTDIR']] as const) {
    it(`a path under a regular file (file.txt/${below}) gives cannot-open naming the path and the cause (${errno})`, () => {
      const file = join(temp.dir, 'file.txt');
      writeFileSync(file, 'not a folder\n');
      const path = join(file, below);
      const error = assertStoreError(() => Store.open(path, { sinks: [] }), 'cannot-open');
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /a part of the path is a file, not a directory/);
      assert.equal((error.cause as NodeJS.ErrnoException).code, errno);
      assert.equal(error.path, path);
    });
  }

  it('a folder where the file should be gives cannot-open', () => {
    const path = join(temp.dir, 'db.sqlite');
    mkdirSync(path);
    const error = assertStoreError(() => Store.open(path, { sinks: [] }), 'cannot-open');
    assert.ok(error.message.includes(path), error.message);
    assert.ok(error.cause instanceof Error);
  });

  it('a file that is not a database gives not-a-database and stays as it was', () => {
    const path = join(temp.dir, 'kamstrup.yaml');
    const content = 'meters:\n  - name: home\n    url: /dev/ttyUSB0\n'.repeat(100);
    writeFileSync(path, content);
    const error = assertStoreError(() => Store.open(path, { sinks: ['influxdb'] }), 'not-a-database');
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, /not a SQLite database/);
    assert.equal((error.cause as { code?: string }).code, 'SQLITE_NOTADB');
    assert.equal(readFileSync(path, 'utf8'), content);
  });

  it('refuses empty sink names', () => {
    assertStoreError(() => Store.open(join(temp.dir, 'db.sqlite'), { sinks: [''] }), 'invalid-input');
    assertStoreError(() => Store.open(join(temp.dir, 'db.sqlite'), { sinks: [' influxdb'] }), 'invalid-input');
  });

  it('registers the configured sinks; the writer disables the ones no longer configured, keeping their backlog', () => {
    const path = join(temp.dir, 'db.sqlite');
    const first = Store.open(path, { sinks: ['influxdb', 'domoticz'] });
    first.recordJobRun(jobRun());
    first.close();
    const second = Store.open(path, { sinks: ['domoticz', 'mqtt'] });
    try {
      const recorded = second.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:05:00Z') }));
      assert.equal(recorded.queued, 18); // domoticz and mqtt, not the disabled influxdb
      assert.deepEqual(
        second.status().sinks.map((s) => [s.name, s.enabled, s.pending]),
        [
          ['domoticz', true, 18],
          ['influxdb', false, 9],
          ['mqtt', true, 9],
        ],
      );
      // A status or export command opening the file next to the daemon, with no sinks: the
      // flags stay, and the daemon still queues for its own sinks.
      const reader = Store.open(path, { sinks: [] });
      try {
        assert.deepEqual(reader.status().sinks.map((s) => [s.name, s.enabled]), [['domoticz', true], ['influxdb', false], ['mqtt', true]]);
      } finally {
        reader.close();
      }
      assert.equal(second.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:10:00Z') })).queued, 18);
    } finally {
      second.close();
    }
  });

  it('a closed store says so with code closed; closing twice is harmless', () => {
    const store = Store.open(join(temp.dir, 'db.sqlite'), { sinks: [] });
    store.close();
    store.close();
    const error = assertStoreError(() => store.status(), 'closed');
    assert.ok(error.message.includes(store.path));
  });
});

describe('errors from SQLite, classified', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  it('a full database (SQLITE_FULL) is disk-full, retryable, with the cause kept', () => {
    const path = join(temp.dir, 'db.sqlite');
    const db = rawDatabase(path);
    try {
      db.exec('CREATE TABLE t (x TEXT)');
      // max_page_count caps this connection's file: the same SQLITE_FULL a full disk gives.
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      let cause: unknown;
      try {
        db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(100_000));
      } catch (error) {
        cause = error;
      }
      const error = toStoreError(cause, path, 'recording a job run');
      assert.ok(error instanceof StoreError);
      assert.equal(error.code, 'disk-full');
      assert.equal(error.retryable, true);
      assert.equal(error.cause, cause);
      assert.ok(error.message.includes(path) && error.message.includes('recording a job run'), error.message);
    } finally {
      db.close();
    }
  });

  it('a database locked by another writer beyond the timeout is busy', () => {
    const path = join(temp.dir, 'db.sqlite');
    const holder = rawDatabase(path);
    const other = rawDatabase(path, { timeout: 10 });
    try {
      holder.pragma('journal_mode = WAL');
      holder.exec('CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);');
      let cause: unknown;
      try {
        other.exec('INSERT INTO t VALUES (2)');
      } catch (error) {
        cause = error;
      }
      const error = toStoreError(cause, path, 'recording a job run');
      assert.equal(error.code, 'busy');
      assert.equal(error.retryable, true);
      holder.exec('COMMIT');
    } finally {
      other.close();
      holder.close();
    }
  });

  it('passes a StoreError through unchanged', () => {
    const original = new StoreError('unknown-sink', 'no such sink');
    assert.equal(toStoreError(original, '/x', 'y'), original);
  });
});
