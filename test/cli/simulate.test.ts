// Two processes: `simulate` serves a meter over TCP or on a pseudo-terminal (through socat),
// and `read` talks to it through the real TCP and serialport links.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asReading, assertExit, killAll, parseJsonLines, run, startSimulator, tempDir } from './helpers.js';
import { skipUnlessOnPath } from '../support/programs.js';

const TCP_READY = /listening on tcp:\/\/127\.0\.0\.1:(\d+)$/m;
const PTY_READY = /on pseudo-terminal (\S+)$/m;
/** "promptly": a stopped simulator closes its server and exits within this. */

describe('simulate --listen (TCP)', () => {
  after(killAll);

  it('serves `read` in another process and exits 0 on SIGTERM', async () => {
    const simulator = await startSimulator(['--listen', 'tcp://127.0.0.1:0', '--echo'], TCP_READY);
    const port = Number(simulator.endpoint);
    assert.ok(Number.isInteger(port) && port > 0, simulator.stdout());
    assert.match(simulator.stdout(), /^simulated multical-402 serial 70000402 listening on tcp:\/\/127\.0\.0\.1:\d+\n$/);

    const result = await run(['read', '--meter', `tcp://127.0.0.1:${port}`, '--json', 'heat_energy', 't1']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    const readings = parseJsonLines(result.stdout).map(asReading);
    assert.deepEqual(
      readings.map((r) => [r.id, r.name, r.unit]),
      [
        [60, 'heat_energy', 'MWh'],
        [86, 't1', '°C'],
      ],
    );

    // A second client on the same running simulator.
    const info = await run(['info', '--meter', `tcp://127.0.0.1:${port}`, '--json']);
    assertExit(info, 0);
    assert.equal(parseJsonLines(info.stdout)[0]?.serial, 70000402);

    const stopped = await simulator.stop('SIGTERM', 5000);
    assert.equal(stopped.signal, null, 'exits by itself, not killed by the signal');
    assert.equal(stopped.code, 0);
    assert.equal(simulator.stderr(), '');

    const afterStop = await run(['read', '--meter', `tcp://127.0.0.1:${port}`, '60']);
    assertExit(afterStop, 1);
    assert.match(afterStop.stderr, /connection refused/i, 'the port is closed once the simulator stopped');
  });

  it('passes its options to the meter and exits 0 on SIGINT', async () => {
    const simulator = await startSimulator(['--listen', 'tcp://127.0.0.1:0', '--serial', '12345678', '--energy-unit', 'kWh'], TCP_READY);
    assert.match(simulator.stdout(), /serial 12345678 /);
    const result = await run(['read', '--meter', `tcp://127.0.0.1:${simulator.endpoint}`, '--json', 'heat_energy', 'serial_number']);
    assertExit(result, 0);
    const [energy, serial] = parseJsonLines(result.stdout).map(asReading);
    assert.equal(energy?.unit, 'kWh');
    assert.match(energy?.value ?? '', /^\d+$/);
    assert.equal(serial?.value, '12345678');

    const stopped = await simulator.stop('SIGINT', 5000);
    assert.equal(stopped.code, 0);
  });

  it('serves injected faults that the reader over TCP survives', async () => {
    const simulator = await startSimulator(['--listen', 'tcp://127.0.0.1:0', '--echo', '--fault', 'garbage', '--fault', 'stray-zero'], TCP_READY);
    const result = await run(['read', '--meter', `tcp://127.0.0.1:${simulator.endpoint}`, '--json', '60', '80']);
    assertExit(result, 0);
    assert.deepEqual(
      parseJsonLines(result.stdout)
        .map(asReading)
        .map((r) => r.id),
      [60, 80],
    );
    assertExit(await simulator.stop(), 0);
  });

  it('fails with exit 1 when the port is taken', async () => {
    const first = await startSimulator(['--listen', 'tcp://127.0.0.1:0'], TCP_READY);
    const second = await run(['simulate', '--listen', `tcp://127.0.0.1:${first.endpoint}`]);
    assertExit(second, 1);
    assert.equal(second.stdout, '');
    assert.match(second.stderr, new RegExp(`cannot listen on tcp://127\\.0\\.0\\.1:${first.endpoint}`));
    assertExit(await first.stop(), 0);
  });
});

const socatMissing = skipUnlessOnPath('socat', 'socat not installed (apt install socat): simulate --pty tests skipped');

describe('simulate --pty (serialport through socat)', { skip: socatMissing }, () => {
  const { dir, remove } = tempDir();

  after(async () => {
    await killAll();
    remove();
  });

  it('serves `read --meter <pty path>` through the real serial stack', async () => {
    const path = join(dir, 'ttyKAM');
    const simulator = await startSimulator(['--pty', path], PTY_READY);
    assert.equal(simulator.endpoint, path);
    assert.ok(existsSync(path), `${path} exists while the simulator runs`);

    const result = await run(['read', '--meter', path, '60', '80']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]?.split(/ {2,}/), ['register', 'id', 'value', 'unit']);
    assert.match(lines[1] ?? '', /^heat_energy {2,}60 {2,}\d+\.\d{3} {2,}MWh$/);
    assert.match(lines[2] ?? '', /^power {2,}80 {2,}\d+\.\d {2,}kW$/);
    assert.equal(lines.length, 3);

    // The pseudo-terminal stays usable for the next program (socat's ignoreeof).
    const again = await run(['info', '--meter', `serial://${path}`, '--json']);
    assertExit(again, 0);
    assert.equal(parseJsonLines(again.stdout)[0]?.serial, 70000402);

    const stopped = await simulator.stop('SIGTERM', 5000);
    assert.equal(stopped.code, 0);
    assert.ok(!existsSync(path), 'the pseudo-terminal link is removed on exit');
  });

  it('refuses to replace a file that is not a pseudo-terminal link', async () => {
    const path = join(dir, 'not-a-tty');
    await writeFile(path, 'keep me\n');
    const result = await run(['simulate', '--pty', path]);
    assertExit(result, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /not a pseudo-terminal link/);
    assert.ok(existsSync(path));
  });
});

describe('simulate --pty without socat', () => {
  const { dir, remove } = tempDir();

  after(async () => {
    await killAll();
    remove();
  });

  it('exits 1 and says how to install it', async () => {
    // An empty PATH: the CLI itself runs by absolute path, socat cannot be found.
    const result = await run(['simulate', '--pty', join(dir, 'ttyKAM')], { env: { PATH: dir } });
    assertExit(result, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /socat is not installed/);
    assert.ok(!existsSync(join(dir, 'ttyKAM')));
  });
});
