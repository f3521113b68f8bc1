import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { applySecretFiles } from '../../src/config/secrets.js';
import { configError, loadYaml, minimal, problemAt, problemsOf, tempDir } from './helpers.js';

const twoJobs = `${minimal}jobs:\n  - name: live\n    cron: "*/5 * * * *"\n    registers: [power]\n  - name: statistics\n    cron: "7 * * * *"\n    registers: [max_flow_month]\n`;

describe('environment overrides', () => {
  it('sets any value by its key path, and wins over the file', () => {
    const { config } = loadYaml(`${twoJobs}log:\n  level: warn\n`, {
      env: {
        KAMSTRUP_STORAGE__PATH: '/data/k.sqlite',
        KAMSTRUP_LOG__LEVEL: 'debug',
        KAMSTRUP_METERS__0__URL: 'tcp://127.0.0.1:2002',
        KAMSTRUP_JOBS__1__CRON: '0 * * * *',
        KAMSTRUP_STORAGE__RETENTION_DAYS: '30',
        KAMSTRUP_METERS__0__TIMEOUT_MS: '2500',
      },
    });
    assert.equal(config.storage.path, '/data/k.sqlite');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.meters[0]?.url, 'tcp://127.0.0.1:2002');
    assert.deepEqual(config.meters[0]?.link, { kind: 'tcp', host: '127.0.0.1', port: 2002 });
    assert.equal(config.jobs[1]?.cron, '0 * * * *');
    assert.equal(config.jobs[0]?.cron, '*/5 * * * *');
    assert.equal(config.storage.retentionDays, 30);
    assert.equal(config.meters[0]?.timeoutMs, 2500);
  });

  it('reads values as YAML: flow lists, numbers, quoted text; text keys keep the text', () => {
    const { config } = loadYaml(twoJobs, {
      env: {
        KAMSTRUP_JOBS__0__REGISTERS: '[heat_energy, power, 0x56]',
        KAMSTRUP_JOBS__0__CRON: '*/10 * * * * *',
        KAMSTRUP_METERS__0__NAME: '007',
        KAMSTRUP_METERS__0__RETRIES: '0',
      },
    });
    assert.deepEqual(config.jobs[0]?.registerIds, [60, 80, 86]);
    assert.equal(config.jobs[0]?.cron, '*/10 * * * * *');
    assert.equal(config.meters[0]?.name, '007');
    assert.equal(config.meters[0]?.retries, 0);
    assert.deepEqual(config.jobs[1]?.meters, ['007']);
  });

  it('adds list entries and whole sections', () => {
    const { config } = loadYaml(minimal, {
      env: {
        KAMSTRUP_METERS__1__NAME: 'garage',
        KAMSTRUP_METERS__1__URL: 'sim://multical-402',
        KAMSTRUP_JOBS: '[{name: fast, cron: "* * * * *", registers: [power]}]',
      },
    });
    assert.deepEqual(config.meters.map((m) => m.name), ['home', 'garage']);
    assert.deepEqual(config.jobs.map((j) => [j.name, j.meters]), [['fast', ['home', 'garage']]]);
  });

  it('overrides one value of the default jobs', () => {
    const { config } = loadYaml(minimal, { env: { KAMSTRUP_JOBS__1__CRON: '0 * * * *' } });
    assert.deepEqual(config.jobs.map((j) => [j.name, j.cron]), [['live', '*/5 * * * *'], ['statistics', '0 * * * *']]);
    assert.equal(config.jobs[1]?.registerIds.length, 20);
  });

  it('ignores other variables and the CLI\'s own KAMSTRUP_METER and KAMSTRUP_CONFIG', () => {
    const { config } = loadYaml(minimal, { env: { KAMSTRUP_METER: 'tcp://x:1', KAMSTRUP_CONFIG: '/etc/k.yaml', PATH: '/usr/bin', KAMSTRUPX: '1', kamstrup_log__level: 'x' } });
    assert.equal(config.meters[0]?.url, '/dev/ttyUSB0');
  });

  it('refuses a KAMSTRUP_ variable that names no key, with the nearest name', () => {
    const problems = problemsOf(minimal, {
      env: {
        KAMSTRUP_STORAGE__PAHT: '/x.sqlite',
        KAMSTRUP_METER__0__URL: 'tcp://x:1',
        KAMSTRUP_LOG__LEVEL__X: 'debug',
        KAMSTRUP_METERS__FIRST__URL: 'tcp://x:1',
        KAMSTRUP_SINKS__INFLUX__URL: 'http://localhost:8086',
        KAMSTRUP_COLOUR: 'red',
      },
    });
    assert.deepEqual(problemAt(problems, 'KAMSTRUP_STORAGE__PAHT'), { key: 'KAMSTRUP_STORAGE__PAHT', env: 'KAMSTRUP_STORAGE__PAHT', message: 'names no configuration key; did you mean KAMSTRUP_STORAGE__PATH?' });
    assert.equal(problemAt(problems, 'KAMSTRUP_METER__0__URL').message, 'names no configuration key; did you mean KAMSTRUP_METERS__0__URL?');
    assert.equal(problemAt(problems, 'KAMSTRUP_LOG__LEVEL__X').message, 'names no configuration key; KAMSTRUP_LOG__LEVEL is a single value, with nothing below it');
    assert.equal(problemAt(problems, 'KAMSTRUP_METERS__FIRST__URL').message, 'names no configuration key; KAMSTRUP_METERS is a list: follow it with an index, e.g. KAMSTRUP_METERS__0__URL');
    assert.equal(problemAt(problems, 'KAMSTRUP_SINKS__INFLUX__URL').message, 'names no configuration key; did you mean KAMSTRUP_SINKS__INFLUXDB__URL?');
    assert.equal(problemAt(problems, 'KAMSTRUP_COLOUR').message, 'names no configuration key; valid after KAMSTRUP_: METERS, STORAGE, JOBS, TIME_ZONE, CONSUMPTION, LOG, SINKS');
  });

  it('blames a bad value on the variable that set it', () => {
    const file = join(tempDir(), 'kamstrup-logger.yaml');
    writeFileSync(file, twoJobs);
    const error = configError(() => loadConfig({ path: file, env: { KAMSTRUP_JOBS__1__CRON: '*/5 * * *', KAMSTRUP_LOG__LEVEL: 'loud', KAMSTRUP_METERS: '[{name: a, url: /dev/x, colour: red}]' } }));
    assert.deepEqual(problemAt(error.problems, 'jobs[1].cron'), {
      key: 'jobs[1].cron',
      env: 'KAMSTRUP_JOBS__1__CRON',
      message: '"*/5 * * *" has 4 fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)',
    });
    assert.equal(problemAt(error.problems, 'meters[0].colour').message, 'unknown key "colour"; valid in meters[]: name, url, model, timeout_ms, retries, billing_date (in the value of KAMSTRUP_METERS)');
    assert.match(error.format(), /^environment KAMSTRUP_JOBS__1__CRON jobs\[1\]\.cron: "\*\/5 \* \* \*" has 4 fields/m);
    assert.match(error.format(), /^environment KAMSTRUP_LOG__LEVEL log\.level: "loud" is not one of/m);
  });

  it('refuses a list index that leaves a gap', () => {
    const problems = problemsOf(minimal, { env: { KAMSTRUP_METERS__2__NAME: 'x', KAMSTRUP_METERS__2__URL: '/dev/x' } });
    assert.deepEqual(problems, [{ key: 'KAMSTRUP_METERS__2__NAME', env: 'KAMSTRUP_METERS__2__NAME', message: 'sets meters[2], but there is no meters[1]; number list entries from 0 without gaps' }]);
  });

  it('loads a config from the environment alone when the file is optional', () => {
    const directory = tempDir();
    const { config, warnings } = loadConfig({
      path: join(directory, 'kamstrup-logger.yaml'),
      optionalFile: true,
      env: { KAMSTRUP_METERS__0__NAME: 'pi', KAMSTRUP_METERS__0__URL: 'tcp://127.0.0.1:2002', KAMSTRUP_STORAGE__PATH: 'k.sqlite' },
    });
    assert.equal(config.file, null);
    assert.equal(config.meters[0]?.name, 'pi');
    assert.equal(config.storage.path, join(directory, 'k.sqlite'));
    assert.deepEqual(config.jobs.map((j) => j.name), ['live', 'statistics']);
    assert.deepEqual(warnings, []);
    const none = configError(() => loadConfig({ path: join(directory, 'kamstrup-logger.yaml'), optionalFile: true, env: {} }));
    assert.match(none.format(), /meters: missing: list at least one meter/);
  });
});

describe('secrets from files', () => {
  it('sets a key from the file a _FILE variable names, trailing newline trimmed', () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'url'), 'tcp://10.0.0.2:2002\n');
    writeFileSync(join(directory, 'level'), 'debug\r\n\n');
    const { config } = loadYaml(minimal, { env: { KAMSTRUP_METERS__0__URL_FILE: join(directory, 'url'), KAMSTRUP_LOG__LEVEL_FILE: join(directory, 'level') } });
    assert.equal(config.meters[0]?.url, 'tcp://10.0.0.2:2002');
    assert.equal(config.log.level, 'debug');
  });

  it('refuses a _FILE variable whose file cannot be read', () => {
    const missing = join(tempDir(), 'no-such-secret');
    const problems = problemsOf(minimal, { env: { KAMSTRUP_METERS__0__URL_FILE: missing } });
    assert.deepEqual(problems, [{ key: 'KAMSTRUP_METERS__0__URL_FILE', env: 'KAMSTRUP_METERS__0__URL_FILE', message: `cannot read the url from ${JSON.stringify(missing)}: no such file` }]);
  });

  it('takes <key>_file in the YAML only for secret keys', () => {
    const problems = problemsOf('meters:\n  - name: home\n    url_file: /run/secrets/url\n');
    assert.equal(problemAt(problems, 'meters[0].url_file').message, 'unknown key "url_file": url is not a secret, so the file cannot name a file for it (the environment can: KAMSTRUP_METERS__0__URL_FILE)');
  });

  it('replaces <secret>_file by the file content at every secret key (the mechanism, with test secret keys)', () => {
    const files: Record<string, string> = { '/run/secrets/token': 'abc123\n', '/run/secrets/pw': 'pw\n\n' };
    const read = (path: string): string => {
      const content = files[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return content;
    };
    const raw = {
      sinks: { influxdb: { url: 'http://x', token_file: '/run/secrets/token' } },
      meters: [{ name: 'a', password_file: '/run/secrets/pw' }, { name: 'b', password: 'x', password_file: '/run/secrets/pw' }, { name: 'c', password_file: '/nope' }],
      log: { token_file: '/run/secrets/token' },
    };
    const reported: [string, string][] = [];
    applySecretFiles(raw, ['sinks.influxdb.token', 'meters.*.password'], read, (path, message) => reported.push([path.join('.'), message]));
    assert.deepEqual(raw.sinks.influxdb, { url: 'http://x', token: 'abc123' });
    assert.deepEqual(raw.meters[0], { name: 'a', password: 'pw' });
    assert.deepEqual(raw.log, { token_file: '/run/secrets/token' }, 'not a secret key: left for the schema to refuse');
    assert.deepEqual(reported, [
      ['meters.1.password_file', 'give either password or password_file, not both'],
      ['meters.2.password_file', 'cannot read the password from "/nope": no such file'],
    ]);
  });
});
