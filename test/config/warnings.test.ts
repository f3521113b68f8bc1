import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readGaps } from '../../src/config/index.js';
import { timeZoneWarning } from '../../src/config/warnings.js';
import { loadYaml, monday } from './helpers.js';

const MINUTE = 60_000;
const gap = (crons: string[]): number | null => {
  const ms = readGaps(crons, monday)?.weekMs ?? null;
  return ms === null ? null : ms / MINUTE;
};

function jobs(...specs: [name: string, cron: string, registers: string, meters?: string][]): string {
  return specs.map(([name, cron, registers, meters]) => `  - name: ${name}\n    cron: "${cron}"\n    registers: [${registers}]\n${meters ? `    meters: [${meters}]\n` : ''}`).join('');
}

describe('the longest gap between reads', () => {
  it('follows minutes, hours, weekdays and seconds over a week', () => {
    assert.equal(gap(['*/5 * * * *']), 5);
    assert.equal(gap(['7 * * * *']), 60);
    assert.equal(gap(['0 * * * *', '30 * * * *']), 30);
    assert.equal(gap(['*/31 * * * *']), 31);
    assert.equal(gap(['*/5 6-23 * * *']), 6 * 60 + 5);
    assert.equal(gap(['0 3 * * 1']), 7 * 24 * 60);
    assert.equal(gap(['0 3 * * 1-5']), 3 * 24 * 60);
    assert.equal(gap(['*/10 * * * * *']), 10 / 60);
    assert.equal(gap(['0 0 1 1 *']), null);
    assert.equal(gap([]), null);
  });
});

describe('start-up warnings', () => {
  it('warns when no job reads a meter within 30 minutes, with the gap', () => {
    const { warnings } = loadYaml(`meters:\n  - name: home\n    url: /dev/ttyUSB0\njobs:\n${jobs(['statistics', '7 * * * *', 'max_flow_month'])}`, { now: monday });
    assert.deepEqual(warnings, [
      'meter "home" goes up to 60 minutes without a read (jobs: statistics); MULTICAL 40x IR ports fall asleep after about 30 minutes idle, so read it at least every 30 minutes (e.g. a job with cron "*/5 * * * *")',
    ]);
  });

  it('counts every job on the meter together, and only those', () => {
    const yaml = `meters:\n  - name: a\n    url: /dev/ttyUSB0\n  - name: b\n    url: /dev/ttyUSB1\njobs:\n` +
      jobs(['even', '0 * * * *', 'power'], ['odd', '30 * * * *', 'power', 'a'], ['night', '*/5 0-5 * * *', 'power', 'b']);
    const { warnings } = loadYaml(yaml, { now: monday });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^meter "b" goes up to 60 minutes without a read \(jobs: even, night\)/);
  });

  it('is quiet at exactly 30 minutes and for jobs with seconds', () => {
    assert.deepEqual(loadYaml(`meters:\n  - name: a\n    url: /dev/ttyUSB0\njobs:\n${jobs(['half', '*/30 * * * *', 'power'])}`).warnings, []);
    assert.deepEqual(loadYaml(`meters:\n  - name: a\n    url: /dev/ttyUSB0\njobs:\n${jobs(['fast', '*/10 * * * * *', 'power'])}`).warnings, []);
  });

  it('warns about a meter no job reads, and a job that never runs in the week', () => {
    const yaml = `meters:\n  - name: a\n    url: /dev/ttyUSB0\n  - name: idle\n    url: /dev/ttyUSB1\njobs:\n${jobs(['live', '*/5 * * * *', 'power', 'a'], ['yearly', '0 0 1 1 *', 'power', 'a'])}`;
    const { warnings } = loadYaml(yaml, { now: monday });
    assert.deepEqual(warnings, ['meter "idle" is read by no job: name it in a job\'s meters (or leave a job\'s meters out to read every meter)']);
    const never = loadYaml(`meters:\n  - name: a\n    url: /dev/ttyUSB0\njobs:\n${jobs(['yearly', '0 0 1 1 *', 'power'])}`, { now: monday });
    assert.match(never.warnings[0] ?? '', /^meter "a": its jobs \(yearly\) do not run at all in the coming week; /);
  });

  it("warns when a job reads registers the meter's model does not list", () => {
    const yaml = `meters:\n  - name: home\n    url: /dev/ttyUSB0\n  - name: tap\n    url: /dev/ttyUSB1\n    model: multical-21\njobs:\n${jobs(['live', '*/5 * * * *', 'volume, heat_energy, power, 0x1234'])}`;
    const { warnings } = loadYaml(yaml, { now: monday });
    assert.deepEqual(warnings, [
      'job "live" reads register 4660 (not in the catalogue) from meter "home", which the catalogue does not list for multical-402: it will probably come back missing',
      'job "live" reads heat_energy (60), power (80), register 4660 (not in the catalogue) from meter "tap", which the catalogue does not list for multical-21: they will probably come back missing',
    ]);
  });
});

describe('the keep-awake warning across daylight-saving changes (TZ=Europe/Amsterdam)', () => {
  // Set for this block only; the dates are built inside the tests, in that zone.
  const zoneBefore = process.env.TZ;
  before(() => {
    process.env.TZ = 'Europe/Amsterdam';
  });
  after(() => {
    if (zoneBefore === undefined) delete process.env.TZ;
    else process.env.TZ = zoneBefore;
  });
  const saturdayBeforeAutumnChange = (): Date => new Date(2026, 9, 24, 12, 0, 0);
  const saturdayBeforeSpringChange = (): Date => new Date(2026, 2, 28, 12, 0, 0);

  it('measures real time in the weeks the clocks change: an interval schedule keeps its interval', () => {
    for (const week of [saturdayBeforeAutumnChange(), saturdayBeforeSpringChange()]) {
      const gapIn = (crons: string[]): number | null => (readGaps(crons, week)?.weekMs ?? NaN) / MINUTE;
      assert.equal(gapIn(['*/5 * * * *']), 5);
      assert.equal(gapIn(['*/20 * * * *']), 20);
      assert.equal(gapIn(['0 * * * *', '30 * * * *']), 30);
      assert.equal(gapIn(['*/10 * * * * *']), 10 / 60);
    }
    const yaml = `meters:\n  - name: a\n    url: /dev/ttyUSB0\njobs:\n${jobs(['every-20', '*/20 * * * *', 'power'])}`;
    assert.deepEqual(loadYaml(yaml, { now: saturdayBeforeAutumnChange() }).warnings, []);
    assert.deepEqual(loadYaml(yaml, { now: saturdayBeforeSpringChange() }).warnings, []);
  });

  it('warns in July about fixed times that leave a gap only when the clocks go back, naming the day', () => {
    // Every 20-25 minutes all day, as fixed times: the repeated 02:00-03:00 runs once, so 02:45
    // CEST is followed by 03:00 CET, 75 minutes later.
    const yaml = `meters:\n  - name: a\n    url: /dev/ttyUSB0\njobs:\n${jobs(['morning', '0,20,45 0-11 * * *', 'power'], ['evening', '0,20,45 12-23 * * *', 'power'])}`;
    assert.equal(readGaps(['0,20,45 0-11 * * *', '0,20,45 12-23 * * *'], new Date(2026, 6, 1, 12))?.weekMs, 25 * MINUTE);
    assert.deepEqual(loadYaml(yaml, { now: new Date(2026, 6, 1, 12) }).warnings, [
      'meter "a" goes up to 75 minutes without a read when the clocks change on 25 October 2026 (jobs: morning, evening); MULTICAL 40x IR ports fall asleep after about 30 minutes idle, so read it at least every 30 minutes (e.g. a job with cron "*/5 * * * *")',
    ]);
  });
});

describe('a TZ the machine does not know', () => {
  it('is warned about: a typo, a POSIX rule the zone data does not read', () => {
    assert.match(timeZoneWarning('Europe/Amsterdm', undefined) ?? '', /^TZ="Europe\/Amsterdm" is not a time zone this machine knows, so schedules run in UTC: set an IANA name such as TZ=Europe\/Amsterdam/);
    assert.match(timeZoneWarning('CET-1CEST', 'UTC') ?? '', /^TZ="CET-1CEST" is not a time zone/);
  });

  it('is not confused with a known zone, UTC on purpose, or no TZ at all', () => {
    assert.equal(timeZoneWarning('Europe/Amsterdam', 'Europe/Amsterdam'), null);
    assert.equal(timeZoneWarning(':Europe/Amsterdam', 'Europe/Amsterdam'), null);
    assert.equal(timeZoneWarning('UTC', 'UTC'), null);
    assert.equal(timeZoneWarning('Etc/UTC', 'UTC'), null);
    assert.equal(timeZoneWarning('US/Eastern', 'America/New_York'), null);
    assert.equal(timeZoneWarning(undefined, 'UTC'), null);
    assert.equal(timeZoneWarning('', 'UTC'), null);
  });
});
