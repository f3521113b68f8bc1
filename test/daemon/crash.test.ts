// Crash safety of the whole daemon: the real binary, three simulated meters and three jobs a
// second, killed with SIGKILL at pseudo-random moments again and again on one database. Every
// committed job run must be complete (all its readings), none half-written, and the file must
// open clean each time. The moments count from the daemon's "running" line, so a slow start on a
// loaded machine cannot turn the kills into kills before the first run.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from '../../src/store/index.js';
import { rawDatabase, tempDir } from '../store/helpers.js';

const KILLS = 16;
const binPath = fileURLToPath(new URL('../../../bin/kamstrup-logger', import.meta.url));

const config = `
meters:
  - { name: one, url: "sim://multical-402?serial=1" }
  - { name: two, url: "sim://multical-402?serial=2" }
  - { name: three, url: "sim://multical-402?serial=3" }
storage:
  path: ./k.sqlite
jobs:
  - { name: live, cron: "* * * * * *", registers: [heat_energy, power, t1, t2, t_diff, flow, volume, hour_counter, info] }
  - { name: statistics, cron: "* * * * * *", registers: [max_flow_month, max_flow_date_month, min_flow_month, min_flow_date_month, max_power_month, max_power_date_month, min_power_month, min_power_date_month, avg_t1_month, avg_t2_month, max_flow_year, max_flow_date_year, min_flow_year, min_flow_date_year, max_power_year, max_power_date_year, min_power_year, min_power_date_year, avg_t1_year, avg_t2_year] }
  - { name: clock, cron: "*/2 * * * * *", registers: [clock, date, serial_number, info_events, m3_t1, m3_t2] }
log:
  level: info
`;

/** A small deterministic generator, so a failing kill pattern can be replayed. */
function pseudoRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const READY_TIMEOUT_MS = 20_000;

async function runUntilKilled(configPath: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [binPath, 'run', '--config', configPath, '--no-pretty'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  const running = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"msg":"kamstrup-logger running')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const ready = await running;
  if (ready) await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  assert.ok(ready, `the daemon did not log "running" within ${READY_TIMEOUT_MS} ms:\n${stdout}`);
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
}

function checkDatabase(path: string): { runs: number; readings: number } {
  const db = rawDatabase(path);
  try {
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    assert.deepEqual(db.prepare('PRAGMA foreign_key_check').all(), []);
    const incomplete = db
      .prepare('SELECT ru.id, ru.reading_count AS expected, count(r.id) AS actual FROM runs ru LEFT JOIN readings r ON r.run_id = ru.id GROUP BY ru.id HAVING expected != actual')
      .all();
    assert.deepEqual(incomplete, [], 'every committed run holds exactly the readings it was written with');
    const totals = db.prepare('SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM readings) AS readings').get() as { runs: number; readings: number };
    return totals;
  } finally {
    db.close();
  }
}

describe('the daemon killed at random moments', () => {
  const temp = tempDir('kamstrup-crash-');
  const configPath = join(temp.dir, 'kamstrup-logger.yaml');
  before(() => writeFileSync(configPath, config));
  after(() => temp.remove());

  it(`leaves only complete job runs and a clean database, ${KILLS} times over`, async () => {
    const random = pseudoRandom(402);
    const dbPath = join(temp.dir, 'k.sqlite');
    let previous = { runs: 0, readings: 0 };
    for (let kill = 0; kill < KILLS; kill++) {
      await runUntilKilled(configPath, 200 + Math.floor(random() * 1800));
      const totals = checkDatabase(dbPath);
      assert.ok(totals.runs >= previous.runs, 'nothing committed is lost');
      previous = totals;
      // The store opens after every crash, as the next daemon start will.
      Store.open(dbPath, { sinks: [] }).close();
    }
    assert.ok(previous.runs > KILLS, `runs were committed between the kills (${previous.runs} runs, ${previous.readings} readings)`);
  });
});
