// The daemon on real second-resolution cron ticks against the simulator, over a real TCP
// socket and through the serial stack on a pseudo-terminal: shared timestamps, jobs that
// never interleave on one meter, faults and a dropped bridge in the middle of a run.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { KmpRequest } from '../../src/kmp/index.js';
import type { SimulatedMeter } from '../../src/simulator/meter-port.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { serveSimulatorOverPty } from '../../src/simulator/pty-server.js';
import { serveSimulatorOverTcp } from '../../src/simulator/tcp-server.js';
import type { ExportRow } from '../../src/store/index.js';
import { rawDatabase } from '../store/helpers.js';
import { skipUnlessOnPath } from '../support/programs.js';
import { sleep, startDaemon } from '../support/daemon.js';

const STATISTICS = '[max_flow_month, max_flow_date_month, min_flow_month, min_flow_date_month, max_power_month, max_power_date_month, min_power_month, min_power_date_month, avg_t1_month, avg_t2_month]';

/** A simulated meter that notes every GetRegister request it answers, in order. */
function loggingMeter(): { meter: SimulatedMeter; requests: number[][] } {
  const real = new SimulatedMultical402();
  const requests: number[][] = [];
  return {
    requests,
    meter: {
      answer: (request: KmpRequest) => {
        if (request.command === 'get-register') requests.push([...request.registerIds]);
        return real.answer(request);
      },
    },
  };
}

function config(url: string, extra = ''): string {
  return `
meters:
  - name: home
    url: ${url}
    timeout_ms: 300
    retries: 0
storage:
  path: ./data/k.sqlite
jobs:
  - name: live
    cron: "* * * * * *"
    registers: [heat_energy, power, t1, t2, t_diff, flow, volume, hour_counter, info]
  - name: statistics
    cron: "*/2 * * * * *"
    registers: ${STATISTICS}
${extra}`;
}

function rowsByRun(rows: Iterable<ExportRow>): Map<string, ExportRow[]> {
  const runs = new Map<string, ExportRow[]>();
  for (const row of rows) {
    const key = `${row.job}@${row.readAt.toISOString()}`;
    runs.set(key, [...(runs.get(key) ?? []), row]);
  }
  return runs;
}

const links = [
  { name: 'TCP bridge', skip: false as const },
  { name: 'serial over a pseudo-terminal', skip: skipUnlessOnPath('socat', 'socat not installed (apt install socat): serial daemon tests skipped') },
];

for (const link of links) {
  describe(`daemon jobs over a ${link.name}`, { skip: link.skip }, () => {
    it('stores every run with one timestamp per run; two jobs due at the same second do not interleave', async () => {
      const { meter, requests } = loggingMeter();
      const dir = mkdtempSync(join(tmpdir(), 'kamstrup-pty-'));
      const pty = link.name.startsWith('serial') ? await serveSimulatorOverPty(meter, {}, join(dir, 'ttyKAM')) : null;
      const server = pty ? null : await serveSimulatorOverTcp(meter, {}, '127.0.0.1', 0);
      const daemon = startDaemon(config(pty ? pty.path : `tcp://127.0.0.1:${server?.port ?? 0}`));
      try {
        await sleep(4200);
        await daemon.stop();
        const store = daemon.openStore();
        const runs = rowsByRun(store.exportReadings({}));
        const status = store.status();
        store.close();

        const live = [...runs.keys()].filter((k) => k.startsWith('live@'));
        const statistics = [...runs.keys()].filter((k) => k.startsWith('statistics@'));
        assert.ok(live.length >= 3, `live ran every second (${live.length} runs)\n${daemon.logs.map((r) => r.msg).join('\n')}`);
        assert.ok(statistics.length >= 1, `statistics ran (${statistics.length} runs)`);
        for (const [key, rows] of runs) {
          const at = rows[0]?.readAt.getTime() ?? NaN;
          assert.equal(at % 1000, 0, `${key}: the run is stamped with its tick, a whole second`);
          assert.ok(rows.every((r) => r.readAt.getTime() === at));
          assert.equal(rows.length, key.startsWith('live@') ? 9 : 10);
        }
        const both = statistics.filter((k) => runs.has(`live@${k.slice('statistics@'.length)}`));
        assert.ok(both.length >= 1, 'at least one second where both jobs were due');
        // The statistics job's two batches (8 + 2 ids) always follow each other on the line.
        const statisticsBatches = requests.flatMap((ids, i) => (ids.length === 8 && ids.includes(139) ? [i] : []));
        assert.ok(statisticsBatches.length >= statistics.length, 'a first batch for every stored statistics run');
        for (const i of statisticsBatches) assert.ok(requests[i + 1]?.includes(149), `batch ${i + 1} continues the statistics run`);
        assert.deepEqual(status.jobs.map((j) => [j.job, j.lastRun.outcome]).sort(), [['live', 'ok'], ['statistics', 'ok']]);
        assert.equal(status.meters[0]?.serial, 70000402);
      } finally {
        await pty?.close();
        await server?.close();
        daemon.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('daemon through faults', () => {
  it('records silent and garbled runs as failed, logs each once, and carries on', async () => {
    const server = await serveSimulatorOverTcp(new SimulatedMultical402(), {}, '127.0.0.1', 0);
    const daemon = startDaemon(config(`tcp://127.0.0.1:${server.port}`));
    try {
      await sleep(1500);
      server.setFaults(['no-answer']);
      await sleep(2500);
      server.setFaults(['crc-error']);
      await sleep(2500);
      server.setFaults([]);
      await sleep(3500);
      await daemon.stop();
      const store = daemon.openStore();
      const status = store.status();
      store.close();
      const db = rawDatabase(daemon.config.storage.path, { readonly: true });
      const failedRuns = db
        .prepare("SELECT j.name AS job, m.name AS meter, r.error, r.reading_count AS readings FROM runs r JOIN jobs j ON j.id = r.job_id JOIN meters m ON m.id = r.meter_id WHERE r.outcome = 'failed' ORDER BY r.read_at, j.name")
        .all() as { job: string; meter: string; error: string | null; readings: number }[];
      db.close();
      assert.ok(failedRuns.some((run) => /^no answer from the meter/.test(run.error ?? '')), `a silent meter's runs are stored as failed, with the cause:\n${JSON.stringify(failedRuns)}`);
      assert.ok(failedRuns.some((run) => /^garbled answers from the meter/.test(run.error ?? '')), `garbled answers' runs are stored as failed, with the cause:\n${JSON.stringify(failedRuns)}`);
      for (const run of failedRuns) {
        assert.equal(run.meter, 'home');
        assert.equal(run.readings, 0);
      }
      // Each failed run is logged exactly once: one "job run failed" line per stored failed run, with its error.
      const failures = daemon.logs.filter((r) => r.msg.startsWith('job run failed'));
      const logged = failures.map((r) => `${String(r.meter)}/${String(r.job)}: ${r.msg.slice('job run failed: '.length)}`).sort();
      const stored = failedRuns.map((run) => `${run.meter}/${run.job}: ${run.error ?? ''}`).sort();
      assert.deepEqual(logged, stored, 'one log line for each failed run, none twice, none missing');
      assert.equal(status.jobs.find((j) => j.job === 'live')?.lastRun.outcome, 'ok', 'back to normal once the faults stop');
    } finally {
      await server.close();
      daemon.cleanup();
    }
  });

  it('reconnects when the TCP bridge drops the connection or is down for a while', async () => {
    const meter = new SimulatedMultical402();
    let server = await serveSimulatorOverTcp(meter, {}, '127.0.0.1', 0);
    const port = server.port;
    const daemon = startDaemon(config(`tcp://127.0.0.1:${port}`));
    try {
      await sleep(1500);
      server.dropConnections();
      await sleep(1500);
      await server.close();
      await sleep(2000);
      server = await serveSimulatorOverTcp(meter, {}, '127.0.0.1', port);
      await sleep(3000);
      await daemon.stop();
      const refused = daemon.logs.filter((r) => r.msg.startsWith('job run failed') && /connection refused/.test(r.msg));
      assert.ok(refused.length >= 1, 'runs while the bridge was down failed with the cause');
      const store = daemon.openStore();
      const status = store.status();
      store.close();
      assert.equal(status.jobs.find((j) => j.job === 'live')?.lastRun.outcome, 'ok', 'reads again once the bridge is back');
    } finally {
      await server.close();
      daemon.cleanup();
    }
  });
});

describe('daemon and an unplugged serial head', { skip: skipUnlessOnPath('socat', 'socat not installed (apt install socat): unplugged-head test skipped') }, () => {
  it('reports the missing device while it is gone and reads again once it is back', async () => {
    const meter = new SimulatedMultical402();
    const dir = mkdtempSync(join(tmpdir(), 'kamstrup-pty-'));
    const path = join(dir, 'ttyKAM');
    let pty = await serveSimulatorOverPty(meter, {}, path);
    const daemon = startDaemon(config(path));
    try {
      await sleep(1500);
      await pty.close(); // the head is unplugged: the device node disappears
      await sleep(2500);
      pty = await serveSimulatorOverPty(meter, {}, path); // plugged back in
      await sleep(3500);
      await daemon.stop();
      const gone = daemon.logs.filter((r) => r.msg.startsWith('job run failed') && /no serial device|unplugged/.test(r.msg));
      assert.ok(gone.length >= 1, `the missing head is logged with its cause:\n${daemon.logs.map((r) => r.msg).join('\n')}`);
      const store = daemon.openStore();
      const status = store.status();
      store.close();
      assert.equal(status.jobs.find((j) => j.job === 'live')?.lastRun.outcome, 'ok', 'reads again once the head is back');
    } finally {
      await pty.close();
      daemon.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
