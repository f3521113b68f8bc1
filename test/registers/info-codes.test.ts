// The info code decoded per model: words for each set flag, by number where the model's table has
// none (the MULTICAL 402's is in none of our sources), and the worst severity.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { infoCodeSeverity, infoCodeWords, infoFlagsOf } from '../../src/registers/index.js';

describe('info codes', () => {
  it('decode each set flag of a 601/602 and a 403 in words, as the manuals name them', () => {
    assert.equal(infoCodeWords(0n, infoFlagsOf('multical-602')), 'OK');
    assert.equal(infoCodeWords(12n, infoFlagsOf('multical-601')), 'T2 outside measuring range, T1 outside measuring range');
    assert.equal(infoCodeWords(8n + 32768n, infoFlagsOf('multical-403')), 't1 above measuring range or disconnected, pulse input B external alarm');
  });

  it("name a flag by its number where the model's table has none, never by another model's meaning", () => {
    assert.deepEqual(infoFlagsOf('multical-402'), []);
    assert.equal(infoCodeWords(8n, infoFlagsOf('multical-402')), 'flag 8');
    assert.equal(infoCodeWords(2n + 4n, infoFlagsOf('multical-601')), 'flag 2, T2 outside measuring range');
  });

  it('give the worst severity of the set flags, an unknown flag counting as a warning; none when the code is 0', () => {
    const flags = infoFlagsOf('multical-601');
    assert.equal(infoCodeSeverity(0n, flags), null);
    assert.equal(infoCodeSeverity(1n, flags), 'notice');
    assert.equal(infoCodeSeverity(1n + 4n, flags), 'warning');
    assert.equal(infoCodeSeverity(4n + 256n + 1n, flags), 'alarm');
    assert.equal(infoCodeSeverity(2n, flags), 'warning');
    assert.equal(infoCodeSeverity(1n, []), 'warning');
  });
});
