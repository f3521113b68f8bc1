import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_RESPONSE_TIMEOUT_MS, DEFAULT_RETRIES as CLIENT_DEFAULT_RETRIES } from '../../src/meter/client.js';
import { MAX_RETRIES, MAX_TIMEOUT_MS } from '../../src/cli/meter-options.js';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, limits, type AppConfig } from '../../src/config/index.js';
import { registersOfModel } from '../../src/registers/index.js';
import { loadYaml, minimal } from './helpers.js';

const statisticsIds = (model: Parameters<typeof registersOfModel>[0]): number[] =>
  registersOfModel(model).filter((d) => d.period === 'monthly' || d.period === 'yearly').map((d) => d.id);

describe('config defaults', () => {
  it('fills in every default for a minimal file', () => {
    const { config, warnings, file, directory } = loadYaml(minimal);
    const expected: AppConfig = {
      file,
      meters: [{ name: 'home', url: '/dev/ttyUSB0', link: { kind: 'serial', path: '/dev/ttyUSB0' }, model: 'multical-402', timeoutMs: 1600, retries: 2, billingDate: null }],
      jobs: [
        { name: 'live', cron: '*/5 * * * *', registerIds: [60, 80, 86, 87, 89, 74, 68, 1004, 99], meters: ['home'] },
        { name: 'statistics', cron: '7 * * * *', registerIds: statisticsIds('multical-402'), meters: ['home'] },
      ],
      storage: { path: join(directory, 'data', 'kamstrup.sqlite'), retentionDays: 400 },
      consumption: { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, gapMs: 7_200_000 },
      log: { level: 'info' },
      sinks: {},
    };
    assert.deepEqual(config, expected);
    assert.deepEqual(warnings, []);
  });

  it('has the statistics job read every monthly and yearly register of the model, dates included', () => {
    const { config } = loadYaml(minimal);
    const ids = config.jobs[1]?.registerIds ?? [];
    assert.equal(ids.length, 20);
    for (const id of [138, 139, 123, 124, 146, 147, 149, 150]) assert.ok(ids.includes(id), `register ${id}`);
  });

  it('gives meters of different models jobs of their own, with only the registers each model has', () => {
    const { config, warnings } = loadYaml('meters:\n  - name: a\n    url: /dev/ttyUSB0\n  - name: b\n    url: /dev/ttyUSB1\n  - name: tap\n    url: /dev/ttyUSB2\n    model: multical-21\n');
    assert.deepEqual(config.jobs.map((j) => [j.name, j.meters]), [
      ['live-multical-402', ['a', 'b']],
      ['statistics-multical-402', ['a', 'b']],
      ['live-multical-21', ['tap']],
    ]);
    assert.deepEqual(config.jobs[2]?.registerIds, [74, 68, 1004, 99]);
    assert.deepEqual(warnings, []);
  });

  it('resolves storage paths relative to the config file, not the working directory', () => {
    const relative = loadYaml(`${minimal}storage:\n  path: db/k.sqlite\n`);
    assert.equal(relative.config.storage.path, join(relative.directory, 'db', 'k.sqlite'));
    const dotted = loadYaml(`${minimal}storage:\n  path: ./k.sqlite\n  retention_days: 30\n`);
    assert.equal(dotted.config.storage.path, join(dotted.directory, 'k.sqlite'));
    assert.equal(dotted.config.storage.retentionDays, 30);
    const absolute = loadYaml(`${minimal}storage:\n  path: /tmp/kamstrup-config-test.sqlite\n`);
    assert.equal(absolute.config.storage.path, '/tmp/kamstrup-config-test.sqlite');
  });

  it('resolves registers by name, label, decimal and hex id, each once, and job meters', () => {
    const { config } = loadYaml(
      'meters:\n  - name: home\n    url: /dev/ttyUSB0\n    timeout_ms: 3000\n    retries: 0\n  - name: garage\n    url: serial:///dev/ttyUSB1?baud=2400\n    model: multical-403\n' +
        'jobs:\n  - name: mixed\n    cron: "*/5 * * * *"\n    registers: [heat_energy, E1, MaxFlow_M, 80, 0x56, "0x57", " t_diff ", 266]\n    meters: [garage, home, garage]\n' +
        '  - name: fast\n    cron: "*/10 * * * * *"\n    registers: [power]\n',
    );
    assert.deepEqual(config.jobs[0]?.registerIds, [60, 139, 80, 86, 87, 89, 266]);
    assert.deepEqual(config.jobs[0]?.meters, ['garage', 'home']);
    assert.deepEqual(config.meters[0], { name: 'home', url: '/dev/ttyUSB0', link: { kind: 'serial', path: '/dev/ttyUSB0' }, model: 'multical-402', timeoutMs: 3000, retries: 0, billingDate: null });
    assert.deepEqual(config.meters[1]?.link, { kind: 'serial', path: '/dev/ttyUSB1', baudRate: 2400 });
  });

  it('accepts YAML anchors, aliases and merge keys', () => {
    const { config } = loadYaml(
      'meters:\n  - &meter\n    name: a\n    url: /dev/ttyUSB0\n    retries: 5\n  - <<: *meter\n    name: b\n' +
        'jobs:\n  - name: live\n    cron: "*/5 * * * *"\n    registers: &live [power, t1]\n  - name: again\n    cron: "*/7 * * * *"\n    registers: *live\n',
    );
    assert.deepEqual(config.meters.map((m) => [m.name, m.url, m.retries]), [['a', '/dev/ttyUSB0', 5], ['b', '/dev/ttyUSB0', 5]]);
    assert.deepEqual(config.jobs[1]?.registerIds, [80, 86]);
  });

  it('keeps the meter client\'s defaults and the command line\'s limits', () => {
    assert.equal(DEFAULT_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS);
    assert.equal(DEFAULT_RETRIES, CLIENT_DEFAULT_RETRIES);
    assert.equal(limits.timeoutMs.max, MAX_TIMEOUT_MS);
    assert.equal(limits.retries.max, MAX_RETRIES);
  });

  it('accepts an explicit empty job list (with a warning per meter)', () => {
    const { config, warnings } = loadYaml(`${minimal}jobs: []\nsinks: {}\n`);
    assert.deepEqual(config.jobs, []);
    assert.deepEqual(warnings, ['meter "home" is read by no job: name it in a job\'s meters (or leave a job\'s meters out to read every meter)']);
  });
});
