// Crash safety of the store alone: a child process records job runs as fast as it can and is
// killed with SIGKILL at a random moment, again and again on the same file. Every committed run
// must be complete (all its readings, all queued for every sink), and the file must open clean.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Store } from '../../src/store/index.js';
import { rawDatabase, tempDir } from './helpers.js';

const KILLS = 8;
const SINKS = ['influxdb', 'domoticz'];

const writer = `
  const { Store } = await import(${JSON.stringify(new URL('../../src/store/index.js', import.meta.url).href)});
  const { jobRun, liveReadings, statisticsReadings } = await import(${JSON.stringify(new URL('./helpers.js', import.meta.url).href)});
  const store = Store.open(process.argv[1], { sinks: ${JSON.stringify(SINKS)} });
  const offset = Number(process.argv[2]);
  process.stdout.write('writing\\n');
  for (let i = 0; ; i++) {
    const readAt = new Date(Date.UTC(2026, 0, 1) + (offset + i) * 300000);
    store.recordJobRun(i % 12 === 0
      ? jobRun({ readAt, job: 'statistics', readings: statisticsReadings() })
      : jobRun({ readAt, readings: liveReadings(i) }));
  }
`;

async function writeUntilKilled(path: string, offset: number, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', writer, path, String(offset)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'writing\n');
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL');
}

describe('a writer killed mid-run', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir();
  });
  after(() => temp.remove());

  it(`leaves only complete runs, ${KILLS} times over`, async () => {
    const path = join(temp.dir, 'kamstrup.sqlite');
    let runsBefore = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      await writeUntilKilled(path, kill * 1_000_000, 40 + Math.floor(Math.random() * 200));
      const db = rawDatabase(path);
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        assert.deepEqual(db.pragma('foreign_key_check'), []);
        const value = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
        const runs = value('SELECT count(*) AS n FROM runs');
        assert.ok(runs > runsBefore, `kill ${kill}: no run committed (${runs})`);
        runsBefore = runs;
        assert.equal(value('SELECT count(*) AS n FROM runs ru WHERE reading_count <> (SELECT count(*) FROM readings WHERE run_id = ru.id)'), 0);
        assert.equal(value(`SELECT count(*) AS n FROM readings r WHERE (SELECT count(*) FROM outbox_ranges WHERE r.id BETWEEN first_reading_id AND last_reading_id) <> ${SINKS.length}`), 0);
      } finally {
        db.close();
      }
    }
    const store = Store.open(path, { sinks: SINKS });
    try {
      const status = store.status();
      assert.ok(status.sinks.every((s) => s.pending > 0 && s.rejected === 0));
    } finally {
      store.close();
    }
  });
});
