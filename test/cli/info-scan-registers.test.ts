// `info`, `scan` and `registers` against the in-process simulator and the catalogue.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { asReading, assertExit, killAll, parseJsonLines, run, type JsonObject } from './helpers.js';

const SIM = 'sim://multical-402';

interface CatalogueLine {
  readonly id: number;
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly period: string;
  readonly models: readonly string[];
}

function asCatalogueLine(line: JsonObject): CatalogueLine {
  const { id, name, label, description, period, models } = line;
  assert.equal(typeof id, 'number', JSON.stringify(line));
  assert.equal(typeof name, 'string', JSON.stringify(line));
  assert.equal(typeof label, 'string', JSON.stringify(line));
  assert.equal(typeof description, 'string', JSON.stringify(line));
  assert.equal(typeof period, 'string', JSON.stringify(line));
  assert.ok(Array.isArray(models) && models.every((m) => typeof m === 'string'), JSON.stringify(line));
  return {
    id: id as number,
    name: name as string,
    label: label as string,
    description: description as string,
    period: period as string,
    models: models as string[],
  };
}

async function catalogue(args: readonly string[] = []): Promise<CatalogueLine[]> {
  const result = await run(['registers', '--json', ...args]);
  assertExit(result, 0);
  assert.equal(result.stderr, '');
  return parseJsonLines(result.stdout).map(asCatalogueLine);
}

describe('info', { concurrency: true }, () => {
  after(killAll);

  it('--json reports type, software revision and serial number', async () => {
    const result = await run(['info', '--meter', SIM, '--json']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    const lines = parseJsonLines(result.stdout);
    assert.equal(lines.length, 1);
    const [info] = lines;
    assert.ok(info);
    assert.equal(info.type, 1026);
    assert.equal(info.softwareRevision, 'G1');
    assert.equal(info.serial, 70000402);
    assert.equal(typeof info.typeName, 'string');
    assert.deepEqual(Object.keys(info), ['type', 'typeName', 'softwareRevision', 'serial']);
  });

  it('reports the serial number set in the sim URL', async () => {
    const result = await run(['info', '--meter', `${SIM}?serial=12345678`, '--json']);
    assertExit(result, 0);
    assert.equal(parseJsonLines(result.stdout)[0]?.serial, 12345678);
  });

  it('prints type, revision and serial for people', async () => {
    const result = await run(['info', '--meter', `${SIM}?serial=12345678`]);
    assertExit(result, 0);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^meter type {2,}0x0402\b/);
    assert.match(lines[1] ?? '', /^software revision {2,}G1$/);
    assert.match(lines[2] ?? '', /^serial number {2,}12345678$/);
  });
});

describe('scan', { concurrency: true }, () => {
  after(killAll);

  it('--json prints every answered catalogue register, sorted by id', async () => {
    const [result, known] = await Promise.all([run(['scan', '--meter', SIM, '--json']), catalogue()]);
    assertExit(result, 0);
    assert.equal(result.stderr, '', 'no progress on stderr when it is no terminal');
    const readings = parseJsonLines(result.stdout).map(asReading);
    const ids = readings.map((r) => r.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'sorted by id',
    );
    assert.equal(new Set(ids).size, ids.length, 'each register once');
    assert.ok(ids.includes(60), 'heat_energy');
    assert.ok(ids.includes(1004), 'hour_counter');
    assert.ok(!ids.includes(266), 'the 402 does not answer heat_energy_high_res');
    const names = new Map(known.map((d) => [d.id, d.name]));
    for (const reading of readings) {
      assert.ok(names.has(reading.id), `${reading.id} is a catalogue register`);
      assert.equal(reading.name, names.get(reading.id));
    }
    assert.equal(readings.find((r) => r.id === 60)?.unit, 'MWh');
  });

  it('prints a table and a summary for people', async () => {
    const [result, known] = await Promise.all([run(['scan', '--meter', SIM]), catalogue()]);
    assertExit(result, 0);
    const [table, summary] = result.stdout.split('\n\n');
    assert.ok(table !== undefined && summary !== undefined, result.stdout);
    const [header, ...rows] = table.split('\n');
    assert.deepEqual(header?.split(/ {2,}/), ['register', 'id', 'value', 'unit']);
    const match = /^the meter answers (\d+) of (\d+) catalogue registers \((\d+) requests\)\n$/.exec(summary);
    assert.ok(match, summary);
    assert.equal(Number(match[1]), rows.length);
    assert.equal(Number(match[2]), known.length);
    assert.equal(Number(match[3]), Math.ceil(known.length / 8), 'eight registers per request');
  });
});

describe('registers', { concurrency: true }, () => {
  after(killAll);

  it('--json lists the catalogue, sorted by id, names unique', async () => {
    const list = await catalogue();
    assert.ok(list.length > 20, `${list.length} registers`);
    const ids = list.map((d) => d.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(list.map((d) => d.name)).size, list.length);
    const energy = list.find((d) => d.name === 'heat_energy');
    assert.ok(energy, 'heat_energy is in the catalogue');
    assert.equal(energy.id, 60);
    assert.equal(energy.label, 'E1');
    assert.ok(energy.models.includes('multical-402'));
    assert.ok(list.some((d) => d.id === 266 && d.name === 'heat_energy_high_res'));
  });

  it('--model multical-402 lists that model’s registers, heat_energy among them', async () => {
    const result = await run(['registers', '--model', 'multical-402']);
    assertExit(result, 0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    assert.deepEqual(header?.split(/ {2,}/), ['name', 'id', 'label', 'period', 'description']);
    assert.ok(
      rows.some((row) => /^heat_energy {2,}60 {2,}E1\b/.test(row)),
      result.stdout,
    );
  });

  it('--model with --json keeps only that model’s registers', async () => {
    const [all, ofModel] = await Promise.all([catalogue(), catalogue(['--model', 'multical-402'])]);
    assert.ok(ofModel.length > 0 && ofModel.length <= all.length);
    assert.ok(ofModel.every((d) => d.models.includes('multical-402')));
    assert.deepEqual(
      ofModel.map((d) => d.id),
      all.filter((d) => d.models.includes('multical-402')).map((d) => d.id),
    );
    assert.ok(ofModel.some((d) => d.name === 'heat_energy'));
  });
});
