// The config's storage-path check: what can never hold a database (a device, a FIFO, a
// directory, a /proc file) is refused for every command; write permission is asked only of the
// commands that write, through the permission probe (root may write whatever the mode says).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { storageProblem } from '../../src/config/index.js';
import { loadYaml, minimal, problemAt, problemsOf, tempDir } from './helpers.js';
import { whileImmutable } from '../support/file-systems.js';

const nothingWritable = (): boolean => false;

describe('storage.path: not a regular file', () => {
  const fifo = (): string => {
    const path = join(tempDir(), 'fifo');
    execFileSync('mkfifo', [path]);
    return path;
  };
  for (const [what, pathOf, reason] of [
    ['/dev/null', (): string => '/dev/null', 'it is a device'],
    ['a FIFO', fifo, 'it is a named pipe'],
    ['a file under /proc', (): string => '/proc/self/status', "it is a file of the kernel's proc file system"],
  ] as const) {
    for (const access of ['write', 'read'] as const) {
      it(`${what} is refused for ${access} access: "… is not a regular file"`, () => {
        const path = pathOf();
        assert.equal(storageProblem(path, access), `${path} is not a regular file (${reason}); name a database file on a disk, e.g. ./data/kamstrup.sqlite`);
      });
    }
  }

  it('a new file under /proc is refused too', () => {
    assert.equal(storageProblem('/proc/kamstrup.sqlite', 'read'), "/proc/kamstrup.sqlite is not a regular file: /proc is on the kernel's proc file system; name a database file on a disk, e.g. ./data/kamstrup.sqlite");
  });

  it('a directory is refused, naming a file in it', () => {
    const directory = tempDir();
    assert.equal(storageProblem(directory, 'read'), `${directory} is not a regular file (it is a directory); name the database file in it, e.g. ${join(directory, 'kamstrup.sqlite')}`);
  });

  it('reaches the config problems with its key and line', () => {
    assert.deepEqual(problemAt(problemsOf(`${minimal}storage:\n  path: /dev/null\n`), 'storage.path'), {
      key: 'storage.path',
      line: 5,
      message: '/dev/null is not a regular file (it is a device); name a database file on a disk, e.g. ./data/kamstrup.sqlite',
    });
  });
});

describe('storage.path: write permission only where the command writes', () => {
  it('an existing file the user may not write: a problem for write access, none for read access', () => {
    const path = join(tempDir(), 'k.sqlite');
    writeFileSync(path, '');
    assert.equal(storageProblem(path, 'write', nothingWritable), `${path} is not writable by this user`);
    assert.equal(storageProblem(path, 'read', nothingWritable), null);
  });

  it('a file in a directory the user may not write: a problem for write access, none for read access', () => {
    const directory = tempDir();
    const path = join(directory, 'k.sqlite');
    writeFileSync(path, '');
    const onlyTheFile = (probed: string): boolean => probed === path;
    assert.match(storageProblem(path, 'write', onlyTheFile) ?? '', /^the directory .* is not writable by this user \(SQLite keeps its journal files next to the database\)$/);
    assert.equal(storageProblem(path, 'read', onlyTheFile), null);
  });

  it('a new file in a directory the user may not write: a problem for write access only', () => {
    const directory = join(tempDir(), 'data');
    mkdirSync(directory);
    const path = join(directory, 'k.sqlite');
    assert.equal(storageProblem(path, 'write', nothingWritable), `cannot create ${path}: the directory ${directory} is not writable by this user`);
    assert.equal(storageProblem(path, 'read', nothingWritable), null);
  });

  it('loadConfig asks for write permission by default and not for storageAccess read (a real immutable file)', (t) => {
    const directory = tempDir();
    const path = join(directory, 'k.sqlite');
    writeFileSync(path, '');
    whileImmutable(path, t, () => {
      const yaml = `${minimal}storage:\n  path: ${path}\n`;
      assert.equal(problemAt(problemsOf(yaml), 'storage.path').message, `${path} is not writable by this user`);
      assert.equal(loadYaml(yaml, { storageAccess: 'read' }).config.storage.path, path);
    });
  });
});
