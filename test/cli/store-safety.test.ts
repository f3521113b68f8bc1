// What the commands must never do to the database, through the real binary on real files:
// export writing over the database or its side files, a storage path at another program's
// database or at something that is no file, a time range that is backwards.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { jobRun, rawDatabase } from '../store/helpers.js';
import { assertExit, run, tempDir } from './helpers.js';

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
