// `kamstrup-logger read` against the in-process simulator (sim://): JSON lines, the table,
// registers the meter leaves out, and line faults a good reader survives.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { asReading, assertExit, ISO_DATE, killAll, parseJsonLines, run } from './helpers.js';

const SIM = 'sim://multical-402';

/** yymmdd as the meter sends it, the way the CLI's `text` shows it. */
function isoFromYymmdd(value: string): string {
  const digits = value.padStart(6, '0');
  return `20${digits.slice(0, 2)}-${digits.slice(2, 4)}-${digits.slice(4, 6)}`;
}

describe('read --json', { concurrency: true }, () => {
  after(killAll);

  it('prints one exact reading per requested register, in the order given', async () => {
    const result = await run(['read', '--meter', SIM, '--json', 'heat_energy', '0x3C', '80', 'max_flow_date_month']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    const readings = parseJsonLines(result.stdout).map(asReading);
    assert.deepEqual(
      readings.map((r) => r.id),
      [60, 60, 80, 138],
    );
    const [energyByName, energyById, power, dateRegister] = readings;
    assert.ok(energyByName && energyById && power && dateRegister);

    assert.equal(energyByName.name, 'heat_energy');
    assert.equal(energyByName.unit, 'MWh');
    // MWh at the meter's resolution: three decimals, kept exactly as sent.
    assert.match(energyByName.value, /^\d+\.\d{3}$/);
    assert.equal(energyByName.text, undefined, 'an energy register carries no text');
    assert.deepEqual(energyById, energyByName, 'a hex id and the name read the same register once');

    assert.equal(power.name, 'power');
    assert.equal(power.unit, 'kW');
    assert.match(power.value, /^\d+\.\d$/);
    assert.ok(!('text' in power));

    assert.equal(dateRegister.name, 'max_flow_date_month');
    assert.equal(typeof dateRegister.text, 'string');
    assert.match(dateRegister.text ?? '', ISO_DATE);
    assert.equal(dateRegister.text, isoFromYymmdd(dateRegister.value));
  });

  it('reads names, labels, decimal and hex ids alike', async () => {
    const result = await run(['read', '--meter', SIM, '--json', 't1', '0x56', '86', 'E1', 'hour_counter']);
    assertExit(result, 0);
    const readings = parseJsonLines(result.stdout).map(asReading);
    assert.deepEqual(
      readings.map((r) => [r.id, r.name, r.unit]),
      [
        [86, 't1', '°C'],
        [86, 't1', '°C'],
        [86, 't1', '°C'],
        [60, 'heat_energy', 'MWh'],
        [1004, 'hour_counter', 'h'],
      ],
    );
  });

  it('reports a register the meter does not answer as missing and exits 3', async () => {
    const result = await run(['read', '--meter', SIM, '--json', 'heat_energy', '266', 'power']);
    assertExit(result, 3);
    const lines = result.stdout.split('\n');
    assert.equal(lines[1], '{"id":266,"missing":true}');
    const [energy, missing, power] = parseJsonLines(result.stdout);
    assert.ok(energy && missing && power);
    assert.equal(asReading(energy).id, 60);
    assert.deepEqual(missing, { id: 266, missing: true });
    assert.equal(asReading(power).id, 80);
    assert.match(result.stderr, /did not answer register 266\b/);
  });

  it('reports an id outside the catalogue as missing too', async () => {
    const result = await run(['read', '--meter', SIM, '--json', '9999', '60', '266']);
    assertExit(result, 3);
    assert.deepEqual(parseJsonLines(result.stdout)[0], { id: 9999, missing: true });
    assert.equal(result.stdout.split('\n')[0], '{"id":9999,"missing":true}');
    assert.equal(asReading(parseJsonLines(result.stdout)[1] ?? {}).id, 60);
    assert.match(result.stderr, /registers 9999, 266/);
  });

  it('reads more than 8 registers (several requests) in the order given', async () => {
    const ids = [1004, 60, 68, 74, 80, 86, 87, 89, 97, 110, 1001, 1002, 1003];
    const result = await run(['read', '--meter', SIM, '--json', ...ids.map(String)]);
    assertExit(result, 0);
    const readings = parseJsonLines(result.stdout).map(asReading);
    assert.deepEqual(
      readings.map((r) => r.id),
      ids,
    );
    const serial = readings.find((r) => r.id === 1001);
    assert.equal(serial?.value, '70000402');
    const clock = readings.find((r) => r.id === 1002);
    assert.match(clock?.text ?? '', /^\d{2}:\d{2}:\d{2}$/);
  });

  it('takes the meter from KAMSTRUP_METER when --meter is not given', async () => {
    const result = await run(['read', '--json', '60'], { env: { KAMSTRUP_METER: `${SIM}?serial=42` } });
    assertExit(result, 0);
    assert.equal(asReading(parseJsonLines(result.stdout)[0] ?? {}).id, 60);
  });

  it('follows the energy unit the simulated meter is configured with', async () => {
    const result = await run(['read', '--meter', `${SIM}?energy_unit=GJ`, '--json', 'heat_energy']);
    assertExit(result, 0);
    const [energy] = parseJsonLines(result.stdout).map(asReading);
    assert.equal(energy?.unit, 'GJ');
  });
});

describe('read (table for people)', { concurrency: true }, () => {
  after(killAll);

  it('prints a table with the header register / id / value / unit, columns aligned', async () => {
    const result = await run(['read', '--meter', SIM, 'heat_energy', 'power', 'max_flow_date_month']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    assert.ok(result.stdout.endsWith('\n'));
    const [header, ...rows] = result.stdout.slice(0, -1).split('\n');
    assert.ok(header !== undefined);
    assert.match(header, /^register {2,}id {2,}value {2,}unit$/);
    assert.deepEqual(header.split(/ {2,}/), ['register', 'id', 'value', 'unit']);
    assert.equal(rows.length, 3);
    const idColumn = header.indexOf('id');
    const valueColumn = header.indexOf('value');
    const unitColumn = header.indexOf('unit');
    const cells = rows.map((row) => [
      row.slice(0, idColumn).trimEnd(),
      row.slice(idColumn, valueColumn).trimEnd(),
      row.slice(valueColumn, unitColumn).trimEnd(),
      row.slice(unitColumn),
    ]);
    assert.deepEqual(
      cells.map((c) => [c[0], c[1], c[3]]),
      [
        ['heat_energy', '60', 'MWh'],
        ['power', '80', 'kW'],
        ['max_flow_date_month', '138', ''],
      ],
    );
    assert.match(cells[0]?.[2] ?? '', /^\d+\.\d{3}$/);
    assert.match(cells[2]?.[2] ?? '', ISO_DATE, 'a date register shows its date, not the raw yymmdd');
  });

  it('marks a register the meter leaves out and exits 3', async () => {
    const result = await run(['read', '--meter', SIM, '60', '266']);
    assertExit(result, 3);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^register {2,}id {2,}value {2,}unit$/);
    assert.match(lines[2] ?? '', /^heat_energy_high_res {2,}266 {2,}\(not answered by this meter\)$/);
    assert.match(result.stderr, /266/);
  });
});

describe('read survives the faults a good reader should', { concurrency: true }, () => {
  after(killAll);

  it('skips the echo, line garbage and a stray zero before every answer', async () => {
    const result = await run(['read', '--meter', `${SIM}?echo=1&fault=garbage,stray-zero`, '--json', '60', '80', 't1']);
    assertExit(result, 0);
    assert.deepEqual(
      parseJsonLines(result.stdout)
        .map(asReading)
        .map((r) => r.id),
      [60, 80, 86],
    );
  });

  it('retries after a corrupted answer and succeeds on the second attempt', async () => {
    const result = await run(['read', '--meter', `${SIM}?fault=crc-error&fault_every=2`, '--json', '60']);
    assertExit(result, 0);
    assert.equal(asReading(parseJsonLines(result.stdout)[0] ?? {}).id, 60);
    // The meter wants 1.6 s of quiet before a retry: the run shows that the retry happened.
    assert.ok(result.durationMs >= 1600, `a retry pauses 1.6 s, the run took ${Math.round(result.durationMs)} ms`);
  });

  it('fails on that same corrupted first answer when retries are off', async () => {
    const result = await run(['read', '--meter', `${SIM}?fault=crc-error&fault_every=2`, '--retries', '0', '60']);
    assertExit(result, 1);
    assert.match(result.stderr, /garbled/);
  });
});
