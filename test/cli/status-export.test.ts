// `kamstrup-logger status` and `export` through the real binary, on the database a short real
// run of the daemon left behind (two simulated meters, a live job every second): what status
// shows, the three export formats with their exact values, the filters, --output, bad usage,
// a database that does not exist yet and a reader that closes the pipe early.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { jobRun, liveReadings } from '../store/helpers.js';
import { assertExit, DECIMAL, exitOf, ISO_DATE, killAll, parseJsonLines, run, spawnCli, startCli, tempDir, type JsonObject } from './helpers.js';

const CSV_HEADER = 'read_at,meter,serial,model,job,register_id,register,value,unit,text';
const REGISTERS = ['heat_energy', 'power', 't1', 'flow', 'volume', 'max_flow_date_month'] as const;
const REGISTER_IDS = [60, 80, 86, 74, 68, 138];
const SERIALS: Readonly<Record<string, number>> = { home: 70000402, cellar: 4711 };

interface CsvRow {
  readonly readAt: string;
  readonly meter: string;
  readonly serial: string;
  readonly model: string;
  readonly job: string;
  readonly registerId: number;
  readonly register: string;
  readonly value: string;
  readonly unit: string;
  readonly text: string;
}

/** The CSV export's rows after checking its header; no cell here needs quoting. */
function csvRows(stdout: string): CsvRow[] {
  assert.ok(stdout.endsWith('\n'), 'CSV ends with a newline');
  const [header, ...lines] = stdout.slice(0, -1).split('\n');
  assert.equal(header, CSV_HEADER);
  return lines.map((line) => {
    assert.doesNotMatch(line, /"/, `no cell needs quoting: ${line}`);
    const cells = line.split(',');
    assert.equal(cells.length, 10, `10 cells: ${line}`);
    const [readAt, meter, serial, model, job, registerId, register, value, unit, text] = cells as [string, string, string, string, string, string, string, string, string, string];
    return { readAt, meter, serial, model, job, registerId: Number(registerId), register, value, unit, text };
  });
}

/** The exact decimal that a mantissa and a decimal exponent stand for, as the meter would print it. */
function decimalOf(mantissa: string, exponent: number, negative: boolean): string {
  let text: string;
  if (exponent >= 0) text = mantissa === '0' ? '0' : mantissa + '0'.repeat(exponent);
  else {
    const digits = mantissa.padStart(-exponent + 1, '0');
    text = `${digits.slice(0, exponent)}.${digits.slice(exponent)}`;
  }
  return negative ? `-${text}` : text;
}

/** MWh with three decimals to whole kWh, exactly (no binary float on the way). */
function kWhOf(mwh: string): string {
  assert.match(mwh, /^\d+\.\d{3}$/, `the simulator's heat energy has three decimals in MWh: ${mwh}`);
  return mwh.replace('.', '').replace(/^0+(?=\d)/, '');
}

/** A read time as the CLI shows it: local, to the second. */
function localTime(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('status and export after a short run of the daemon', { concurrency: true }, () => {
  const temp = tempDir();
  const config = join(temp.dir, 'kamstrup-logger.yaml');
  const missingConfig = join(temp.dir, 'missing-db.yaml');
  const missingDatabase = join(temp.dir, 'not-yet', 'k.sqlite');
  /** "job run ok" lines the daemon logged: one per meter per tick. */
  let runsLogged: { meter: string; readings: number }[] = [];
  /** The whole history as CSV: the reference the other formats and the filters are checked against. */
  let all: CsvRow[] = [];
  /** The distinct read times, oldest first. */
  let times: string[] = [];

  const exportOf = async (...args: string[]): Promise<string> => {
    const result = await run(['export', '--config', config, ...args]);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    return result.stdout;
  };

  before(async () => {
    writeFileSync(
      config,
      `meters:
  - name: home
    url: sim://multical-402
  - name: cellar
    url: sim://multical-402?serial=${SERIALS.cellar}&seed=7
storage:
  path: ./data/k.sqlite
jobs:
  - name: live
    cron: "* * * * * *"
    registers: [${REGISTERS.join(', ')}]
`,
    );
    writeFileSync(missingConfig, `meters:\n  - name: home\n    url: sim://multical-402\nstorage:\n  path: ${missingDatabase}\n`);
    const daemon = startCli(['run', '--config', config]);
    // Three ticks on two meters (3-4 s).
    await daemon.waitFor((stdout) => stdout.split('\n').filter((line) => line.includes('"msg":"job run ok"')).length >= 6, 'six "job run ok" lines');
    const result = await daemon.stop('SIGTERM');
    assertExit(result, 0);
    runsLogged = parseJsonLines(result.stdout)
      .filter((line) => line.msg === 'job run ok')
      .map((line) => ({ meter: String(line.meter), readings: Number(line.readings) }));
    all = csvRows(await exportOf('--format', 'csv'));
    times = [...new Set(all.map((row) => row.readAt))].sort();
  });

  after(async () => {
    await killAll();
    temp.remove();
  });

  describe('status', { concurrency: true }, () => {
    it('lists each meter with its last reading, each job with its last run and outcome, and no sinks', async () => {
      const json = await run(['status', '--config', config, '--json']);
      assertExit(json, 0);
      const [status] = parseJsonLines(json.stdout);
      assert.ok(status);
      const meters = status.meters as { name: string; lastReadAt: string; values: { name: string; value: string; unit: string; text?: string | null }[] }[];

      const result = await run(['status', '--config', config]);
      assertExit(result, 0);
      assert.equal(result.stderr, '');
      const text = result.stdout;
      assert.match(text, /^meters\n/);
      for (const meter of meters) {
        const lastReadAt = localTime(new Date(meter.lastReadAt));
        assert.match(text, new RegExp(`^  ${meter.name} \\(multical-402 serial ${SERIALS[meter.name]}\\): last reading ${lastReadAt} \\(\\d+ s ago\\)$`, 'm'));
        for (const value of meter.values) {
          const shown = value.text !== undefined ? (value.text ?? '(no date yet)') : `${value.value} ${value.unit}`;
          assert.match(text, new RegExp(`^ +${value.name} +${escapeRegExp(shown)} +${lastReadAt} `, 'm'), `${meter.name} ${value.name}`);
        }
      }
      const readings = REGISTERS.length;
      assert.match(text, new RegExp(`^ +home/live +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} \\(\\d+ s ago\\) +ok +${readings} readings`, 'm'));
      assert.match(text, new RegExp(`^ +cellar/live +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} \\(\\d+ s ago\\) +ok +${readings} readings`, 'm'));
      assert.ok(text.endsWith('\n\nsinks\n  (none enabled)\n'), text);
    });

    it('--json is one document with meters, jobs and sinks, matching the newest exported run', async () => {
      const result = await run(['status', '--config', config, '--json']);
      assertExit(result, 0);
      const documents = parseJsonLines(result.stdout);
      assert.equal(documents.length, 1);
      const status = documents[0] as JsonObject;
      assert.deepEqual(Object.keys(status).sort(), ['checks', 'jobs', 'meters', 'sinks']);
      assert.deepEqual(status.checks, [], 'no sink configured, none checked');
      assert.deepEqual(status.sinks, []);

      const meters = status.meters as { name: string; model: string; serial: number; lastReadAt: string; values: { registerId: number; value: string; readAt: string; job: string }[] }[];
      assert.deepEqual(meters.map((m) => m.name).sort(), ['cellar', 'home']);
      for (const meter of meters) {
        assert.equal(meter.model, 'multical-402');
        assert.equal(meter.serial, SERIALS[meter.name]);
        const newest = all.filter((row) => row.meter === meter.name).at(-1);
        assert.equal(meter.lastReadAt, newest?.readAt);
        assert.deepEqual(meter.values.map((v) => v.registerId).sort((a, b) => a - b), [...REGISTER_IDS].sort((a, b) => a - b));
        for (const value of meter.values) {
          const exported = all.find((row) => row.meter === meter.name && row.readAt === meter.lastReadAt && row.registerId === value.registerId);
          assert.equal(value.value, exported?.value, `${meter.name} register ${value.registerId}`);
          assert.equal(value.readAt, meter.lastReadAt);
          assert.equal(value.job, 'live');
        }
      }

      const jobs = status.jobs as { meter: string; job: string; lastRun: { readAt: string; outcome: string; error: string | null; readingCount: number; missing: number[] } }[];
      assert.deepEqual(jobs.map((j) => `${j.meter}/${j.job}`).sort(), ['cellar/live', 'home/live']);
      for (const job of jobs) {
        assert.deepEqual([job.lastRun.outcome, job.lastRun.error, job.lastRun.readingCount, job.lastRun.missing], ['ok', null, REGISTERS.length, []]);
        assert.equal(job.lastRun.readAt, meters.find((m) => m.name === job.meter)?.lastReadAt);
      }
    });

    it('a database that does not exist yet: exit 1, naming the path and saying the daemon creates it', async () => {
      const result = await run(['status', '--config', missingConfig]);
      assertExit(result, 1);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.includes(`no database at ${missingDatabase} yet`), result.stderr);
      assert.match(result.stderr, /`kamstrup-logger run` creates it/);
      assert.ok(!existsSync(missingDatabase), 'status does not create the database');
      assert.ok(!existsSync(join(temp.dir, 'not-yet')), 'nor its folder');
    });
  });

  describe('export', { concurrency: true }, () => {
    it('--format csv: the header, then one row per reading the daemon logged, with exact decimals', () => {
      const logged = runsLogged.reduce((sum, r) => sum + r.readings, 0);
      assert.equal(runsLogged.length >= 6, true);
      assert.equal(all.length, logged, `one row for each of the ${logged} readings logged`);
      assert.equal(times.length >= 3, true, 'three ticks at least');
      for (const row of all) {
        assert.match(row.readAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/, 'the tick time, on a whole second');
        assert.equal(row.serial, String(SERIALS[row.meter]));
        assert.equal(row.model, 'multical-402');
        assert.equal(row.job, 'live');
        assert.ok(REGISTER_IDS.includes(row.registerId), String(row.registerId));
        assert.equal(row.register, REGISTERS[REGISTER_IDS.indexOf(row.registerId)]);
        assert.match(row.value, DECIMAL, `${row.register} value ${row.value}`);
        if (row.register === 'max_flow_date_month') {
          assert.equal(row.unit, 'yy:mm:dd');
          assert.ok(row.text === '' || ISO_DATE.test(row.text), row.text);
        } else {
          assert.equal(row.text, '');
        }
      }
      for (const row of all.filter((r) => r.register === 'heat_energy')) {
        assert.equal(row.unit, 'MWh');
        assert.match(row.value, /^\d+\.\d{3}$/, 'MWh at the meter resolution, trailing zeros kept');
      }
      // Each run is complete: every register at every tick on both meters.
      for (const time of times) {
        for (const meter of ['home', 'cellar']) {
          const run = all.filter((row) => row.readAt === time && row.meter === meter);
          if (run.length > 0) assert.deepEqual(run.map((r) => r.registerId).sort((a, b) => a - b), [...REGISTER_IDS].sort((a, b) => a - b));
        }
      }
    });

    it('--format json: one object per line, values as exact decimal strings, the same rows as csv', async () => {
      const lines = parseJsonLines(await exportOf('--format', 'json'));
      assert.equal(lines.length, all.length);
      lines.forEach((line, i) => {
        const row = all[i] as CsvRow;
        assert.equal(typeof line.value, 'string', JSON.stringify(line));
        assert.equal(typeof line.mantissa, 'string', JSON.stringify(line));
        assert.deepEqual(
          [line.readAt, line.meter, line.serial, line.model, line.job, line.id, line.name, line.value, line.unit],
          [row.readAt, row.meter, SERIALS[row.meter], row.model, row.job, row.registerId, row.register, row.value, row.unit],
        );
        assert.equal(line.value, decimalOf(line.mantissa as string, line.exponent as number, line.negative as boolean), 'value is mantissa × 10^exponent, exactly');
        if (row.register === 'max_flow_date_month') assert.equal(line.text, row.text === '' ? null : row.text);
        else assert.ok(!('text' in line), JSON.stringify(line));
      });
    });

    it('--format line-protocol: one point per meter per run, heat_energy in whole kWh, nanosecond timestamps', async () => {
      const text = await exportOf('--format', 'line-protocol');
      const lines = text.trimEnd().split('\n');
      assert.equal(lines.length, runsLogged.length, 'one line for each run the daemon logged');
      const seen = new Set<string>();
      for (const line of lines) {
        const match = /^kamstrup,meter=(home|cellar),model=multical-402,serial=(\d+) (\S+) (\d+)$/.exec(line);
        assert.ok(match, `line protocol: ${line}`);
        const [, meter, serial, fieldText, timestamp] = match as unknown as [string, string, string, string, string];
        assert.equal(Number(serial), SERIALS[meter]);
        const readAt = new Date(Number(BigInt(timestamp) / 1_000_000n)).toISOString();
        assert.equal(BigInt(timestamp), BigInt(Date.parse(readAt)) * 1_000_000n, 'nanoseconds of a whole millisecond');
        seen.add(`${meter}@${readAt}`);
        const fields = new Map(fieldText.split(',').map((field) => field.split('=', 2) as [string, string]));
        assert.deepEqual([...fields.keys()].sort(), REGISTERS.filter((name) => name !== 'max_flow_date_month' || all.some((r) => r.meter === meter && r.readAt === readAt && r.register === name && r.text !== '')).sort());
        const energy = all.find((row) => row.meter === meter && row.readAt === readAt && row.register === 'heat_energy');
        assert.ok(energy, `a heat_energy reading of ${meter} at ${readAt}`);
        assert.match(fields.get('heat_energy') ?? '', /^\d+$/, 'whole kWh');
        assert.equal(fields.get('heat_energy'), kWhOf(energy.value), `${energy.value} MWh in kWh`);
        const date = all.find((row) => row.meter === meter && row.readAt === readAt && row.register === 'max_flow_date_month');
        if (date?.text) assert.equal(fields.get('max_flow_date_month'), `"${date.text}"`, 'a date register is a string field');
        const t1 = all.find((row) => row.meter === meter && row.readAt === readAt && row.register === 't1');
        assert.equal(Number(fields.get('t1')), Number(t1?.value), '°C stays °C');
      }
      assert.equal(seen.size, lines.length, 'no run twice');
      assert.deepEqual([...seen].sort(), [...new Set(all.map((row) => `${row.meter}@${row.readAt}`))].sort());
    });

    it('--meter keeps one meter', async () => {
      const rows = csvRows(await exportOf('--format', 'csv', '--meter', 'cellar'));
      assert.deepEqual(rows, all.filter((row) => row.meter === 'cellar'));
      assert.ok(rows.length > 0);
      const unknown = await run(['export', '--config', config, '--format', 'csv', '--meter', 'attic']);
      assertExit(unknown, 2);
      assert.equal(unknown.stdout, '');
      assert.match(unknown.stderr, /no meter is named "attic" \(known: home, cellar\)/);
    });

    it('--register keeps those registers, by name, label or id', async () => {
      const energy = csvRows(await exportOf('--format', 'csv', '--register', 'heat_energy'));
      assert.deepEqual(energy, all.filter((row) => row.register === 'heat_energy'));
      assert.equal(energy.length, runsLogged.length, 'one heat_energy per run');
      assert.deepEqual(csvRows(await exportOf('--format', 'csv', '--register', 'E1')), energy);
      assert.deepEqual(csvRows(await exportOf('--format', 'csv', '--register', '0x3C')), energy);
      const two = csvRows(await exportOf('--format', 'csv', '--register', 'heat_energy', 'power', '--meter', 'home'));
      assert.deepEqual(two, all.filter((row) => row.meter === 'home' && (row.registerId === 60 || row.registerId === 80)));
      const lp = (await exportOf('--format', 'line-protocol', '--register', 'heat_energy')).trimEnd().split('\n');
      assert.equal(lp.length, runsLogged.length);
      for (const line of lp) assert.match(line, / heat_energy=\d+ \d+$/, 'only the heat_energy field');
    });

    it('--from (inclusive) and --to (exclusive) select by read time', async () => {
      const [first, second, third] = times as [string, string, string];
      const middle = csvRows(await exportOf('--format', 'csv', '--from', second, '--to', third));
      assert.deepEqual(middle, all.filter((row) => row.readAt === second));
      assert.ok(middle.length > 0);
      const fromSecond = csvRows(await exportOf('--format', 'csv', '--from', second));
      assert.deepEqual(fromSecond, all.filter((row) => row.readAt >= second));
      const beforeSecond = csvRows(await exportOf('--format', 'csv', '--to', second));
      assert.deepEqual(beforeSecond, all.filter((row) => row.readAt === first));
    });

    it('a --to before the first reading gives no rows: csv just the header, json and line protocol nothing', async () => {
      const before = new Date(Date.parse(times[0] as string) - 1000).toISOString();
      assert.equal(await exportOf('--format', 'csv', '--to', before), `${CSV_HEADER}\n`);
      assert.equal(await exportOf('--format', 'csv', '--to', times[0] as string), `${CSV_HEADER}\n`, '--to is exclusive');
      assert.equal(await exportOf('--format', 'csv', '--to', '2000-01-01'), `${CSV_HEADER}\n`);
      assert.equal(await exportOf('--format', 'json', '--to', before), '');
      assert.equal(await exportOf('--format', 'line-protocol', '--to', before), '');
    });

    it('--output FILE writes the file and nothing to stdout', async () => {
      for (const format of ['csv', 'json', 'line-protocol']) {
        const file = join(temp.dir, `export.${format}`);
        const result = await run(['export', '--config', config, '--format', format, '--output', file]);
        assertExit(result, 0);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, '');
        assert.equal(readFileSync(file, 'utf8'), await exportOf('--format', format), `${format} file = ${format} on stdout`);
      }
      const short = join(temp.dir, 'short.csv');
      const result = await run(['export', '--config', config, '--format', 'csv', '-o', short, '--register', 'heat_energy']);
      assertExit(result, 0);
      assert.deepEqual(csvRows(readFileSync(short, 'utf8')), all.filter((row) => row.register === 'heat_energy'));
    });

    it('bad usage exits 2: a --from or --to that is no ISO time, no --format, an unknown format or register', async () => {
      const cases: [string[], RegExp][] = [
        [['--format', 'csv', '--from', 'yesterday'], /--from takes an ISO 8601 time such as 2026-01-01 or 2026-01-01T06:00:00Z, not "yesterday"/],
        [['--format', 'csv', '--from', '2026-13-45'], /--from takes an ISO 8601 time/],
        [['--format', 'csv', '--from', '2026-02-30'], /--from takes an ISO 8601 time such as 2026-01-01 .*, not "2026-02-30"/],
        [['--format', 'csv', '--to', '12:00'], /--to takes an ISO 8601 time/],
        [[], /required option '--format <format>' not specified/],
        [['--format', 'xml'], /'xml' is invalid.*csv, json, line-protocol/],
        [['--format', 'csv', '--register', 'heat_enrgy'], /unknown register "heat_enrgy".*did you mean heat_energy\?/],
      ];
      for (const [args, pattern] of cases) {
        const result = await run(['export', '--config', config, ...args]);
        assertExit(result, 2);
        assert.equal(result.stdout, '', `nothing exported for ${args.join(' ')}`);
        assert.match(result.stderr, pattern, args.join(' '));
      }
    });

    it('an --output that cannot be written: exit 1 naming the file and the cause', async () => {
      for (const [file, cause] of [[join(temp.dir, 'no-such-dir', 'x.csv'), /no such file or directory/], [temp.dir, /illegal operation on a directory/]] as const) {
        const result = await run(['export', '--config', config, '--format', 'csv', '--output', file]);
        assertExit(result, 1);
        assert.ok(result.stderr.includes(`cannot write ${file}:`), result.stderr);
        assert.match(result.stderr, cause);
      }
    });

    it('a database that does not exist yet: exit 1, and export does not create it', async () => {
      const result = await run(['export', '--config', missingConfig, '--format', 'csv']);
      assertExit(result, 1);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.includes(`no database at ${missingDatabase} yet`), result.stderr);
      assert.ok(!existsSync(missingDatabase));
    });
  });
});

describe('export to a reader that stops early (`export … | head -1`)', { concurrency: true }, () => {
  const temp = tempDir();
  const config = join(temp.dir, 'big.yaml');

  before(() => {
    // Far more than a pipe holds: 4000 runs of 9 readings (about 3 MB of CSV).
    const store = Store.open(join(temp.dir, 'big.sqlite'), { sinks: [] });
    try {
      const start = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 4000; i++) store.recordJobRun(jobRun({ readAt: new Date(start + i * 60_000), readings: liveReadings(i) }));
    } finally {
      store.close();
    }
    writeFileSync(config, 'meters:\n  - name: home\n    url: sim://multical-402\nstorage:\n  path: ./big.sqlite\n');
  });

  after(async () => {
    await killAll();
    temp.remove();
  });

  for (const format of ['csv', 'json', 'line-protocol']) {
    it(`--format ${format} ends quietly with exit 0`, async () => {
      const child = spawnCli(['export', '--config', config, '--format', format]);
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      let first = '';
      child.stdout?.once('data', (chunk: Buffer) => {
        first = chunk.toString('utf8');
        child.stdout?.destroy();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const { code, signal } = await exitOf(child).finally(() => clearTimeout(timer));
      assert.ok(first.length > 0, 'it had started writing');
      assert.equal(signal, null, `ended by itself, not by a signal\nstderr: ${stderr}`);
      assert.equal(code, 0, `exit 0\nstderr: ${stderr}`);
      assert.equal(stderr, '', 'nothing on stderr: no EPIPE, no stack trace');
    });
  }
});
