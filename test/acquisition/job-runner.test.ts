// The job runner in process, on the simulated meter and a real store in a temp folder: runs the
// store refuses wait in memory and are replayed in order, bounded; a store that refuses for
// good stops the daemon; nothing is called "ok" that was not stored; a meter that has none of
// a job's registers and a run cut short by the stop are recorded as what they are.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { JobRunner, type JobDefinition, type JobRunRecorder } from '../../src/acquisition/job-runner.js';
import { MeterSession } from '../../src/acquisition/meter-session.js';
import { connectMeter } from '../../src/app/connect-meter.js';
import type { KmpRequest } from '../../src/kmp/index.js';
import { createLogger } from '../../src/log/logger.js';
import { MeterClient } from '../../src/meter/client.js';
import { SimulatedMultical402 } from '../../src/simulator/multical-402.js';
import { SimulatedLink } from '../../src/simulator/simulated-link.js';
import { Store, StoreError, toStoreError, type JobRunInput } from '../../src/store/index.js';
import { tempDir } from '../store/helpers.js';

interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

function capturedLogger(): { logger: ReturnType<typeof createLogger>; logs: LogRecord[] } {
  const logs: LogRecord[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', pretty: false, destination }), logs };
}

/** The real store, and a disk that can fill up under it: SQLITE_FULL through the store's own classification. */
class FillingDisk implements JobRunRecorder {
  full = false;
  /** Refuse for good, as a damaged database does. */
  damaged = false;
  attempts = 0;
  readonly store: Store;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.store = Store.open(path, { sinks: [] });
  }

  recordJobRun(run: JobRunInput): unknown {
    this.attempts++;
    if (this.damaged) throw toStoreError(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }), this.path, 'recording a job run');
    if (this.full) throw toStoreError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), this.path, 'recording a job run');
    return this.store.recordJobRun(run);
  }

  /** The read times of the stored runs of `job`, oldest first, as ISO strings. */
  storedTicks(job: string): string[] {
    const ticks = new Set<string>();
    for (const row of this.store.exportReadings({})) if (row.job === job) ticks.add(row.readAt.toISOString());
    return [...ticks];
  }
}

const live: JobDefinition = { name: 'live', cron: '* * * * * *', registerIds: [60, 80, 86], meters: ['home'] };
const tick = (second: number): Date => new Date(Date.UTC(2026, 0, 1, 12, 0, second));

describe('JobRunner and a store that refuses runs', () => {
  const temp = tempDir('kamstrup-runner-');
  after(() => temp.remove());
  let n = 0;
  const setUp = (maxUncommittedRuns?: number): { disk: FillingDisk; runner: JobRunner; session: MeterSession; logs: LogRecord[]; failures: unknown[] } => {
    const disk = new FillingDisk(join(temp.dir, `k${n++}.sqlite`));
    const { logger, logs } = capturedLogger();
    const failures: unknown[] = [];
    const runner = new JobRunner({ recorder: disk, logger, onStoreFailure: (error) => failures.push(error), ...(maxUncommittedRuns === undefined ? {} : { maxUncommittedRuns }) });
    const session = new MeterSession('home', 'multical-402', connectMeter('sim://multical-402'));
    return { disk, runner, session, logs, failures };
  };

  it('keeps the runs a full disk refuses, says "read, not yet stored", and replays them in order with the next run', async () => {
    const { disk, runner, session, logs, failures } = setUp();
    try {
      assert.equal(await runner.run(live, session, tick(0)), 'ok');
      disk.full = true;
      for (const second of [1, 2, 3]) assert.equal(await runner.run(live, session, tick(second)), 'ok');
      assert.deepEqual(runner.unstored, { runs: 3, readings: 9 });
      assert.deepEqual(disk.storedTicks('live'), [tick(0).toISOString()], 'nothing stored while the disk is full');
      disk.full = false;
      assert.equal(await runner.run(live, session, tick(4)), 'ok');
      assert.deepEqual(disk.storedTicks('live'), [0, 1, 2, 3, 4].map((s) => tick(s).toISOString()), 'the waiting runs first, in order, then the new one');
      assert.deepEqual(runner.unstored, { runs: 0, readings: 0 });

      const outcomes = logs.filter((r) => r.msg.startsWith('job run'));
      assert.deepEqual(outcomes.map((r) => r.msg), ['job run ok', 'job run read, not yet stored', 'job run read, not yet stored', 'job run read, not yet stored', 'job run ok']);
      assert.deepEqual(outcomes.slice(1, 4).map((r) => [r.level, r.waiting, r.stored]), [['warn', 1, false], ['warn', 2, false], ['warn', 3, false]]);
      const refusals = logs.filter((r) => r.msg.startsWith('cannot store readings'));
      assert.equal(refusals.length, 1, 'the refusal is logged once per episode, not once per run');
      assert.equal((refusals[0]?.err as { code?: string } | undefined)?.code, 'disk-full');
      const recovered = logs.filter((r) => r.msg.startsWith('the store accepts readings again'));
      assert.deepEqual(recovered.map((r) => r.stored), [4], 'the recovery is logged once, with what it stored');
      assert.deepEqual(failures, [], 'a full disk is worth retrying: the daemon is not stopped');

      // A second episode is logged again.
      disk.full = true;
      await runner.run(live, session, tick(5));
      assert.equal(logs.filter((r) => r.msg.startsWith('cannot store readings')).length, 2);
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('drops the oldest waiting run beyond the bound, with a log line naming it', async () => {
    const { disk, runner, session, logs } = setUp(2);
    try {
      disk.full = true;
      for (const second of [0, 1, 2, 3]) await runner.run(live, session, tick(second));
      assert.deepEqual(runner.unstored, { runs: 2, readings: 6 });
      const dropped = logs.filter((r) => r.msg.startsWith('dropped the oldest unstored job run'));
      assert.deepEqual(dropped.map((r) => [r.level, r.readAt, r.readings]), [['error', tick(0).toISOString(), 3], ['error', tick(1).toISOString(), 3]]);
      disk.full = false;
      await runner.run(live, session, tick(4));
      assert.deepEqual(disk.storedTicks('live'), [2, 3, 4].map((s) => tick(s).toISOString()));
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('close() tries once more: what the store takes then is stored, what it still refuses is counted', async () => {
    const freed = setUp();
    const still = setUp();
    try {
      for (const { disk, runner, session } of [freed, still]) {
        disk.full = true;
        await runner.run(live, session, tick(0));
        await runner.run(live, session, tick(1));
      }
      freed.disk.full = false;
      assert.deepEqual(freed.runner.close(), { runs: 0, readings: 0 });
      assert.deepEqual(freed.disk.storedTicks('live'), [tick(0).toISOString(), tick(1).toISOString()]);
      const attempts = still.disk.attempts;
      assert.deepEqual(still.runner.close(), { runs: 2, readings: 6 });
      assert.equal(still.disk.attempts, attempts + 1, 'one more try at the stop');
      assert.equal(await still.runner.run(live, still.session, tick(2)), 'skipped', 'a closed runner starts no run');
    } finally {
      for (const { disk, session } of [freed, still]) {
        await session.client.close();
        disk.store.close();
      }
    }
  });

  it('a store that refuses for good (a damaged database) calls onStoreFailure once and is not retried', async () => {
    const { disk, runner, session, logs, failures } = setUp();
    try {
      disk.damaged = true;
      await runner.run(live, session, tick(0));
      await runner.run(live, session, tick(1));
      assert.equal(failures.length, 1);
      assert.ok(failures[0] instanceof StoreError && failures[0].code === 'corrupt', String(failures[0]));
      assert.equal(disk.attempts, 1, 'no write is tried again on a store that failed for good');
      assert.ok(!logs.some((r) => r.msg === 'job run ok'), 'never "job run ok" for a run that was not stored');
      assert.ok(!logs.some((r) => r.msg.includes('not yet stored')), 'a run the store will never take is not "not yet stored"');
      assert.equal(logs.filter((r) => r.msg === 'job run read, not stored').length, 2, 'both runs are "not stored"');
      assert.deepEqual(runner.close(), { runs: 2, readings: 6 });
      assert.equal(disk.attempts, 1);
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('a run the store refuses as such (a constraint) is dropped with an error; the runs behind it are stored', async () => {
    const { disk, runner, session, logs, failures } = setUp();
    try {
      // The store refuses the first run whenever it is offered, as it would a row against its schema.
      const record = disk.recordJobRun.bind(disk);
      disk.recordJobRun = (run) => {
        if (run.readAt.getTime() === tick(0).getTime()) {
          throw toStoreError(Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }), disk.path, 'recording a job run');
        }
        return record(run);
      };
      await runner.run(live, session, tick(0));
      await runner.run(live, session, tick(1));
      assert.deepEqual(disk.storedTicks('live'), [tick(1).toISOString()]);
      assert.deepEqual(logs.filter((r) => r.msg.startsWith('job run')).map((r) => r.msg), ['job run read, not stored', 'job run ok']);
      assert.equal(logs.filter((r) => r.msg.startsWith('the store refused a job run')).length, 1);
      assert.deepEqual(failures, []);
      assert.deepEqual(runner.unstored, { runs: 0, readings: 0 });
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });
});

describe('JobRunner records what happened', () => {
  const temp = tempDir('kamstrup-runner-');
  after(() => temp.remove());

  it('a meter that has none of the job\'s registers: recorded failed, with the error naming them, not ok with 0 readings', async () => {
    const disk = new FillingDisk(join(temp.dir, 'none.sqlite'));
    const { logger, logs } = capturedLogger();
    const runner = new JobRunner({ recorder: disk, logger });
    const session = new MeterSession('home', 'multical-402', connectMeter('sim://multical-402'));
    try {
      // Water-meter registers: a MULTICAL 402 has none of them.
      const water: JobDefinition = { name: 'water', cron: '* * * * *', registerIds: [243, 292], meters: ['home'] };
      assert.equal(await runner.run(water, session, tick(0)), 'failed');
      const status = disk.store.status();
      const run = status.jobs.find((j) => j.job === 'water')?.lastRun;
      assert.equal(run?.outcome, 'failed');
      assert.equal(run?.readingCount, 0);
      assert.match(run?.error ?? '', /none of the job's registers \(volume_reverse, water_temperature\).*model/);
      assert.equal(disk.store.health().jobs[0]?.counts.other, 1, 'counted as other');
      const line = logs.find((r) => r.msg.startsWith('job run'));
      assert.equal(line?.level, 'warn');
      assert.match(line?.msg ?? '', /^job run failed: the meter has none of the job's registers/);
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('a run that waits for its meter when the stop begins does not start: skipped, nothing recorded, no exchange', async () => {
    const disk = new FillingDisk(join(temp.dir, 'waiting.sqlite'));
    const runner = new JobRunner({ recorder: disk, logger: capturedLogger().logger });
    const session = new MeterSession('home', 'multical-402', connectMeter('sim://multical-402'));
    try {
      let exchanges = 0;
      const first = session.exclusive(async () => {
        runner.stopping('SIGTERM');
        exchanges = session.client.statistics.exchanges;
      });
      const waiting = runner.run(live, session, tick(0));
      await first;
      assert.equal(await waiting, 'skipped');
      assert.equal(session.client.statistics.exchanges, exchanges, 'no request went out');
      assert.equal(disk.store.status().jobs.length, 0, 'nothing recorded');
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('a run the stop cuts short is recorded partial "stopped by SIGTERM before reading …", not as a closed client', async () => {
    const disk = new FillingDisk(join(temp.dir, 'stop.sqlite'));
    const { logger, logs } = capturedLogger();
    const runner = new JobRunner({ recorder: disk, logger });
    const real = new SimulatedMultical402();
    let client: MeterClient | null = null;
    let registerRequests = 0;
    const meter = {
      answer: (request: KmpRequest) => {
        // The stop arrives while the second of three batches is on the line.
        if (request.command === 'get-register' && ++registerRequests === 2) {
          runner.stopping('SIGTERM');
          void client?.close();
        }
        return real.answer(request);
      },
    };
    client = new MeterClient(new SimulatedLink(meter, { turnaroundMs: 100 }, 'simulated multical-402'));
    const session = new MeterSession('home', 'multical-402', client);
    try {
      // 20 monthly and yearly registers: three exchanges of up to 8.
      const statistics: JobDefinition = { name: 'statistics', cron: '* * * * *', registerIds: [...range(123, 130), 146, 147, ...range(138, 145), 149, 150], meters: ['home'] };
      assert.equal(statistics.registerIds.length, 20);
      assert.equal(await runner.run(statistics, session, tick(0)), 'partial');
      const run = disk.store.status().jobs.find((j) => j.job === 'statistics')?.lastRun;
      assert.equal(run?.outcome, 'partial');
      assert.ok((run?.readingCount ?? 0) >= 8, `the readings of the first batch at least are kept (${run?.readingCount})`);
      assert.match(run?.error ?? '', /^stopped by SIGTERM before reading \S/);
      assert.doesNotMatch(run?.error ?? '', /closed/);
      assert.deepEqual(disk.store.health().jobs.map((j) => [j.counts.partial, j.counts.other]), [[1, 1]], 'a stop counts as other');
      const line = logs.find((r) => r.msg.startsWith('job run'));
      assert.equal(line?.level, 'info', 'a stop is no failure');
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });

  it('a meter that goes silent: the run failed with cause no-answer, counted so; partway through, partial with it', async () => {
    const disk = new FillingDisk(join(temp.dir, 'silent.sqlite'));
    const runner = new JobRunner({ recorder: disk, logger: capturedLogger().logger });
    const real = new SimulatedMultical402();
    let answered = 0;
    let silentAfter = Infinity;
    const meter = { answer: (request: KmpRequest) => (request.command === 'get-register' && ++answered > silentAfter ? null : real.answer(request)) };
    const session = new MeterSession('home', 'multical-402', new MeterClient(new SimulatedLink(meter, { turnaroundMs: 0 }, 'simulated multical-402'), { responseTimeoutMs: 50, retries: 0, retryPauseMs: 0 }));
    try {
      const statistics: JobDefinition = { name: 'statistics', cron: '* * * * *', registerIds: [...range(123, 130), 146, 147, ...range(138, 145), 149, 150], meters: ['home'] };
      silentAfter = 1; // the first of three batches answered
      assert.equal(await runner.run(statistics, session, tick(0)), 'partial');
      silentAfter = 0;
      answered = 0;
      assert.equal(await runner.run(statistics, session, tick(1)), 'failed');
      assert.deepEqual(disk.store.health().jobs[0]?.counts, { runs: 2, ok: 0, partial: 1, failed: 1, noAnswer: 2, corruptAnswer: 0, lineNoise: 0, linkFailure: 0, other: 0 });
    } finally {
      await session.client.close();
      disk.store.close();
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
