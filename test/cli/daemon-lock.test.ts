// One daemon per database, through the real binary: a second `run` on the same config exits 2
// at once naming the first one's pid while the first keeps storing runs; status and export keep
// working beside it; after a stop the next daemon starts; a lock left by a process that is gone,
// or holding garbage, is taken over.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertExit, exitOf, killAll, run, startCli, tempDir } from './helpers.js';

/** How many "job run ok" JSON lines the output holds so far. */
function runsOk(stdout: string): number {
  return stdout.split('\n').filter((line) => line.includes('"msg":"job run ok"')).length;
}

/** A config in a fresh folder reading the simulator every second into ./k.sqlite; the lock's path beside it. */
function liveConfig(): { config: string; lockPath: string; remove(): void } {
  const folder = tempDir('kamstrup-lock-');
  const config = join(folder.dir, 'kamstrup-logger.yaml');
  writeFileSync(
    config,
    `meters:
  - name: home
    url: sim://multical-402
storage:
  path: ./k.sqlite
jobs:
  - name: live
    cron: "* * * * * *"
    registers: [heat_energy, power]
`,
  );
  return { config, lockPath: join(realpathSync(folder.dir), 'k.sqlite.lock'), remove: folder.remove };
}

/** The pid of a process that has exited: the node child was spawned and waited for. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined, 'the child got no pid');
  await exitOf(child);
  return pid;
}

describe('run: one daemon per database', { concurrency: true }, () => {
  after(killAll);

  it('a second daemon on the same config exits 2 naming the first, which keeps storing runs; status and export work beside it', async () => {
    const { config, lockPath, remove } = liveConfig();
    try {
      const first = startCli(['run', '--config', config]);
      await first.waitFor((stdout) => runsOk(stdout) >= 1, 'a "job run ok" line');

      const second = await run(['run', '--config', config], { timeoutMs: 10_000 });
      assertExit(second, 2);
      assert.match(second.stderr, new RegExp(`another kamstrup-logger \\(pid ${first.child.pid}\\) is using the database .*k\\.sqlite: stop it first \\(systemctl stop kamstrup-logger`));
      assert.match(second.stderr, /or give this one its own storage\.path/);
      assert.doesNotMatch(second.stdout, /job run ok/, 'the second daemon read nothing');
      assert.equal(readFileSync(lockPath, 'utf8').split('\n')[0], String(first.child.pid), 'the lock holds the first daemon, left alone by the refused one');

      const status = await run(['status', '--config', config]);
      assertExit(status, 0);
      const csv = await run(['export', '--config', config, '--format', 'csv']);
      assertExit(csv, 0);
      assert.match(csv.stdout, /heat_energy/);

      const before = runsOk(first.stdout());
      await first.waitFor((stdout) => runsOk(stdout) > before, 'a run stored after the refusal');
      const stopped = await first.stop('SIGTERM');
      assertExit(stopped, 0);
      assert.ok(!existsSync(lockPath), 'a clean stop removes the lock');

      const next = startCli(['run', '--config', config]);
      await next.waitFor((stdout) => runsOk(stdout) >= 1, 'a "job run ok" line from the next daemon');
      assertExit(await next.stop('SIGTERM'), 0);
    } finally {
      remove();
    }
  });

  for (const [what, content] of [
    ['a pid that is no longer running', async (): Promise<string> => `${await deadPid()}\nsomewhere\n`],
    ['garbage', (): Promise<string> => Promise.resolve('not a pid\n\u0000\u00ff')],
    ['nothing', (): Promise<string> => Promise.resolve('')],
  ] as const) {
    it(`a lock holding ${what} is taken over`, async () => {
      const { config, lockPath, remove } = liveConfig();
      try {
        writeFileSync(lockPath, await content());
        const daemon = startCli(['run', '--config', config]);
        await daemon.waitFor((stdout) => runsOk(stdout) >= 1, 'a "job run ok" line');
        assert.equal(readFileSync(lockPath, 'utf8').split('\n')[0], String(daemon.child.pid), 'the lock is the new daemon');
        assertExit(await daemon.stop('SIGTERM'), 0);
        assert.ok(!existsSync(lockPath), 'a clean stop removes the lock');
      } finally {
        remove();
      }
    });
  }
});
