import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronProblem } from '../../src/config/index.js';
import { problemAt, problemsOf } from './helpers.js';

const meter = '  - name: home\n    url: /dev/ttyUSB0\n';
const SHAPE = 'a cron expression has 5 fields (minute hour day month weekday) or 6 (with seconds first)';

describe('cron expressions in the config', () => {
  it('refuses a range that runs backwards, naming the field and the forward ranges to write', () => {
    const problems = problemsOf(`meters:\n${meter}jobs:\n  - name: live\n    cron: "5-1 * * * *"\n    registers: [power]\n`);
    assert.deepEqual(problemAt(problems, 'jobs[0].cron'), {
      key: 'jobs[0].cron',
      line: 6,
      message: '"5-1 * * * *": the minute range "5-1" runs backwards: write "5-59,0-1" to wrap round the hour, or "1-5"',
    });
  });

  it('finds backward ranges in every field, with steps, names and Sunday as 7', () => {
    const cases: [string, string][] = [
      ['50-10 * * * * *', 'the second range "50-10" runs backwards: write "50-59,0-10" to wrap round the minute, or "10-50"'],
      ['50-10/5 * * * *', 'the minute range "50-10/5" runs backwards: write "50-55/5,0-10/5" to wrap round the hour, or "10-50"'],
      ['0 22-2 * * *', 'the hour range "22-2" runs backwards: write "22-23,0-2" to wrap round the day, or "2-22"'],
      ['0 0 31-1 * *', 'the day of month range "31-1" runs backwards: write "31,1" to wrap round the month, or "1-31"'],
      ['0 0 1 nov-feb *', 'the month range "nov-feb" runs backwards: write "11-12,1-2" to wrap round the year, or "2-11"'],
      ['0 8 * * fri-mon', 'the weekday range "fri-mon" runs backwards: write "5-6,0-1" to wrap round the week, or "1-5"'],
      ['0 8 * * sat-sun', 'the weekday range "sat-sun" runs backwards: write "6-7" to wrap round the week, or "0-6"'],
      ['0 8 * * 7-1', 'the weekday range "7-1" runs backwards: write "0-1" to wrap round the week, or "1-7"'],
    ];
    for (const [expression, reason] of cases) assert.equal(cronProblem(expression), `${JSON.stringify(expression)}: ${reason}`);
    assert.equal(
      cronProblem('5-1 23-1 * * *'),
      '"5-1 23-1 * * *": the minute range "5-1" runs backwards: write "5-59,0-1" to wrap round the hour, or "1-5"; the hour range "23-1" runs backwards: write "23,0-1" to wrap round the day, or "1-23"',
    );
  });

  it('takes forward ranges, lists and steps as before', () => {
    for (const expression of ['1-5 * * * *', '*/5 * * * *', '0 22-23,0-2 * * *', '0 8 * * mon-fri', '0 8 * * 5-7', '0 0 1 jan-mar *', '*/10 * * * * *', '0 0-23/2 * * *']) {
      assert.equal(cronProblem(expression), null, expression);
    }
  });

  it('keeps the clear errors for out-of-range and garbage fields, backward or not', () => {
    const minute = (value: string): string => `"${value} * * * *": the minute field "${value}" is not valid; it takes 0-59, *, ranges a-b, lists a,b and steps */n`;
    assert.equal(cronProblem('61 * * * *'), minute('61'));
    assert.equal(cronProblem('1-70 * * * *'), minute('1-70'));
    assert.equal(cronProblem('70-1 * * * *'), minute('70-1'));
    // node-cron wraps these silently too (60-1 runs at 0 and 1; weekday 8-1 on Mondays).
    assert.equal(cronProblem('60-1 * * * *'), minute('60-1'));
    assert.equal(cronProblem('0 0 * * 8-1'), '"0 0 * * 8-1": the weekday field "8-1" is not valid; it takes 0-7 or sun-sat; 0 and 7 are Sunday, *, ranges a-b, lists a,b and steps */n');
    assert.equal(cronProblem('5-x * * * *'), minute('5-x'));
    assert.equal(cronProblem('every 5 minutes'), `"every 5 minutes" has 3 fields; ${SHAPE.replace('5 fields', '5')}`);
  });

  it('refuses the @ shorthands, saying what to write instead', () => {
    const problems = problemsOf(`meters:\n${meter}jobs:\n  - name: live\n    cron: "@hourly"\n    registers: [power]\n`);
    assert.equal(problemAt(problems, 'jobs[0].cron').message, `"@hourly" is a shorthand the logger does not take; ${SHAPE}: write "0 * * * *"`);
    assert.equal(cronProblem('@daily'), `"@daily" is a shorthand the logger does not take; ${SHAPE}: write "0 0 * * *"`);
    assert.equal(cronProblem('@WEEKLY'), `"@WEEKLY" is a shorthand the logger does not take; ${SHAPE}: write "0 0 * * 0"`);
    assert.equal(cronProblem('@reboot'), `"@reboot" is not a cron expression; ${SHAPE}, e.g. "*/5 * * * *"`);
  });
});
