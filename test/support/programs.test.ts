// The skip rule of the tests that need a real program: a one-line notice on a developer's
// machine without it, a failure under CI=true, where .ci/run installs it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missingProgram, onPath } from './programs.js';

describe('a test whose program is missing', () => {
  const notice = 'frobnicator not installed (apt install frobnicator): frobnication tests skipped';

  it('skips with its notice outside CI', () => {
    assert.equal(missingProgram(notice, {}), notice);
    assert.equal(missingProgram(notice, { CI: 'false' }), notice);
  });

  it('fails under CI=true, naming the program and the broken install step', () => {
    assert.throws(() => missingProgram(notice, { CI: 'true' }), /frobnicator not installed.*CI=true, and \.ci\/run installs it: the install step is broken/);
  });

  it('finds a program on PATH and not one that is absent', () => {
    assert.equal(onPath('node'), true);
    assert.equal(onPath('kamstrup-no-such-program'), false);
  });
});
