// How the daemon ends, through the real binary: SIGHUP stops it like SIGTERM; a second signal
// while it stops forces the stop (exit 128 + the signal); a run cut short by the stop is recorded
// as stopped by it; a full disk at the stop and a damaged database exit 1 and say what was lost.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, realpathSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertExit, exitOf, killAll, parseJsonLines, startCli, tempDir, type JsonObject, type RunningCli } from '../cli/helpers.js';
import { rawDatabase } from '../store/helpers.js';
import { fillUp, mountSmallTmpfs } from '../support/file-systems.js';
import { Store } from '../../src/store/index.js';

interface LogLine extends JsonObject {
  readonly level: string;
  readonly msg: string;
}

const lines = (stdout: string): LogLine[] => parseJsonLines(stdout) as LogLine[];
const count = (stdout: string, msg: string): number => stdout.split('\n').filter((line) => line.includes(`"msg":"${msg}`)).length;

const STATISTICS = 'max_flow_month, max_flow_date_month, min_flow_month, min_flow_date_month, max_power_month, max_power_date_month, min_power_month, min_power_date_month, avg_t1_month, avg_t2_month, max_flow_year, max_flow_date_year, min_flow_year, min_flow_date_year, max_power_year, max_power_date_year, min_power_year, min_power_date_year, avg_t1_year, avg_t2_year';

/** Waits for the child to exit by itself; kills it and fails after `ms`. */
async function exitBySelf(daemon: RunningCli, ms = 15_000): Promise<{ code: number | null; stdout: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      daemon.child.kill('SIGKILL');
      reject(new Error(`did not exit by itself within ${ms} ms\n${daemon.stdout()}\n${daemon.stderr()}`));
    }, ms);
  });
  try {
    const { code } = await Promise.race([exitOf(daemon.child), timeout]);
    return { code, stdout: daemon.stdout() };
  } finally {
    clearTimeout(timer);
  }
}

function writeConfig(dir: string, meterUrl: string, options: { registers?: string; meter?: string } = {}): string {
  const path = join(dir, 'kamstrup-logger.yaml');
  writeFileSync(
    path,
    `meters:
  - name: home
    url: "${meterUrl}"
${options.meter ?? ''}
storage:
  path: ./k.sqlite
jobs:
  - name: live
    cron: "* * * * * *"
    registers: ${options.registers ?? '[heat_energy, power, t1]'}
`,
  );
  return path;
}

/** A TCP bridge that takes connections and never says a word. */
async function silentBridge(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('run: how the daemon stops', { concurrency: true }, () => {
  const temp = tempDir('kamstrup-stop-');
  after(async () => {
    await killAll();
    temp.remove();
  });
  const folder = (name: string): string => {
    const dir = join(temp.dir, name);
    mkdirSync(dir);
    return dir;
  };

  it('SIGHUP stops it gracefully like SIGTERM: exit 0, "stopped" last, every run it logged stored', async () => {
    const dir = folder('hup');
    const daemon = startCli(['run', '--config', writeConfig(dir, 'sim://multical-402')]);
    await daemon.waitFor((stdout) => count(stdout, 'job run ok') >= 2, 'two "job run ok" lines');
    const result = await daemon.stop('SIGHUP');
    assert.equal(result.signal, null, `ended by its own exit, not killed by SIGHUP\n${result.stdout}`);
    assertExit(result, 0);
    const log = lines(result.stdout);
    assert.equal(log.at(-1)?.msg, 'stopped');
    const store = Store.open(join(dir, 'k.sqlite'), { sinks: [] });
    try {
      assert.equal(new Set([...store.exportReadings({})].map((row) => row.readAt.getTime())).size, count(result.stdout, 'job run ok'));
    } finally {
      store.close();
    }
  });

  for (const [first, second, code] of [['SIGTERM', 'SIGINT', 130], ['SIGHUP', 'SIGTERM', 143]] as const) {
    it(`a second signal while it stops forces the stop: ${first} then ${second} exits ${code}, saying what it abandoned, and removes the lock`, async () => {
      const bridge = await silentBridge();
      try {
        const dir = folder(`force-${first}-${second}`);
        // A meter that never answers, with a long timeout: a run is in flight for a minute.
        const daemon = startCli(['run', '--config', writeConfig(dir, `tcp://127.0.0.1:${bridge.port}`, { meter: '    timeout_ms: 60000\n    retries: 0' })]);
        await daemon.waitFor((stdout) => count(stdout, 'job skipped') >= 1, 'a run in flight (the next tick skipped)');
        daemon.child.kill(first);
        await daemon.waitFor((stdout) => count(stdout, 'stopping') >= 1, 'the "stopping" line');
        const result = await daemon.stop(second);
        assert.equal(result.code, code, `exit ${code}\n${result.stdout}\n${result.stderr}`);
        const last = lines(result.stdout).at(-1);
        assert.equal(last?.level, 'error');
        assert.match(last?.msg ?? '', new RegExp(`^stop forced by ${second}: abandoned 1 job run in flight and 0 job runs \\(0 readings\\) not stored$`));
        assert.ok(!existsSync(`${realpathSync(join(dir, 'k.sqlite'))}.lock`), 'the forced stop removed the lock: the next start needs no takeover');
      } finally {
        await bridge.close();
      }
    });
  }

  it('SIGTERM stops it whatever the line does: a meter that never answers (60 s timeout) does not hold the stop', async () => {
    const bridge = await silentBridge();
    try {
      const dir = folder('silent');
      const daemon = startCli(['run', '--config', writeConfig(dir, `tcp://127.0.0.1:${bridge.port}`, { meter: '    timeout_ms: 60000\n    retries: 0' })]);
      await daemon.waitFor((stdout) => count(stdout, 'job skipped') >= 1, 'a run in flight (the next tick skipped)');
      // The bound is the test's guard against a hang, far below the exchange's own 60 s.
      const result = await daemon.stop('SIGTERM', 15_000);
      assertExit(result, 0);
      assert.equal(lines(result.stdout).at(-1)?.msg, 'stopped');
    } finally {
      await bridge.close();
    }
  });

  it('SIGTERM with a sink that takes connections and never answers (timeout_ms 60 s): it still exits by itself, 0, "stopped" last', async () => {
    const sockets = new Set<net.Socket>();
    let received = '';
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const dir = folder('mute-sink');
      const path = writeConfig(dir, 'sim://multical-402');
      const { port } = server.address() as net.AddressInfo;
      appendFileSync(path, `sinks:\n  influxdb:\n    url: http://127.0.0.1:${port}\n    api: v2\n    token: t0ken\n    org: home\n    bucket: heat\n    timeout_ms: 60000\n`);
      const daemon = startCli(['run', '--config', path]);
      await daemon.waitFor(() => received.includes('POST /api/v2/write'), 'a write held by the server');
      // The bound is the test's guard against a hang, far below the write's own 60 s.
      const result = await daemon.stop('SIGTERM', 15_000);
      assertExit(result, 0);
      assert.equal(lines(result.stdout).at(-1)?.msg, 'stopped');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('SIGTERM in the middle of a long job: the run keeps what it read and is recorded as stopped by SIGTERM, not as a closed client', async () => {
    const dir = folder('mid-run');
    // 300 baud, paced: each of the four batches of 8 registers takes about 3 s on the line, so the
    // first is read within the stop's budget and at least two are left when it runs out.
    const registers = `[heat_energy, power, t1, t2, t_diff, flow, volume, hour_counter, info, ${STATISTICS}, clock, date, serial_number]`;
    const daemon = startCli(['run', '--config', writeConfig(dir, 'sim://multical-402?pace=1&baud=300', { registers, meter: '    timeout_ms: 2000' })]);
    await daemon.waitFor((stdout) => count(stdout, 'job skipped') >= 3, 'a run 3 s in flight (three ticks skipped)');
    const result = await daemon.stop('SIGTERM', 20_000);
    assertExit(result, 0);
    assert.doesNotMatch(result.stdout, /is closed/);
    const cut = lines(result.stdout).find((line) => line.msg.startsWith('job run'));
    assert.match(cut?.msg ?? '', /^job run cut short by the stop: stopped by SIGTERM before reading /, result.stdout);
    assert.equal(cut?.level, 'info');
    const store = Store.open(join(dir, 'k.sqlite'), { sinks: [] });
    try {
      const run = store.status().jobs[0]?.lastRun;
      assert.equal(run?.outcome, 'partial');
      assert.ok((run?.readingCount ?? 0) >= 8, `the registers read before the stop are stored (${run?.readingCount})`);
      assert.match(run?.error ?? '', /^stopped by SIGTERM before reading [a-z_0-9]+(, [a-z_0-9]+)*; the next run reads them$/);
    } finally {
      store.close();
    }
  });

  it('an index page overwritten between runs: exit 1 with the fix (a backup, or sqlite3 .recover), never "job run ok" after', async () => {
    const dir = folder('damaged');
    const database = join(dir, 'k.sqlite');
    const daemon = startCli(['run', '--config', writeConfig(dir, 'sim://multical-402')]);
    await daemon.waitFor((stdout) => count(stdout, 'job run ok') >= 2, 'two "job run ok" lines');
    // Between two runs: move the WAL into the file, then write garbage over the readings' index.
    const db = rawDatabase(database);
    let root: number;
    let pageSize: number;
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      root = (db.prepare("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'readings'").get() as { rootpage: number }).rootpage;
      pageSize = db.pragma('page_size', { simple: true }) as number;
    } finally {
      db.close();
    }
    damagePage(database, root, pageSize);
    const result = await exitBySelf(daemon);
    assert.equal(result.code, 1, result.stdout);
    const log = lines(result.stdout);
    const fatal = log.findIndex((line) => line.level === 'fatal');
    assert.ok(fatal >= 0, result.stdout);
    assert.match(log[fatal]?.msg ?? '', /^cannot store readings, stopping \(retrying cannot help\): the database .*k\.sqlite is damaged \(database disk image is malformed\) /);
    assert.ok(log[fatal]?.msg.includes(`restore a backup, or rescue what it holds: sqlite3 ${database} ".recover" | sqlite3 recovered.sqlite`), log[fatal]?.msg);
    assert.ok(!log.slice(fatal).some((line) => line.msg === 'job run ok'), `no "job run ok" once the store failed:\n${result.stdout}`);
    assert.match(log.at(-2)?.msg ?? '', /^\d+ job runs? \(\d+ readings\) could not be stored and are lost: the store failed$/);
    assert.equal(log.at(-1)?.msg, 'stopped');
  });

  it('disk full, then SIGTERM while still full: exit 1, saying how many runs and readings could not be stored', async (t) => {
    const dir = folder('full');
    if (!mountSmallTmpfs(dir, '1m', t)) return;
    try {
      const daemon = startCli(['run', '--config', writeConfig(dir, 'sim://multical-402')]);
      await daemon.waitFor((stdout) => count(stdout, 'job run ok') >= 2, 'two "job run ok" lines');
      fillUp(join(dir, 'filler'));
      await daemon.waitFor((stdout) => count(stdout, 'job run read, not yet stored') >= 2, 'two runs read while the disk is full');
      const result = await daemon.stop('SIGTERM');
      assertExit(result, 1);
      const log = lines(result.stdout);
      const refused = log.findIndex((line) => line.msg.startsWith('cannot store readings; keeping them in memory'));
      assert.ok(refused >= 0, result.stdout);
      assert.ok(!log.slice(refused).some((line) => line.msg === 'job run ok'), `no "job run ok" while nothing is stored:\n${result.stdout}`);
      const waiting = log.filter((line) => line.msg === 'job run read, not yet stored').at(-1)?.waiting as number;
      const lost = log.at(-2);
      assert.equal(lost?.level, 'error');
      assert.match(lost?.msg ?? '', /^(\d+) job runs? \((\d+) readings\) could not be stored and are lost: the store still refused them at the stop$/);
      assert.ok((lost?.unstored as number) >= waiting && lost?.readings === 3 * (lost?.unstored as number), JSON.stringify(lost));
      assert.equal(log.at(-1)?.msg, 'stopped');
    } finally {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Writes a page of garbage over page `page` (1-based) of the database file. */
function damagePage(path: string, page: number, pageSize: number): void {
  const file = openSync(path, 'r+');
  try {
    writeSync(file, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(file);
  }
}
