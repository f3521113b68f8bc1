// What the commands must never do to the database, through the real binary on real files:
// export writing over the database or its side files, a storage path at another program's
// database or at something that is no file, a time range that is backwards.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadMigrations, migrate, Store } from '../../src/store/index.js';
import { jobRun, rawDatabase } from '../store/helpers.js';
import { assertExit, binPath, run, tempDir } from './helpers.js';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function integrityOf(path: string): unknown {
  const db = rawDatabase(path, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

function configFor(storagePath: string): string {
  return `meters:\n  - name: home\n    url: sim://multical-402\nstorage:\n  path: ${storagePath}\n`;
}

/** A logger database with two job runs in `dir`/data/k.sqlite, closed, and a config naming it relatively. */
function loggerDatabase(dir: string): { config: string; database: string } {
  const database = join(dir, 'data', 'k.sqlite');
  const store = Store.open(database, { sinks: [] });
  store.recordJobRun(jobRun());
  store.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:05:00Z') }));
  store.close();
  const config = join(dir, 'k.yaml');
  writeFileSync(config, configFor('./data/k.sqlite'));
  return { config, database };
}

// One at a time: each test checks that no side file appeared, and a reader's connection (the
// integrity check) leaves -wal and -shm behind.
describe('export --output onto the database or its side files', () => {
  const temp = tempDir();
  let config = '';
  let database = '';
  let original = '';

  before(() => {
    ({ config, database } = loggerDatabase(temp.dir));
    original = sha256(database);
    mkdirSync(join(temp.dir, 'elsewhere'));
    symlinkSync(database, join(temp.dir, 'link-to-db'));
    linkSync(database, join(temp.dir, 'hard-link-to-db'));
    symlinkSync(`${database}-wal`, join(temp.dir, 'link-to-wal')); // dangling while no one has the database open
  });
  after(() => temp.remove());

  const refused = async (output: string, cwd: string, names: RegExp): Promise<void> => {
    const result = await run(['export', '--config', config, '--format', 'csv', '--output', output], { cwd });
    assertExit(result, 2);
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.includes(`--output ${output} is `), result.stderr);
    assert.ok(result.stderr.includes(database), `names the database: ${result.stderr}`);
    assert.match(result.stderr, names);
    assert.match(result.stderr, /Nothing was written; choose another file, e.g\. --output export\.csv/);
  };

  const cases: readonly (readonly [string, () => [output: string, cwd: string], RegExp])[] = [
    ['the absolute path', () => [database, temp.dir], /is the database /],
    ['a relative path from the config directory', () => ['data/k.sqlite', temp.dir], /is the database /],
    ['a relative path with .. from another working directory', () => ['../data/../data/k.sqlite', join(temp.dir, 'elsewhere')], /is the database /],
    ['a symbolic link to the database', () => ['link-to-db', temp.dir], /is the database /],
    ['a hard link to the database', () => ['hard-link-to-db', temp.dir], /is the database /],
    ['a symbolic link to its -wal that does not exist yet', () => ['link-to-wal', temp.dir], /is the write-ahead log of the database .*k\.sqlite-wal\)/],
    ['its -wal', () => ['data/k.sqlite-wal', temp.dir], /is the write-ahead log of the database /],
    ['its -shm', () => ['data/k.sqlite-shm', temp.dir], /is the write-ahead log index of the database /],
    ['its -journal', () => ['data/k.sqlite-journal', temp.dir], /is the rollback journal of the database /],
  ];
  for (const [name, where, names] of cases) {
    it(`refuses ${name} with exit 2, leaving the database byte for byte as it was`, async () => {
      const [output, cwd] = where();
      await refused(output, cwd, names);
      assert.equal(sha256(database), original);
      for (const suffix of ['-wal', '-shm', '-journal']) assert.equal(existsSync(`${database}${suffix}`), false, `no ${suffix} was created`);
      assert.equal(integrityOf(database), 'ok');
      rmSync(`${database}-wal`, { force: true }); // left by the integrity check's read-only connection
      rmSync(`${database}-shm`, { force: true });
    });
  }

  it('refuses a symbolic link to the -wal of a database the daemon has open, leaving the log intact', async () => {
    const other = tempDir();
    try {
      const { config: liveConfig, database: liveDatabase } = loggerDatabase(other.dir);
      const daemon = Store.open(liveDatabase, { sinks: [] });
      try {
        daemon.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:10:00Z') }));
        const wal = `${liveDatabase}-wal`;
        assert.ok(readFileSync(wal).length > 0, 'the writer has committed into its write-ahead log');
        const walBefore = sha256(wal);
        symlinkSync(wal, join(other.dir, 'link-to-wal'));
        const result = await run(['export', '--config', liveConfig, '--format', 'csv', '--output', 'link-to-wal'], { cwd: other.dir });
        assertExit(result, 2);
        assert.match(result.stderr, /is the write-ahead log of the database /);
        assert.equal(sha256(wal), walBefore);
        daemon.recordJobRun(jobRun({ readAt: new Date('2026-01-12T10:15:00Z') }));
      } finally {
        daemon.close();
      }
      assert.equal(integrityOf(liveDatabase), 'ok');
    } finally {
      other.remove();
    }
  });

  it('writes a file next to the database whose name only starts like it', async () => {
    const other = tempDir();
    try {
      const { config: otherConfig } = loggerDatabase(other.dir);
      const result = await run(['export', '--config', otherConfig, '--format', 'csv', '--output', 'data/k.sqlite.csv'], { cwd: other.dir });
      assertExit(result, 0);
      assert.equal(readFileSync(join(other.dir, 'data', 'k.sqlite.csv'), 'utf8').split('\n').length, 2 * 9 + 2); // header, rows, final newline
    } finally {
      other.remove();
    }
  });
});

/** The journal mode as the file records it: header bytes 18 and 19 are 2 for WAL, 1 for a rollback journal. */
function headerJournalBytes(path: string): number[] {
  return [...readFileSync(path).subarray(18, 20)];
}

describe('storage.path at something that is not the logger\'s database', { concurrency: true }, () => {
  const temp = tempDir();
  after(() => temp.remove());

  describe('another program\'s SQLite database', { concurrency: true }, () => {
    for (const command of [['run'], ['status'], ['export', '--format', 'csv']]) {
      it(`${command[0] ?? ''}: exit 2 naming the file and the fix; the file keeps its bytes, its tables and its rollback journal`, async () => {
        const path = join(temp.dir, `photos-${command[0] ?? ''}.db`);
        const db = rawDatabase(path);
        db.exec("CREATE TABLE albums (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO albums (title) VALUES ('summer');");
        db.close();
        const original = sha256(path);
        const config = join(temp.dir, `photos-${command[0] ?? ''}.yaml`);
        writeFileSync(config, configFor(path));
        const result = await run([...command, '--config', config]);
        assertExit(result, 2);
        assert.ok(result.stderr.includes(`${path} is a SQLite database of another program (tables such as albums`), result.stderr);
        assert.match(result.stderr, /Point storage\.path at the logger's own database, or at a new file/);
        assert.equal(sha256(path), original);
        assert.deepEqual(headerJournalBytes(path), [1, 1]);
        assert.equal(existsSync(`${path}-wal`), false);
        const check = rawDatabase(path, { readonly: true });
        try {
          assert.equal(check.pragma('journal_mode', { simple: true }), 'delete');
          assert.deepEqual(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all(), ['albums']);
        } finally {
          check.close();
        }
      });
    }
  });

  const fifoPath = join(temp.dir, 'fifo');
  const targets: readonly (readonly [string, () => string, string])[] = [
    ['/dev/null', () => '/dev/null', 'a device'],
    ['a FIFO', () => fifoPath, 'a named pipe'],
    ['a directory', () => temp.dir, 'a directory'],
    ['a file under /proc', () => '/proc/self/status', "a file of the kernel's proc file system"],
  ];
  before(() => execFileSync('mkfifo', [fifoPath]));
  for (const [what, pathOf, reason] of targets) {
    for (const command of [['run'], ['status'], ['export', '--format', 'csv']]) {
      it(`${what}, ${command[0] ?? ''}: exit 2 "… is not a regular file"`, async () => {
        const path = pathOf();
        const config = join(temp.dir, `${what.replace(/\W/g, '-')}-${command[0] ?? ''}.yaml`);
        writeFileSync(config, configFor(path));
        const result = await run([...command, '--config', config]);
        assertExit(result, 2);
        assert.ok(result.stderr.includes(`storage.path: ${path} is not a regular file (it is ${reason})`), result.stderr);
      });
    }
  }
});

describe('--from after --to', { concurrency: true }, () => {
  const temp = tempDir();
  let config = '';
  before(() => {
    ({ config } = loggerDatabase(temp.dir));
  });
  after(() => temp.remove());

  for (const command of [['export', '--format', 'csv'], ['backfill', '--sink', 'influxdb']]) {
    for (const [from, to] of [['2027-01-01', '2026-01-01'], ['2026-01-01T06:00:00Z', '2026-01-01T06:00:00Z']] as const) {
      it(`${command[0] ?? ''} --from ${from} --to ${to}: exit 2, nothing on stdout`, async () => {
        const result = await run([...command, '--config', config, '--from', from, '--to', to]);
        assertExit(result, 2);
        assert.equal(result.stdout, '');
        assert.ok(result.stderr.includes(`--from ${from} is not before --to ${to}: that range holds no reading (--to is exclusive). Swap them, or move --to later.`), result.stderr);
      });
    }
  }
});

interface Wrapped {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI under a wrapper command (setpriv, unshare …); killed and failed after 15 s. */
function runWrapped(wrapper: readonly string[], args: readonly string[]): Wrapped {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KAMSTRUP_') && name !== 'NODE_TEST_CONTEXT'));
  const result = spawnSync(wrapper[0] ?? '', [...wrapper.slice(1), process.execPath, binPath, ...args], { env, encoding: 'utf8', timeout: 15_000 });
  assert.equal(result.error, undefined, `${wrapper.join(' ')} kamstrup-logger ${args.join(' ')} failed to run: ${String(result.error)}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether the wrapper works here: it runs `true`. */
function wrapperWorks(wrapper: readonly string[]): boolean {
  return spawnSync(wrapper[0] ?? '', [...wrapper.slice(1), 'true'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

const isRoot = process.getuid?.() === 0;
/** A user who may read but not write root's 0644 files in 0755 directories. */
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

describe('status and export on a database this user may not write', () => {
  const temp = tempDir();
  let config = '';
  let database = '';
  let original = '';
  let expectedCsv = '';
  before(async () => {
    ({ config, database } = loggerDatabase(temp.dir));
    const result = await run(['export', '--config', config, '--format', 'csv']);
    assertExit(result, 0);
    expectedCsv = result.stdout;
    // The reference export's read-only connection leaves -wal and -shm; a reader without write
    // permission must cope without them (and could not create them).
    rmSync(`${database}-wal`, { force: true });
    rmSync(`${database}-shm`, { force: true });
    original = sha256(database);
  });
  after(() => temp.remove());

  const checkReads = (wrapper: readonly string[]): void => {
    const status = runWrapped(wrapper, ['status', '--config', config, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stderr, /config is not valid/);
    const parsed = JSON.parse(status.stdout) as { jobs: { lastRun: { readingCount: number } }[] };
    assert.equal(parsed.jobs[0]?.lastRun.readingCount, 9);
    const exported = runWrapped(wrapper, ['export', '--config', config, '--format', 'csv']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, expectedCsv);
    assert.equal(sha256(database), original);
    assert.deepEqual(headerJournalBytes(database), [2, 2]);
  };

  it('a file and directory of another user: status and export read it, and the file keeps its bytes', (t) => {
    let wrapper: readonly string[];
    if (isRoot) {
      if (!wrapperWorks(asNobody)) {
        t.skip('running as root without setpriv to become another user');
        return;
      }
      if (runWrapped(asNobody, ['--version']).code !== 0) {
        // A checkout under /root or a mkdtemp folder (0700) keeps other users out of the CLI itself.
        t.skip(`user nobody cannot run ${binPath}: a folder above the checkout is closed to other users`);
        return;
      }
      wrapper = asNobody;
      chmodSync(temp.dir, 0o755); // mkdtemp's 0700 would keep nobody out altogether
    } else {
      wrapper = ['env'];
      chmodSync(database, 0o444);
      chmodSync(join(temp.dir, 'data'), 0o555);
    }
    try {
      checkReads(wrapper);
    } finally {
      chmodSync(join(temp.dir, 'data'), 0o755);
      chmodSync(database, 0o644);
    }
  });

  it('a read-only file system (a read-only bind mount in a private mount namespace): status and export read it', (t) => {
    const data = join(temp.dir, 'data');
    // -r maps this user to root in a new user namespace, where mounting is allowed; the mount
    // exists only in that namespace and ends with the command.
    const readOnlyMount = ['unshare', '-rm', 'sh', '-c', `mount --bind "${data}" "${data}" && mount -o remount,bind,ro "${data}" && exec "$@"`, 'sh'];
    if (!wrapperWorks(readOnlyMount)) {
      t.skip('unshare cannot make a private read-only mount here (user namespaces disabled)');
      return;
    }
    const probe = runWrapped([...readOnlyMount, 'sh', '-c', `touch "${data}/probe" 2>/dev/null && exit 1; exit 0`, 'sh'], []);
    assert.equal(probe.code, 0, 'the bind mount is read-only');
    checkReads(readOnlyMount);
  });

  it('one that needs a migration: exit 2 saying to run the daemon once, not a config error; the file keeps its bytes', () => {
    const old = join(temp.dir, 'old.sqlite');
    const db = rawDatabase(old);
    migrate(db, { migrations: loadMigrations().slice(0, 1), path: old });
    db.close();
    const originalOld = sha256(old);
    const oldConfig = join(temp.dir, 'old.yaml');
    writeFileSync(oldConfig, configFor(old));
    for (const command of [['status'], ['export', '--format', 'csv']]) {
      const result = runWrapped(['env'], [...command, '--config', oldConfig]);
      assert.equal(result.code, 2, result.stderr);
      assert.doesNotMatch(result.stderr, /config is not valid/);
      assert.match(result.stderr, /has schema version 1 and this kamstrup-logger reads version \d+; opened read-only, it cannot be upgraded here\. Run the daemon \(kamstrup-logger run\) of this version once/);
    }
    assert.equal(sha256(old), originalOld);
  });
});
