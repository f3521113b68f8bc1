// Real file-system states for tests that need them as root (CI runs as root): a small tmpfs to
// fill up, a file that cannot be written even by root. Each skips the test with a notice where
// the machine cannot make it.

import { execFileSync } from 'node:child_process';
import { appendFileSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TestContext } from 'node:test';

/** Mounts a tmpfs of `size` (e.g. "1m") on `dir`; false, with the test skipped, where mounting is refused. */
export function mountSmallTmpfs(dir: string, size: string, t: TestContext): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (error) {
    t.skip(`cannot mount a small tmpfs to fill up (${(error as Error).message.split('\n')[0] ?? ''}): run as root (CI does)`);
    return false;
  }
}

/** Fills the file system that holds `path` with one file at `path`, to the last block. */
export function fillUp(path: string): void {
  const { bavail, bsize } = statfsSync(dirname(path));
  try {
    writeFileSync(path, Buffer.alloc(Number(bavail) * Number(bsize)));
    for (;;) appendFileSync(path, Buffer.alloc(512));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
}

/**
 * Runs `work` while `path` is immutable (chattr +i, which holds even for root, whom the mode
 * bits do not stop); skips the test where chattr cannot (not root, a file system without it).
 */
export function whileImmutable(path: string, t: TestContext, work: () => void): void {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
  } catch {
    t.skip('chattr +i is not available here (not root, or a file system without immutable files)');
    return;
  }
  try {
    work();
  } finally {
    execFileSync('chattr', ['-i', path]);
  }
}
