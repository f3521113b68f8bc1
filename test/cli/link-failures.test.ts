// A meter or link that fails ends the command with exit 1 and a message that says what to do.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveHostileBridge } from '../support/simulators.js';
import { assertExit, killAll, run, unusedPort, type RunResult } from './helpers.js';

const SIM = 'sim://multical-402';
/** Kills a read that hangs; far above the ~4 s its attempts take, even on a loaded machine. */
const LONG_RUN_MS = 60_000;

function assertFailure(result: RunResult): void {
  assertExit(result, 1);
  assert.equal(result.stdout, '', 'nothing on stdout');
  assert.match(result.stderr, /^kamstrup-logger: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('link and meter failures exit 1 with a clear message', { concurrency: true }, () => {
  after(killAll);

  it('a serial device that does not exist', async () => {
    const result = await run(['read', '--meter', '/dev/does-not-exist-kam', '60']);
    assertFailure(result);
    assert.match(result.stderr, /\/dev\/does-not-exist-kam/);
    assert.match(result.stderr, /plugged in/);
    assert.doesNotMatch(result.stderr, /after \d+ attempts/, 'a missing device is not retried');
  });

  it('a serial:// URL for a device that does not exist', async () => {
    const result = await run(['info', '--meter', 'serial:///dev/does-not-exist-kam?baud=2400']);
    assertFailure(result);
    assert.match(result.stderr, /\/dev\/does-not-exist-kam/);
    assert.match(result.stderr, /plugged in/);
  });

  it('a TCP bridge port nothing listens on', async () => {
    const port = await unusedPort();
    const result = await run(['read', '--meter', `tcp://127.0.0.1:${port}`, '60']);
    assertFailure(result);
    assert.match(result.stderr, /connection refused/i);
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}\\b`));
  });

  it('a meter that stays silent, after the retries', async () => {
    const bridge = await serveHostileBridge({ bytes: 'silence' });
    try {
      const result = await run(['read', '--meter', `tcp://127.0.0.1:${bridge.port}`, '--timeout', '200', '--retries', '1', '60'], { timeoutMs: LONG_RUN_MS });
      assertFailure(result);
      assert.match(result.stderr, /no answer/);
      assert.match(result.stderr, /after 2 attempts/);
      assert.equal(bridge.requests, 2, 'the request and one retry reached the bridge');
    } finally {
      await bridge.close();
    }
  });

  it('a bridge that sends bytes forever and never a KMP answer', async () => {
    const bridge = await serveHostileBridge({ bytes: 'random', chunkBytes: 64, everyMs: 1 });
    try {
      const result = await run(['read', '--meter', `tcp://127.0.0.1:${bridge.port}`, '--timeout', '200', '--retries', '0', '60'], { timeoutMs: LONG_RUN_MS });
      assertFailure(result);
      assert.match(result.stderr, /kept sending bytes that were no KMP answer/);
      assert.match(result.stderr, /check that the bridge talks to the head at 1200 baud 8N2/);
      assert.equal(bridge.requests, 1);
    } finally {
      await bridge.close();
    }
  });

  it('a meter whose answers are all corrupted', async () => {
    const result = await run(['read', '--meter', `${SIM}?fault=crc-error`, '--retries', '0', '60']);
    assertFailure(result);
    assert.match(result.stderr, /garbled/);
    assert.match(result.stderr, /after 1 attempt\b/);
  });

  it('info on a silent meter', async () => {
    const result = await run(['info', '--meter', `${SIM}?fault=no-answer`, '--timeout', '100', '--retries', '0']);
    assertFailure(result);
    assert.match(result.stderr, /no answer/);
  });

  it('scan on a meter whose answers are all corrupted', async () => {
    const result = await run(['scan', '--meter', `${SIM}?fault=crc-error`, '--retries', '0', '--json']);
    assertFailure(result);
    assert.match(result.stderr, /garbled/);
  });
});
