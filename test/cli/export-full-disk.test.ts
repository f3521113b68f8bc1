// An export onto a full disk: a clear "the disk is full", exit 1, and no half file left behind —
// not an uncaught ENOSPC. stdout on /dev/full takes the same words, for every command.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { jobRun } from '../store/helpers.js';
import { fillUp, mountSmallTmpfs } from '../support/file-systems.js';
import { assertExit, binPath, run, tempDir } from './helpers.js';

describe('export onto a full disk', () => {
  const temp = tempDir();
  after(() => temp.remove());
  const database = join(temp.dir, 'k.sqlite');
  const config = join(temp.dir, 'k.yaml');
  const store = Store.open(database, { sinks: [] });
  for (let i = 0; i < 200; i++) store.recordJobRun(jobRun({ readAt: new Date(Date.UTC(2026, 0, 1, 0, i)) }));
  store.close();
  writeFileSync(config, 'meters:\n  - { name: home, url: "sim://multical-402" }\nstorage:\n  path: ./k.sqlite\n');

  it('stdout on /dev/full: exit 1, "cannot write to stdout: the disk is full", no stack', (t) => {
    if (!existsSync('/dev/full')) {
      t.skip('no /dev/full on this system');
      return;
    }
    const full = openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [binPath, 'export', '--config', config, '--format', 'csv'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 15_000 });
      assert.equal(result.status, 1, result.stderr);
      assert.equal(result.stderr, 'kamstrup-logger: cannot write to stdout: the disk is full; the output is incomplete\n');
    } finally {
      closeSync(full);
    }
  });

  it('--output on a full file system: exit 1 naming the file and the cause, the incomplete file removed', async (t) => {
    const mountPoint = join(temp.dir, 'full');
    mkdirSync(mountPoint);
    if (!mountSmallTmpfs(mountPoint, '64k', t)) return;
    try {
      fillUp(join(mountPoint, 'fill'));
      const output = join(mountPoint, 'export.json');
      const result = await run(['export', '--config', config, '--format', 'json', '--output', output]);
      assertExit(result, 1);
      assert.match(result.stderr, new RegExp(`the export could not be written to ${output}: the disk is full; the incomplete file was removed`));
      assert.deepEqual(readdirSync(mountPoint), ['fill']);
    } finally {
      execFileSync('umount', ['-l', mountPoint]);
    }
  });
});
