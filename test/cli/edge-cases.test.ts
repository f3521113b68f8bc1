// Edge cases found by review: a reader that closes the pipe early, numbers beyond what a
// timer or the line can take, a port that no bridge listens on.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertExit, exitOf, killAll, run, spawnCli } from './helpers.js';

const SIM = 'sim://multical-402';

describe('edge cases', { concurrency: true }, () => {
  after(killAll);

  it(
    'a reader that closes stdout early (`kamstrup-logger registers | head -1`) ends the CLI quietly',
    async () => {
      const child = spawnCli(['registers']);
      child.stdout?.destroy();
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const { signal } = await exitOf(child).finally(() => clearTimeout(timer));
      assert.equal(signal, null);
      assert.doesNotMatch(stderr, /Unhandled 'error' event|EPIPE/);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    },
  );

  it(
    '--timeout beyond what a timer can hold (3000000000) is refused or honoured, not turned into 1 ms',
    async () => {
      const result = await run(['read', '--meter', `${SIM}?turnaround_ms=300`, '--timeout', '3000000000', '--retries', '0', '60']);
      assert.ok(result.code === 0 || result.code === 2, `exit ${String(result.code)}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /TimeoutOverflowWarning/);
    },
  );

  it(
    'simulate --baud 0 and --fault-every 0 are bad usage, as baud=0 in a sim URL is',
    async () => {
      const url = await run(['read', '--meter', `${SIM}?pace=1&baud=0`, '60']);
      assertExit(url, 2);
      // A simulator that started would serve until killed: the bound only has to outlast a slow start.
      const fault = await run(['simulate', '--listen', 'tcp://127.0.0.1:0', '--fault-every', '0'], { timeoutMs: 30_000 });
      assertExit(fault, 2);
      const result = await run(['simulate', '--listen', 'tcp://127.0.0.1:0', '--pace', '--baud', '0'], { timeoutMs: 30_000 });
      assertExit(result, 2);
      assert.match(result.stderr, /--baud/);
    },
  );

  it('a TCP URL with port 0 is bad usage: no bridge listens there', async () => {
    const result = await run(['read', '--meter', 'tcp://127.0.0.1:0', '60']);
    assertExit(result, 2);
    assert.match(result.stderr, /port 0 is not a bridge's port/);
  });
});
