// Opening the store: where it may and may not, the pragmas it runs under, the sinks it
// registers, and the typed errors for files that are no database or paths that cannot exist.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, loadMigrations, migrate, schemaVersion, Store, StoreError, toStoreError } from '../../src/store/index.js';
import { assertStoreError, count, damageIndexPage, jobRun, rawDatabase, tempDir } from './helpers.js';
import { whileImmutable } from '../support/file-systems.js';

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

  it('a folder where the file should be gives not-a-regular-file', () => {
    const path = join(temp.dir, 'db.sqlite');
    mkdirSync(path);
    const error = assertStoreError(() => Store.open(path, { sinks: [] }), 'not-a-regular-file');
    assert.ok(error.message.includes(`${path} is not a regular file (it is a directory)`), error.message);
    assert.equal(error.wrongFile, true);
  });

  for (const [what, pathOf] of [
    ['/dev/null', (): string => '/dev/null'],
    ['a FIFO', (dir: string): string => {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      return fifo;
    }],
    ['a file under /proc', (): string => '/proc/self/status'],
  ] as const) {
    it(`${what} gives not-a-regular-file before SQLite touches it`, () => {
      const path = pathOf(temp.dir);
      const error = assertStoreError(() => Store.open(path, { sinks: [] }), 'not-a-regular-file');
      assert.ok(error.message.includes(`${path} is not a regular file`), error.message);
      assert.match(error.message, /Point storage\.path at a file such as/);
      assert.equal(existsSync(`${path}-wal`), false);
    });
  }

  it('opens an empty file (0 bytes) as a new database', () => {
    const path = join(temp.dir, 'empty.sqlite');
    writeFileSync(path, '');
    Store.open(path, { sinks: [] }).close();
    assert.equal(count(path, 'schema_migrations'), loadMigrations().length);
  });

  it('a file that is not a database gives not-a-database and stays as it was', () => {
    const path = join(temp.dir, 'kamstrup.yaml');
    const content = 'meters:\n  - name: home\n    url: /dev/ttyUSB0\n'.repeat(100);
    writeFileSync(path, content);
    const error = assertStoreError(() => Store.open(path, { sinks: ['influxdb'] }), 'not-a-database');
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, /not a SQLite database/);
    assert.equal((error.cause as { code?: string }).code, 'SQLITE_NOTADB');
    assert.equal(error.wrongFile, true, 'a config mistake (exit 2), as another program\'s database is');
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

/** The journal mode as the file records it: header bytes 18 and 19 are 2 for WAL, 1 for a rollback journal. */
function headerJournalBytes(path: string): number[] {
  return [...readFileSync(path).subarray(18, 20)];
}

describe('another program\'s SQLite database', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  const foreign = (setUp: string): string => {
    const path = join(temp.dir, 'photos.db');
    const db = rawDatabase(path);
    db.exec(setUp);
    db.close();
    return path;
  };

  for (const [what, setUp] of [
    ['with tables and no user_version', "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');"],
    ['that sets its own user_version', "CREATE TABLE albums (id INTEGER PRIMARY KEY); PRAGMA user_version = 2;"],
    ['with a schema_migrations table of its own (Rails)', "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); PRAGMA user_version = 1;"],
    ['with only a view', 'CREATE VIEW v AS SELECT 1;'],
  ] as const) {
    for (const readOnly of [false, true]) {
      it(`${what} is refused${readOnly ? ' read-only' : ''} as foreign-database, left byte for byte as it was (no tables, no WAL)`, () => {
        const path = foreign(setUp);
        const before = readFileSync(path);
        const tablesBefore = count(path, 'sqlite_schema');
        const error = assertStoreError(() => Store.open(path, { sinks: [], readOnly }), 'foreign-database');
        assert.ok(error.message.includes(`${path} is a SQLite database of another program`), error.message);
        assert.match(error.message, /it was left untouched\. Point storage\.path at the logger's own database, or at a new file/);
        assert.equal(error.wrongFile, true);
        assert.deepEqual(readFileSync(path), before);
        assert.deepEqual(headerJournalBytes(path), [1, 1]);
        assert.equal(existsSync(`${path}-wal`), false);
        const db = rawDatabase(path, { readonly: true });
        try {
          assert.equal(db.pragma('journal_mode', { simple: true }), 'delete');
        } finally {
          db.close();
        }
        assert.equal(count(path, 'sqlite_schema'), tablesBefore);
      });
    }
  }

  it('names a few of its tables', () => {
    const path = foreign('CREATE TABLE a (x); CREATE TABLE b (x); CREATE TABLE c (x); CREATE TABLE d (x);');
    assert.match(assertStoreError(() => Store.open(path, { sinks: [] }), 'foreign-database').message, /tables such as a, b, c,/);
  });
});

describe('Store.open read-only', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.remove());

  const loggerDatabase = (): string => {
    const path = join(temp.dir, 'k.sqlite');
    const store = Store.open(path, { sinks: ['influxdb'] });
    store.recordJobRun(jobRun());
    store.close();
    return path;
  };

  it('reads status and exports without changing a byte of the file', () => {
    const path = loggerDatabase();
    const before = readFileSync(path);
    const store = Store.open(path, { sinks: [], readOnly: true });
    try {
      assert.equal([...store.exportReadings()].length, 9);
      assert.deepEqual(store.status().sinks.map((s) => [s.name, s.pending]), [['influxdb', 9]]);
      assert.equal(connectionOf(store).readonly, true);
      assertStoreError(() => store.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:05:00Z') })), 'read-only');
    } finally {
      store.close();
    }
    assert.deepEqual(readFileSync(path), before);
  });

  it('does not create a missing file', () => {
    const path = join(temp.dir, 'missing.sqlite');
    assertStoreError(() => Store.open(path, { sinks: [], readOnly: true }), 'cannot-open');
    assert.equal(existsSync(path), false);
  });

  it('refuses a database that needs a migration as needs-upgrade, naming both versions and the daemon as the fix', () => {
    const path = join(temp.dir, 'old.sqlite');
    const db = rawDatabase(path);
    migrate(db, { migrations: loadMigrations().slice(0, 1), path });
    db.close();
    const before = readFileSync(path);
    const error = assertStoreError(() => Store.open(path, { sinks: [], readOnly: true }), 'needs-upgrade');
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, new RegExp(`schema version 1 and this kamstrup-logger reads version ${loadMigrations().length}`));
    assert.match(error.message, /Run the daemon \(kamstrup-logger run\) of this version once/);
    assert.equal(error.wrongFile, false);
    assert.deepEqual(readFileSync(path), before);
  });

  it('queues nothing: sinks and renderers are refused', () => {
    const path = loggerDatabase();
    assertStoreError(() => Store.open(path, { sinks: ['influxdb'], readOnly: true }), 'invalid-input');
  });

  it('opens a file that cannot be written (chattr +i, which holds even for root)', (t) => {
    const path = loggerDatabase();
    whileImmutable(path, t, () => {
      const before = readFileSync(path);
      assertStoreError(() => {
        const writer = Store.open(path, { sinks: [] });
        try {
          writer.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:05:00Z') }));
        } finally {
          writer.close();
        }
      }, 'read-only');
      const store = Store.open(path, { sinks: [], readOnly: true });
      try {
        assert.equal([...store.exportReadings()].length, 9);
      } finally {
        store.close();
      }
      assert.deepEqual(readFileSync(path), before);
    });
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

  it('an index page overwritten between runs: every later write is corrupt, naming the file, a backup and .recover', () => {
    const path = join(temp.dir, 'k.sqlite');
    const first = Store.open(path, { sinks: ['influxdb'] });
    for (let i = 0; i < 50; i++) first.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1) + i * 300_000) }));
    first.close();
    damageIndexPage(path);
    const store = Store.open(path, { sinks: ['influxdb'] });
    try {
      for (const minute of [0, 5]) {
        const error = assertStoreError(() => store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 1, 1, 0, minute)) })), 'corrupt');
        assert.equal(error.retryable, false);
        assert.equal((error.cause as { code?: string }).code?.startsWith('SQLITE_CORRUPT'), true);
        assert.ok(error.message.includes(`the database ${path} is damaged`), error.message);
        assert.ok(error.message.includes('while recording a job run; nothing more can be stored in it'), error.message);
        assert.match(error.message, /restore a backup/);
        assert.ok(error.message.includes(`sqlite3 ${path} ".recover" | sqlite3 recovered.sqlite`), error.message);
      }
    } finally {
      store.close();
    }
    assert.equal(count(path, 'runs NOT INDEXED'), 50); // the table itself is whole: nothing half-written
  });

  it('passes a StoreError through unchanged', () => {
    const original = new StoreError('unknown-sink', 'no such sink');
    assert.equal(toStoreError(original, '/x', 'y'), original);
  });
});
