import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { configError, problemAt, problemsOf, tempDir, withFiles } from './helpers.js';

const meter = '  - name: home\n    url: /dev/ttyUSB0\n';

describe('config problems', () => {
  it('reports a YAML syntax error with its line', () => {
    const problems = problemsOf('meters:\n  - name: home\n    url: /dev/ttyUSB0\n    retries: [1, 2\nlog:\n  level: info\n');
    assert.ok(problems.length >= 1);
    const first = problems[0];
    assert.equal(first?.key, '');
    assert.match(first?.message ?? '', /^YAML syntax error at column \d+: /);
    assert.ok(first?.line !== undefined && first.line >= 4 && first.line <= 5, `line ${first?.line}`);
  });

  it('reports a key given twice as a YAML error', () => {
    const [problem] = problemsOf('meters:\n  - name: home\n    url: /dev/ttyUSB0\n    url: /dev/ttyUSB1\n');
    assert.equal(problem?.line, 4);
    assert.match(problem?.message ?? '', /Map keys must be unique/);
  });

  it('names an unknown key with the nearest valid one', () => {
    const problems = problemsOf(`meter: x\nmeters:\n${meter}    retrys: 3\nstorag:\n  path: ./k.sqlite\n`);
    assert.deepEqual(problemAt(problems, 'meter'), { key: 'meter', line: 1, message: 'unknown key "meter"; did you mean "meters"?' });
    assert.deepEqual(problemAt(problems, 'meters[0].retrys'), { key: 'meters[0].retrys', line: 5, message: 'unknown key "retrys"; did you mean "retries"?' });
    assert.equal(problemAt(problems, 'storag').message, 'unknown key "storag"; did you mean "storage"?');
  });

  it('lists the valid keys when no key is near', () => {
    const problems = problemsOf(`meters:\n${meter}    colour: red\nsinks:\n  kafka:\n    url: http://localhost:9092\n`);
    assert.equal(problemAt(problems, 'meters[0].colour').message, 'unknown key "colour"; valid in meters[]: name, url, model, timeout_ms, retries, billing_date');
    assert.match(problemAt(problems, 'sinks.kafka').message, /^unknown key "kafka"; valid in sinks: influxdb/);
  });

  it('checks the InfluxDB sink: a URL, and what each API writes to', () => {
    const v2 = problemsOf(`meters:\n${meter}sinks:\n  influxdb:\n    url: localhost:8086\n`);
    assert.match(problemAt(v2, 'sinks.influxdb.url').message, /"localhost:8086" is not an http:\/\/ or https:\/\/ URL/);
    assert.match(problemAt(v2, 'sinks.influxdb.bucket').message, /api v2 writes to a bucket: set bucket/);
    const v1 = problemsOf(`meters:\n${meter}sinks:\n  influxdb:\n    url: http://localhost:8086\n    api: v1\n    username: k\n`);
    assert.match(problemAt(v1, 'sinks.influxdb.database').message, /api v1 writes to a database: set database/);
    assert.match(problemAt(v1, 'sinks.influxdb.password').message, /username and password go together/);
  });

  it('reports values of the wrong type', () => {
    const problems = problemsOf(`meters:\n${meter}    retries: two\nstorage: ./k.sqlite\njobs:\n  - name: live\n    cron: 5\n    registers: heat_energy\nsinks:\n`);
    assert.deepEqual(problemAt(problems, 'meters[0].retries'), { key: 'meters[0].retries', line: 4, message: 'retries takes a whole number from 0 to 10, not "two"' });
    assert.deepEqual(problemAt(problems, 'storage'), { key: 'storage', line: 5, message: 'expected a mapping (key: value), not "./k.sqlite"' });
    assert.equal(problemAt(problems, 'jobs[0].cron').message, 'expected text, not 5');
    assert.equal(problemAt(problems, 'jobs[0].registers').message, 'expected a list, not "heat_energy"');
    assert.equal(problemAt(problems, 'sinks').message, 'has no value; expected a mapping (key: value) (write {} for an empty one)');
  });

  it('says what a missing key is for', () => {
    const problems = problemsOf('meters:\n  - name: home\nstorage:\n  retention_days: 30\n');
    const problem = problemAt(problems, 'meters[0].url');
    assert.equal(problem.line, 2);
    assert.match(problem.message, /^missing\. Where the meter is: a serial device path/);
    assert.match(problemAt(problemsOf('storage:\n  retention_days: 30\n'), 'meters').message, /^missing: list at least one meter \(name and url\), in the file or as KAMSTRUP_METERS__0__NAME and KAMSTRUP_METERS__0__URL/);
  });

  it('explains a bad cron expression field by field', () => {
    const yaml = `meters:\n${meter}jobs:\n` +
      '  - name: four\n    cron: "*/5 * * *"\n    registers: [power]\n' +
      '  - name: minute\n    cron: "61 * * * *"\n    registers: [power]\n' +
      '  - name: weekday\n    cron: "0 0 * * 8"\n    registers: [power]\n' +
      '  - name: never\n    cron: "0 0 30 2 *"\n    registers: [power]\n' +
      '  - name: seven\n    cron: "* * * * * * *"\n    registers: [power]\n' +
      '  - name: junk\n    cron: "every 5 minutes"\n    registers: [power]\n' +
      '  - name: typo\n    cron: "0 7 * * mon-fry"\n    registers: [power]\n';
    const problems = problemsOf(yaml);
    assert.deepEqual(problemAt(problems, 'jobs[0].cron'), {
      key: 'jobs[0].cron',
      line: 6,
      message: '"*/5 * * *" has 4 fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)',
    });
    assert.equal(problemAt(problems, 'jobs[1].cron').message, '"61 * * * *": the minute field "61" is not valid; it takes 0-59, *, ranges a-b, lists a,b and steps */n');
    assert.equal(problemAt(problems, 'jobs[2].cron').message, '"0 0 * * 8": the weekday field "8" is not valid; it takes 0-7 or sun-sat; 0 and 7 are Sunday, *, ranges a-b, lists a,b and steps */n');
    assert.equal(problemAt(problems, 'jobs[3].cron').message, '"0 0 30 2 *": the day of month "30" never occurs in the months given, so the job would never run');
    assert.match(problemAt(problems, 'jobs[4].cron').message, /has 7 fields; a cron expression has 5/);
    assert.equal(problemAt(problems, 'jobs[5].cron').message, '"every 5 minutes" has 3 fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)');
    assert.match(problemAt(problems, 'jobs[6].cron').message, /^"0 7 \* \* mon-fry": the weekday field "mon-fry" is not valid/);
  });

  it('formats each problem on one line with file, line and key', () => {
    const directory = withFiles({ 'kamstrup-logger.yaml': `meters:\n${meter}jobs:\n  - name: live\n    cron: "*/5 * * *"\n    registers: [power]\n` });
    const file = join(directory, 'kamstrup-logger.yaml');
    const error = configError(() => loadConfig({ path: file, env: {} }));
    assert.equal(error.format(), `${file}:6 jobs[0].cron: "*/5 * * *" has 4 fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)`);
    assert.match(error.message, /has a problem:\n/);
  });

  it('names an unknown register with the nearest catalogue names, and bad ids', () => {
    const problems = problemsOf(`meters:\n${meter}jobs:\n  - name: live\n    cron: "*/5 * * * *"\n    registers: [heat_enrgy, power, 70000, true, 0x10000]\n`);
    assert.deepEqual(problemAt(problems, 'jobs[0].registers[0]'), {
      key: 'jobs[0].registers[0]',
      line: 7,
      message: 'unknown register "heat_enrgy": not a catalogue name or a number; did you mean heat_energy?',
    });
    assert.equal(problemAt(problems, 'jobs[0].registers[2]').message, '70000 is out of range; a register id takes a whole number from 0 to 65535');
    assert.equal(problemAt(problems, 'jobs[0].registers[3]').message, 'expected a register name or id (heat_energy, E1, 60, 0x3C), not true');
    assert.equal(problemAt(problems, 'jobs[0].registers[4]').message, '65536 is out of range; a register id takes a whole number from 0 to 65535');
    assert.equal(problemAt(problemsOf(`meters:\n${meter}jobs:\n  - name: live\n    cron: "* * * * *"\n    registers: []\n`), 'jobs[0].registers').message, 'a job reads at least one register');
  });

  it("reports a bad meter URL with the URL parser's message", () => {
    const problems = problemsOf('meters:\n  - name: a\n    url: htp://pi:2002\n  - name: b\n    url: tcp://pi\n  - name: c\n    url: sim://multical-999\n  - name: d\n    url: serial://dev/ttyUSB0\n');
    assert.deepEqual(problemAt(problems, 'meters[0].url'), {
      key: 'meters[0].url',
      line: 3,
      message: '"htp://pi:2002": unknown scheme "htp:"; use a device path (/dev/ttyUSB0), serial:///dev/ttyUSB0, tcp://HOST:PORT or sim://multical-402',
    });
    assert.equal(problemAt(problems, 'meters[1].url').message, '"tcp://pi": a TCP bridge needs a host and a port, e.g. tcp://192.168.1.20:2002');
    assert.match(problemAt(problems, 'meters[2].url').message, /the simulator knows multical-402, not "multical-999"/);
    assert.match(problemAt(problems, 'meters[3].url').message, /three slashes/);
  });

  it('refuses a meter or job name given twice, and names that are not tags', () => {
    const problems = problemsOf(
      `meters:\n${meter}  - name: home\n    url: tcp://pi:2002\n  - name: Garage Meter\n    url: /dev/ttyUSB1\njobs:\n` +
        '  - name: live\n    cron: "* * * * *"\n    registers: [power]\n  - name: live\n    cron: "0 * * * *"\n    registers: [t1]\n',
    );
    assert.deepEqual(problemAt(problems, 'meters[1].name'), { key: 'meters[1].name', line: 4, message: '"home" is already the name of meters[0]; meter names must be unique (they tag every reading)' });
    assert.equal(problemAt(problems, 'meters[2].name').message, '"Garage Meter" is not a valid meter name; use lower-case letters, digits, _ and - (at most 64), e.g. "garage-meter"');
    assert.deepEqual(problemAt(problems, 'jobs[1].name'), { key: 'jobs[1].name', line: 12, message: '"live" is already the name of jobs[0]; job names must be unique (they are recorded with every reading)' });
  });

  it('refuses a job naming a meter that does not exist, with the nearest name', () => {
    const problems = problemsOf(`meters:\n${meter}  - name: garage\n    url: /dev/ttyUSB1\njobs:\n  - name: live\n    cron: "* * * * *"\n    registers: [power]\n    meters: [home, hom, cellar]\n  - name: none\n    cron: "* * * * *"\n    registers: [power]\n    meters: []\n`);
    assert.deepEqual(problemAt(problems, 'jobs[0].meters[1]'), { key: 'jobs[0].meters[1]', line: 10, message: 'no meter is named "hom"; did you mean "home"?' });
    assert.equal(problemAt(problems, 'jobs[0].meters[2]').message, 'no meter is named "cellar"; the meters are "home", "garage"');
    assert.equal(problemAt(problems, 'jobs[1].meters').message, 'an empty list reads no meter; leave meters out to read every meter');
  });

  it('refuses a storage path that cannot be created or written', () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'plain-file'), 'not a directory');
    mkdirSync(join(directory, 'db-dir'));
    const underFile = problemAt(problemsOf(`meters:\n${meter}storage:\n  path: ${directory}/plain-file/data/k.sqlite\n`), 'storage.path');
    assert.deepEqual(underFile, { key: 'storage.path', line: 5, message: `cannot create ${directory}/plain-file/data/k.sqlite: ${directory}/plain-file is a file, not a directory` });
    const isDirectory = problemAt(problemsOf(`meters:\n${meter}storage:\n  path: ${directory}/db-dir\n`), 'storage.path');
    assert.equal(isDirectory.message, `${directory}/db-dir is not a regular file (it is a directory); name the database file in it, e.g. ${directory}/db-dir/kamstrup.sqlite`);
    const relative = problemAt(problemsOf(`meters:\n${meter}storage:\n  path: ../${directory.split('/').pop()}/plain-file/k.sqlite\n`), 'storage.path');
    assert.match(relative.message, /plain-file is a file, not a directory/);
  });

  it('says how to start when the file is missing', () => {
    const file = join(tempDir(), 'kamstrup-logger.yaml');
    const error = configError(() => loadConfig({ path: file, env: {} }));
    assert.equal(error.problems.length, 1);
    assert.equal(error.problems[0]?.key, '');
    assert.match(error.problems[0]?.message ?? '', /^no such file\. To start, copy the annotated example and set your meter's url in it: cp \S*kamstrup-logger\.example\.yaml /);
    assert.ok(error.problems[0]?.message.includes(`kamstrup-logger.example.yaml ${file}`));
    assert.match(error.format(), new RegExp(`^${file}: no such file`));
  });

  it('refuses an empty file and one that is not a mapping', () => {
    assert.deepEqual(problemsOf(''), [{ key: '', message: 'the file is empty; it needs at least a meter (copy kamstrup-logger.example.yaml for a start, or see config/demo.yaml)' }]);
    assert.equal(problemsOf('# only a comment\n\n')[0]?.message.startsWith('the file is empty'), true);
    assert.deepEqual(problemsOf('- home\n- garage\n'), [{ key: '', line: 1, message: 'the file must be a mapping of meters, storage, jobs, time_zone, consumption, log, sinks; it holds a list' }]);
  });

  it('refuses a config path that is a directory', () => {
    const directory = tempDir();
    const error = configError(() => loadConfig({ path: directory, env: {} }));
    assert.equal(error.problems[0]?.message, 'cannot read the config file: it is a directory');
  });

  it('refuses numbers out of range, and not whole', () => {
    const problems = problemsOf(
      'meters:\n  - name: a\n    url: /dev/ttyUSB0\n    timeout_ms: 0\n    retries: 11\n  - name: b\n    url: /dev/ttyUSB1\n    timeout_ms: 60001\n    retries: -1\nstorage:\n  retention_days: 2.5\n',
    );
    assert.deepEqual(problemAt(problems, 'meters[0].timeout_ms'), { key: 'meters[0].timeout_ms', line: 4, message: '0 is out of range; timeout_ms takes a whole number from 1 to 60000' });
    assert.equal(problemAt(problems, 'meters[0].retries').message, '11 is out of range; retries takes a whole number from 0 to 10');
    assert.equal(problemAt(problems, 'meters[1].timeout_ms').message, '60001 is out of range; timeout_ms takes a whole number from 1 to 60000');
    assert.equal(problemAt(problems, 'meters[1].retries').message, '-1 is out of range; retries takes a whole number from 0 to 10');
    assert.equal(problemAt(problems, 'storage.retention_days').message, '2.5 is not a whole number; retention_days takes a whole number from 1 to 36500');
    assert.equal(problemAt(problemsOf(`meters:\n${meter}storage:\n  retention_days: 0\n`), 'storage.retention_days').message, '0 is out of range; retention_days takes a whole number from 1 to 36500');
  });

  it('refuses an unknown model or log level, with the nearest', () => {
    const problems = problemsOf(`meters:\n${meter}    model: multical-42\nlog:\n  level: verbose\n`);
    assert.equal(
      problemAt(problems, 'meters[0].model').message,
      '"multical-42" is not one of multical-302, multical-402, multical-403, multical-601, multical-602, multical-603, multical-21, flowiq; did you mean multical-402?',
    );
    assert.equal(problemAt(problems, 'log.level').message, '"verbose" is not one of trace, debug, info, warn, error, fatal, silent');
  });

  it('lists every problem at once, in the order of the file', () => {
    const problems = problemsOf(
      'meter: x\nmeters:\n  - name: home\n    url: htp://x\n    timeout_ms: 0\njobs:\n  - name: live\n    cron: "61 * * * *"\n    registers: [heat_enrgy]\n    meters: [hom]\nlog:\n  level: loud\n',
    );
    assert.deepEqual(problems.map((p) => [p.line, p.key]), [
      [1, 'meter'],
      [4, 'meters[0].url'],
      [5, 'meters[0].timeout_ms'],
      [8, 'jobs[0].cron'],
      [9, 'jobs[0].registers[0]'],
      [10, 'jobs[0].meters[0]'],
      [12, 'log.level'],
    ]);
  });
});
