// `kamstrup-logger run`, the acquisition daemon, through the real binary: a config that is not
// valid starts nothing; on a temp config it logs JSON lines (or human lines), honours the log
// level from the config and the environment, stops cleanly on SIGTERM and SIGINT, and leaves
// its runs in the database; and it runs on a config given by the environment alone.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertExit, killAll, parseJsonLines, run, sleep, startCli, tempDir, type JsonObject, type RunResult } from './helpers.js';
import { rawDatabase } from '../store/helpers.js';

const SIM = 'sim://multical-402';

interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** Every line of a daemon's stdout as a pino JSON line: level, time and msg at least. */
function logLines(stdout: string): LogLine[] {
  return parseJsonLines(stdout).map((line, index) => {
    assert.equal(typeof line.level, 'string', `level of line ${index + 1}: ${JSON.stringify(line)}`);
    assert.equal(typeof line.time, 'string', `time of line ${index + 1}: ${JSON.stringify(line)}`);
    assert.ok(!Number.isNaN(Date.parse(line.time as string)), `time of line ${index + 1} is not a time: ${JSON.stringify(line)}`);
    assert.equal(typeof line.msg, 'string', `msg of line ${index + 1}: ${JSON.stringify(line)}`);
    return line as LogLine;
  });
}

/** How many complete "job run ok" JSON lines the output holds so far. */
function jsonRunsOk(stdout: string): number {
  return stdout.split('\n').filter((line) => line.includes('"msg":"job run ok"')).length;
}

/** A config in `dir` reading the simulator every second into `dir`/k.sqlite (a path relative to the file). */
function writeLiveConfig(dir: string, level = 'info'): string {
  const path = join(dir, 'kamstrup-logger.yaml');
  writeFileSync(
    path,
    `meters:
  - name: home
    url: ${SIM}
storage:
  path: ./k.sqlite
jobs:
  - name: live
    cron: "* * * * * *"
    registers: [heat_energy, power, t1]
log: {level: ${level}}
`,
  );
  return path;
}

interface StatusJson {
  readonly meters: readonly { readonly name: string; readonly serial: number | null; readonly values: readonly { readonly registerId: number; readonly value: string }[] }[];
  readonly jobs: readonly { readonly meter: string; readonly job: string; readonly lastRun: { readonly outcome: string; readonly readingCount: number } }[];
  readonly sinks: readonly unknown[];
}

async function statusJson(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<StatusJson> {
  const result = await run(['status', '--json', ...args], options);
  assertExit(result, 0);
  const [status, ...rest] = parseJsonLines(result.stdout);
  assert.ok(status, 'status --json printed nothing');
  assert.equal(rest.length, 0, 'status --json prints one document');
  assert.ok(Array.isArray(status.meters) && Array.isArray(status.jobs) && Array.isArray(status.sinks), result.stdout);
  return status as unknown as StatusJson;
}

function assertStopped(result: RunResult, signal: NodeJS.Signals): void {
  assertExit(result, 0);
  assert.equal(result.signal, null, `ended by ${signal}, not by its own exit`);
  assert.equal(result.stderr, '', 'nothing on stderr');
}

describe('run: a config that is not valid starts nothing', { concurrency: true }, () => {
  const temp = tempDir();
  after(async () => {
    await killAll();
    temp.remove();
  });

  it('lists every problem, each with its key, on stderr, exits 2 and creates no database', async () => {
    const dir = join(temp.dir, 'several');
    mkdirSync(dir);
    const config = join(dir, 'bad.yaml');
    writeFileSync(
      config,
      `meters:
  - name: home
    url: tcp://no-port-here
    modle: multical-402
storage:
  path: ./data/k.sqlite
jobs:
  - name: live
    cron: "61 * * * *"
    registers: [heat_enrgy, power]
log: {level: info}
`,
    );
    const result = await run(['run', '--config', config]);
    assertExit(result, 2);
    assert.equal(result.stdout, '', 'no log line: the daemon did not start');
    const lines = result.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /config is not valid; nothing started/);
    const expected: [string, RegExp][] = [
      ['meters[0].url', /bad\.yaml:3 meters\[0\]\.url: "tcp:\/\/no-port-here": .*host and a port/],
      ['meters[0].modle', /bad\.yaml:4 meters\[0\]\.modle: unknown key "modle"; did you mean "model"\?/],
      ['jobs[0].cron', /bad\.yaml:9 jobs\[0\]\.cron: "61 \* \* \* \*": the minute field "61" is not valid/],
      ['jobs[0].registers[0]', /bad\.yaml:10 jobs\[0\]\.registers\[0\]: unknown register "heat_enrgy".*did you mean heat_energy\?/],
    ];
    for (const [key, pattern] of expected) {
      assert.ok(lines.some((line) => pattern.test(line)), `no line for ${key} matching ${String(pattern)} in:\n${result.stderr}`);
    }
    assert.equal(lines.length, 1 + expected.length, `one line per problem:\n${result.stderr}`);
    assert.deepEqual(readdirSync(dir), ['bad.yaml'], 'neither the data folder nor the database was created');
  });

  it('names the environment variable a bad value or an unknown key came from', async () => {
    const dir = join(temp.dir, 'env');
    mkdirSync(dir);
    const config = writeLiveConfig(dir);
    const result = await run(['run', '--config', config], { env: { KAMSTRUP_LOG__LEVEL: 'loud', KAMSTRUP_STORAGE__PATHH: 'x.sqlite' } });
    assertExit(result, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /environment KAMSTRUP_LOG__LEVEL log\.level: "loud" is not one of trace, debug, info, warn, error, fatal, silent/);
    assert.match(result.stderr, /environment KAMSTRUP_STORAGE__PATHH: names no configuration key; did you mean KAMSTRUP_STORAGE__PATH\?/);
    assert.deepEqual(readdirSync(dir), ['kamstrup-logger.yaml']);
  });

  it('a storage path that cannot be created is a problem of storage.path', async () => {
    const dir = join(temp.dir, 'file-parent');
    mkdirSync(dir);
    writeFileSync(join(dir, 'afile'), '');
    const config = join(dir, 'k.yaml');
    writeFileSync(config, `meters:\n  - name: home\n    url: ${SIM}\nstorage:\n  path: ./afile/k.sqlite\n`);
    const result = await run(['run', '--config', config]);
    assertExit(result, 2);
    assert.match(result.stderr, /k\.yaml:5 storage\.path: cannot create .*afile\/k\.sqlite: .*afile is a file, not a directory/);
    assert.equal(result.stdout, '');
  });

  it('a missing --config file exits 2 with the hint to copy the annotated example', async () => {
    const missing = join(temp.dir, 'nope.yaml');
    const result = await run(['run', '--config', missing]);
    assertExit(result, 2);
    assert.equal(result.stdout, '');
    assert.ok(result.stderr.includes(`${missing}: no such file`), result.stderr);
    assert.match(result.stderr, /cp \S*kamstrup-logger\.example\.yaml /);
    assert.ok(result.stderr.includes(`kamstrup-logger.example.yaml ${missing}`), `the hint copies the example to the file named:\n${result.stderr}`);
    assert.ok(!existsSync(missing), 'the config file is not created');
  });

  it('without --config, a missing ./kamstrup-logger.yaml (and no KAMSTRUP_METERS__ variables) exits 2 with the same hint', async () => {
    const dir = join(temp.dir, 'empty-cwd');
    mkdirSync(dir);
    const result = await run(['run'], { cwd: dir });
    assertExit(result, 2);
    assert.match(result.stderr, /\.\/kamstrup-logger\.yaml: no such file\. To start, copy the annotated example/);
    assert.match(result.stderr, /cp \S*kamstrup-logger\.example\.yaml \.\/kamstrup-logger\.yaml/);
    assert.deepEqual(readdirSync(dir), [], 'nothing created in the working directory');
  });

  it('run --help exits 0 and describes the options and the stop', async () => {
    const result = await run(['run', '--help']);
    assertExit(result, 0);
    assert.match(result.stdout, /--config <file>/);
    assert.match(result.stdout, /--pretty/);
    assert.match(result.stdout, /SIGTERM/);
    assert.equal(result.stderr, '');
  });
});

describe('run: the daemon on the simulator', { concurrency: true }, () => {
  const temp = tempDir();
  after(async () => {
    await killAll();
    temp.remove();
  });

  /** A fresh folder with a live-every-second config in it. */
  function setUp(name: string, level = 'info'): { dir: string; config: string; database: string } {
    const dir = join(temp.dir, name);
    mkdirSync(dir);
    return { dir, config: writeLiveConfig(dir, level), database: join(dir, 'k.sqlite') };
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`logs JSON lines when stdout is no terminal; ${signal} stops it with exit 0 and every run it logged is stored`, async (t) => {
      const { config, database } = setUp(`json-${signal}`);
      const daemon = startCli(['run', '--config', config]);
      await daemon.waitFor((stdout) => jsonRunsOk(stdout) >= 2, 'two "job run ok" lines');

      if (signal === 'SIGTERM') {
        // status reads next to the running daemon (WAL): the database is there and readable.
        const running = await statusJson(['--config', config]);
        assert.equal(running.jobs[0]?.lastRun.outcome, 'ok');
      }

      const result = await daemon.stop(signal);
      t.diagnostic(`${signal} to exit: ${Math.round(result.durationMs)} ms`);
      assertStopped(result, signal);

      const lines = logLines(result.stdout);
      assert.match(lines[0]?.msg ?? '', /^kamstrup-logger running: meters home \(sim:\/\/multical-402\); jobs live "\* \* \* \* \* \*" 3 registers$/);
      assert.equal(lines[0]?.level, 'info');
      assert.equal(lines[0]?.storage, database, 'the storage path, resolved against the config file');
      const runsOk = lines.filter((line) => line.msg === 'job run ok');
      assert.ok(runsOk.length >= 2, result.stdout);
      for (const line of runsOk) {
        assert.equal(line.level, 'info');
        assert.equal(line.meter, 'home');
        assert.equal(line.job, 'live');
        assert.equal(line.readings, 3);
        // The values stay structured in JSON; the message stays short.
        const values = line.values as Record<string, string> | undefined;
        assert.deepEqual(Object.keys(values ?? {}), ['heat_energy', 'power', 't1'], JSON.stringify(line));
        assert.match(values?.heat_energy ?? '', /^\d+\.\d{3} MWh$/);
        assert.match(values?.t1 ?? '', /^\d+\.\d{2} °C$/);
      }
      assert.ok(lines.every((line) => line.level === 'info'), `only info lines on a healthy run:\n${result.stdout}`);
      assert.equal(lines.at(-2)?.msg, 'stopping: letting the exchanges in flight finish');
      assert.equal(lines.at(-1)?.msg, 'stopped', 'the last line says stopped');

      // The database holds every run the log reported.
      const status = await statusJson(['--config', config]);
      assert.deepEqual(status.jobs.map((job) => [job.meter, job.job, job.lastRun.outcome, job.lastRun.readingCount]), [['home', 'live', 'ok', 3]]);
      assert.equal(status.meters[0]?.name, 'home');
      assert.equal(status.meters[0]?.serial, 70000402);
      assert.deepEqual(status.meters[0]?.values.map((value) => value.registerId), [60, 80, 86]);
      const csv = await run(['export', '--config', config, '--format', 'csv']);
      assertExit(csv, 0);
      const rows = csv.stdout.trimEnd().split('\n').slice(1);
      assert.equal(rows.length, 3 * runsOk.length, `3 readings for each of the ${runsOk.length} runs logged:\n${csv.stdout}`);
    });
  }

  it('--pretty logs human-readable lines, not JSON', async (t) => {
    const { config } = setUp('pretty');
    const daemon = startCli(['run', '--config', config, '--pretty']);
    await daemon.waitFor((stdout) => /job run ok/.test(stdout), 'a "job run ok" line');
    const result = await daemon.stop('SIGTERM');
    t.diagnostic(`SIGTERM to exit: ${Math.round(result.durationMs)} ms`);
    assertStopped(result, 'SIGTERM');
    const lines = result.stdout.trimEnd().split('\n');
    for (const line of lines) {
      assert.throws(() => JSON.parse(line) as unknown, SyntaxError, `a pretty line is not JSON: ${line}`);
      assert.match(line, /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] (INFO|WARN|ERROR): /, line);
    }
    // Its values in the message, as exactly as read, once: not again among the fields.
    const runOk = lines.find((line) => line.includes('INFO: job run ok'));
    assert.match(runOk ?? '', /INFO: job run ok · heat_energy \d+\.\d{3} MWh · power \d+\.\d kW · t1 \d+\.\d{2} °C \{.*"meter":"home".*"job":"live".*"readings":3/, result.stdout);
    assert.doesNotMatch(runOk ?? '', /"values"/);
    assert.match(lines.at(-1) ?? '', /INFO: stopped$/);
    assert.ok(!result.stdout.includes('\u001b['), 'no colours when stdout is no terminal');
  });

  it('the log level from the config applies: level warn logs no info lines', async (t) => {
    const { config, database } = setUp('warn', 'warn');
    const daemon = startCli(['run', '--config', config]);
    // Nothing is logged at warn on a healthy run: wait until the database holds two runs (the
    // log is silent, so status is what shows the daemon read).
    const deadline = Date.now() + 30_000;
    let runs = 0;
    while (runs < 2 && Date.now() < deadline) {
      await sleep(200);
      if (!existsSync(database)) continue;
      const db = rawDatabase(database, { readonly: true });
      try {
        runs = (db.prepare("SELECT count(*) AS n FROM runs WHERE outcome = 'ok'").get() as { n: number } | undefined)?.n ?? 0;
      } catch {
        runs = 0; // the daemon is still creating the schema
      } finally {
        db.close();
      }
    }
    const result = await daemon.stop('SIGTERM');
    t.diagnostic(`SIGTERM to exit: ${Math.round(result.durationMs)} ms`);
    assertStopped(result, 'SIGTERM');
    assert.equal(result.stdout, '', 'no info line, not even "stopped"');
    const status = await statusJson(['--config', config]);
    assert.equal(status.jobs[0]?.lastRun.outcome, 'ok', 'it did read while silent');
  });

  it('KAMSTRUP_LOG__LEVEL=debug overrides the config\'s level warn', async (t) => {
    const { config } = setUp('env-debug', 'warn');
    const daemon = startCli(['run', '--config', config], { env: { KAMSTRUP_LOG__LEVEL: 'debug' } });
    await daemon.waitFor((stdout) => jsonRunsOk(stdout) >= 1, 'a "job run ok" line');
    const result = await daemon.stop('SIGTERM');
    t.diagnostic(`SIGTERM to exit: ${Math.round(result.durationMs)} ms`);
    assertStopped(result, 'SIGTERM');
    const lines = logLines(result.stdout);
    assert.ok(lines.some((line) => line.level === 'info' && line.msg === 'job run ok'), result.stdout);
    assert.equal(lines.at(-1)?.msg, 'stopped');
    assert.ok(lines.every((line) => ['debug', 'info'].includes(line.level)), result.stdout);
  });

  it('runs on a config given by the environment alone (no file in the working directory, no --config)', async (t) => {
    const dir = join(temp.dir, 'env-only');
    mkdirSync(dir);
    const database = join(dir, 'k.sqlite');
    const env: Record<string, string> = {
      KAMSTRUP_METERS__0__NAME: 'env',
      KAMSTRUP_METERS__0__URL: SIM,
      KAMSTRUP_STORAGE__PATH: database,
      KAMSTRUP_JOBS__0__NAME: 'live',
      KAMSTRUP_JOBS__0__CRON: '* * * * * *',
      KAMSTRUP_JOBS__0__REGISTERS: '[heat_energy]',
    };
    const daemon = startCli(['run'], { env, cwd: dir });
    await daemon.waitFor((stdout) => jsonRunsOk(stdout) >= 1, 'a "job run ok" line');
    const result = await daemon.stop('SIGTERM');
    t.diagnostic(`SIGTERM to exit: ${Math.round(result.durationMs)} ms`);
    assertStopped(result, 'SIGTERM');
    const lines = logLines(result.stdout);
    const started = lines[0];
    assert.ok(started);
    assert.match(started.msg, /^kamstrup-logger running: meters env \(sim:\/\/multical-402\); jobs live "\* \* \* \* \* \*" 1 registers/);
    assert.equal(started.storage, database);
    const runOk: JsonObject | undefined = lines.find((line) => line.msg === 'job run ok');
    assert.deepEqual([runOk?.meter, runOk?.job, runOk?.readings], ['env', 'live', 1]);
    assert.equal(lines.at(-1)?.msg, 'stopped');
    assert.deepEqual(readdirSync(dir).filter((name) => !name.startsWith('k.sqlite-')), ['k.sqlite'], 'only the database (and its WAL files) in the working directory');

    const status = await statusJson([], { env, cwd: dir });
    assert.equal(status.meters[0]?.name, 'env');
    assert.deepEqual(status.meters[0]?.values.map((value) => value.registerId), [60]);
    assert.ok(status.jobs.some((job) => job.meter === 'env' && job.job === 'live' && job.lastRun.outcome === 'ok'), JSON.stringify(status.jobs));
  });
});

describe('run: an error nothing handled is one fatal line and exit 70, never a raw stack', { concurrency: true }, () => {
  const temp = tempDir();
  after(async () => {
    await killAll();
    temp.remove();
  });

  const crashes = [
    ['an unhandled promise rejection', 'unhandled promise rejection', "Promise.reject(new Error('a rejection nobody handles'))", 'Error: a rejection nobody handles'],
    ['an uncaught exception', 'uncaught exception', "throw new TypeError('a throw nobody catches')", 'TypeError: a throw nobody catches'],
  ] as const;
  for (const [what, kind, code, shown] of crashes) {
    it(what, async () => {
      const dir = join(temp.dir, kind.replaceAll(' ', '-'));
      mkdirSync(dir);
      const config = writeLiveConfig(dir);
      // Preloaded into the real binary: the crash comes once the CLI has installed its handlers
      // (polled, so a slow start on a busy machine cannot let Node's default handler answer first).
      const crash = join(dir, 'crash.mjs');
      writeFileSync(
        crash,
        `const poll = setInterval(() => { if (process.listenerCount('uncaughtException') === 0) return; clearInterval(poll); setTimeout(() => { ${code}; }, 300); }, 20);\n`,
      );
      const result = await run(['run', '--config', config], { env: { NODE_OPTIONS: `--import=${pathToFileURL(crash).href}` } });
      assertExit(result, 70);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
      assert.ok(lines[0]?.startsWith(`kamstrup-logger: fatal: ${kind}: ${shown}, at `), result.stderr);
      assert.match(lines[0] ?? '', /crash\.mjs:1:\d+\)\. This is a bug in kamstrup-logger; please report it with this line\.$/);
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
    });
  }
});
