import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerCatalogue, registersOfModel, resolveRegister, UnknownRegisterError } from '../../src/registers/index.js';

const seedScriptRegisters = [60, 80, 86, 87, 89, 74, 68, 141, 139, 140, 138, 145, 143, 149, 150, 144, 142, 126, 124, 125, 123, 130, 128, 146, 147, 129, 127, 97, 110, 113, 1004];

describe('register catalogue', () => {
  it('holds every register of the MULTICAL 402 script it replaces', () => {
    const ids402 = new Set(registersOfModel('multical-402').map((d) => d.id));
    for (const id of seedScriptRegisters) assert.ok(ids402.has(id), `register ${id}`);
  });

  it('has unique ids, snake_case names, and no name or label that stands for two registers', () => {
    const ids = registerCatalogue.map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length);
    const owner = new Map<string, number>();
    for (const d of registerCatalogue) {
      assert.match(d.name, /^[a-z][a-z0-9_]*$/);
      for (const key of [d.name, d.label.toLowerCase()]) {
        assert.equal(owner.get(key) ?? d.id, d.id, `"${key}" names registers ${owner.get(key)} and ${d.id}`);
        owner.set(key, d.id);
      }
    }
  });

  it('marks the statistics registers monthly or yearly', () => {
    const period = (id: number): string | undefined => registerCatalogue.find((d) => d.id === id)?.period;
    assert.equal(period(139), 'monthly');
    assert.equal(period(124), 'yearly');
    assert.equal(period(60), 'live');
  });
});

describe('resolving what the user typed', () => {
  it('accepts names, labels, decimal and hex ids', () => {
    assert.equal(resolveRegister('heat_energy').id, 60);
    assert.equal(resolveRegister('E1').id, 60);
    assert.equal(resolveRegister('MaxFlow_M').id, 139);
    assert.equal(resolveRegister('maxflow_m').id, 139);
    assert.equal(resolveRegister('60').id, 60);
    assert.equal(resolveRegister('0x3C').id, 60);
    assert.equal(resolveRegister('0x3c').definition?.name, 'heat_energy');
  });

  it('accepts any 16-bit id, catalogued or not', () => {
    const ref = resolveRegister('4242');
    assert.equal(ref.id, 4242);
    assert.equal(ref.definition, undefined);
    assert.throws(() => resolveRegister('70000'), UnknownRegisterError);
  });

  it('suggests the nearest names for an unknown one', () => {
    assert.throws(
      () => resolveRegister('heat_enrgy'),
      (error: unknown) => {
        assert.ok(error instanceof UnknownRegisterError);
        assert.equal(error.code, 'unknown-register');
        assert.equal(error.suggestions[0], 'heat_energy');
        assert.match(error.message, /did you mean heat_energy/);
        return true;
      },
    );
    assert.throws(() => resolveRegister('max_flow_mnth'), (error: unknown) => error instanceof UnknownRegisterError && error.suggestions[0] === 'max_flow_month');
  });
});
