// The config file's text and size: strictly UTF-8, at most MAX_CONFIG_BYTES, aliases and lists
// bounded, each refused with a problem that says what to do.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { listLimits, MAX_LISTED_PROBLEMS } from '../../src/config/load.js';
import { MAX_CONFIG_BYTES } from '../../src/config/text-file.js';
import { configError, minimal, monday, problemAt, problemsOf, tempDir } from './helpers.js';

function writeConfig(content: string | Buffer): string {
  const file = join(tempDir(), 'kamstrup-logger.yaml');
  writeFileSync(file, content);
  return file;
}

describe('the config file as text', () => {
  it('refuses Latin-1 bytes, naming the line and column of the first one', () => {
    const file = writeConfig(Buffer.from('meters:\n  - name: home\n    # Chaufferie, 2e étage\n    url: /dev/ttyUSB0\n', 'latin1'));
    const error = configError(() => loadConfig({ path: file, env: {}, now: monday }));
    assert.deepEqual(error.problems, [{
      key: '',
      line: 3,
      message: `${file} is not UTF-8 at line 3 (column 22, byte 0xE9): save it as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)`,
    }]);
  });

  it('counts the column in characters after valid UTF-8, and finds a sequence cut off at the end', () => {
    const file = writeConfig(Buffer.concat([Buffer.from('meters: # é€\n  - name: ü'), Buffer.from([0xe2, 0x82])]));
    const [problem] = configError(() => loadConfig({ path: file, env: {}, now: monday })).problems;
    assert.equal(problem?.line, 2);
    assert.match(problem?.message ?? '', /at line 2 \(column 12, byte 0xE2\)/);
    const afterMark = writeConfig(Buffer.from([0xef, 0xbb, 0xbf, 0x23, 0xe9, 0x0a]));
    assert.match(configError(() => loadConfig({ path: afterMark, env: {}, now: monday })).problems[0]?.message ?? '', /at line 1 \(column 2, byte 0xE9\)/);
  });

  it('takes UTF-8 with a byte order mark, and text beyond ASCII', () => {
    const file = writeConfig(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# Heizung, 2. Stock — €\nmeters:\n  - name: home\n    url: /dev/ttyUSB0\n')]));
    assert.equal(loadConfig({ path: file, env: {}, now: monday }).config.meters[0]?.name, 'home');
  });
});

describe('config limits', () => {
  it(`refuses a file larger than ${MAX_CONFIG_BYTES} bytes before parsing it, and takes one of exactly that size`, () => {
    const padding = (size: number): string => `${minimal}#${'x'.repeat(size - minimal.length - 2)}\n`;
    const exact = writeConfig(padding(MAX_CONFIG_BYTES));
    assert.equal(loadConfig({ path: exact, env: {}, now: monday }).config.meters[0]?.name, 'home');
    const above = writeConfig(padding(MAX_CONFIG_BYTES + 1));
    const error = configError(() => loadConfig({ path: above, env: {}, now: monday }));
    assert.deepEqual(error.problems, [{
      key: '',
      message: `the file is larger than the 1 MiB a config may have (it has ${MAX_CONFIG_BYTES + 1} bytes), so it was not parsed: a real config is a few KB; is it the config file?`,
    }]);
  });

  it('refuses YAML aliases that expand without end (a "billion laughs")', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const problems = problemsOf(`${minimal}x-laughs:\n${levels.map((line) => `  ${line}`).join('\n')}\n`);
    assert.deepEqual(problems, [{ key: '', message: 'cannot read the YAML: its aliases (*name) stand for more than 100 values in all; write the values out, or use fewer aliases of large anchors' }]);
  });

  it('refuses a YAML that nests deeper than the parser goes, in plain words', () => {
    const [problem] = problemsOf(`${minimal}log: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    assert.match(problem?.message ?? '', /^YAML syntax error at column \d+: the YAML nests too deeply/);
  });

  it('refuses too many meters, jobs, registers in a job and meters in a job, at their key', () => {
    const meters = Array.from({ length: listLimits.meters + 1 }, (_, i) => `  - name: m${i}\n    url: sim://multical-402\n`).join('');
    const registers = Array(listLimits.registersPerJob + 1).fill('power').join(', ');
    const names = Array(listLimits.metersPerJob + 1).fill('m0').join(', ');
    const jobs = Array.from({ length: listLimits.jobs + 1 }, (_, i) => `  - name: j${i}\n    cron: "* * * * *"\n    registers: [${i === 0 ? registers : 'power'}]\n${i === 0 ? `    meters: [${names}]\n` : ''}`).join('');
    const problems = problemsOf(`meters:\n${meters}jobs:\n${jobs}`);
    assert.deepEqual(problemAt(problems, 'meters'), { key: 'meters', line: 1, message: `${listLimits.meters + 1} meters; one logger reads at most ${listLimits.meters}: is this the right file?` });
    assert.equal(problemAt(problems, 'jobs').message, `${listLimits.jobs + 1} jobs; one logger runs at most ${listLimits.jobs}: is this the right file?`);
    assert.equal(problemAt(problems, 'jobs[0].registers').message, `${listLimits.registersPerJob + 1} registers; a job reads at most ${listLimits.registersPerJob} (the catalogue has 57, read 8 per request): split them across jobs`);
    assert.equal(problemAt(problems, 'jobs[0].meters').message, `${listLimits.metersPerJob + 1} meters; a job names at most ${listLimits.metersPerJob}`);
    assert.equal(problems.length, 4, JSON.stringify(problems));
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} problems, and says there are more`, () => {
    const problems = problemsOf(minimal + Array.from({ length: 3000 }, (_, i) => `unknown_${i}: 1\n`).join(''));
    assert.equal(problems.length, MAX_LISTED_PROBLEMS + 1);
    assert.deepEqual(problems[0], { key: 'unknown_0', line: 4, message: 'unknown key "unknown_0"; valid at the top level: meters, storage, jobs, time_zone, consumption, log, sinks' });
    assert.deepEqual(problems[MAX_LISTED_PROBLEMS], { key: '', message: `and more problems, not listed: fix these ${MAX_LISTED_PROBLEMS} first (is it the right file?)` });
  });

  it('takes lists at their limits', () => {
    const meters = Array.from({ length: listLimits.meters }, (_, i) => `  - name: m${i}\n    url: sim://multical-402\n`).join('');
    const { config } = loadConfig({ path: writeConfig(`meters:\n${meters}jobs:\n  - name: live\n    cron: "*/5 * * * *"\n    registers: [${Array(listLimits.registersPerJob).fill('power').join(', ')}]\n`), env: {}, now: monday });
    assert.equal(config.meters.length, listLimits.meters);
    assert.deepEqual(config.jobs[0]?.registerIds, [80]);
  });
});
