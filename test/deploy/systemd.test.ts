// deploy/kamstrup-logger.service: systemd accepts it (systemd-analyze verify, where installed),
// it has what the service needs (user, serial group, state directory, restart, hardening that
// leaves the serial devices open), and its ExecStart is a command the CLI has, with options
// that command takes.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { binPath } from '../cli/helpers.js';
import { onPath } from '../support/programs.js';
import { readRepoFile, runProgram } from './files.js';

const UNIT = 'deploy/kamstrup-logger.service';
const text = readRepoFile(UNIT);

type Sections = Map<string, Map<string, string[]>>;

/** The unit file's sections, each key with its values in order (a key may repeat). */
function parseUnit(source: string): Sections {
  const sections: Sections = new Map();
  let current: Map<string, string[]> | undefined;
  for (const [index, line] of source.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const heading = /^\[([A-Za-z]+)\]$/.exec(trimmed);
    if (heading) {
      current = new Map();
      sections.set(heading[1] ?? '', current);
      continue;
    }
    const entry = /^([A-Za-z]+)=(.*)$/.exec(trimmed);
    assert.ok(entry && current, `${UNIT} line ${index + 1} is neither a section nor Key=value: ${line}`);
    const [, key = '', value = ''] = entry;
    current.set(key, [...(current.get(key) ?? []), value]);
  }
  return sections;
}

const unit = parseUnit(text);

function values(section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

function only(section: string, key: string): string {
  const found = values(section, key);
  assert.equal(found.length, 1, `[${section}] ${key}= should be set once, is ${JSON.stringify(found)}`);
  return found[0] ?? '';
}

describe('the systemd unit', () => {
  // A plain skip, also in CI: the structural checks below stand in where systemd is not installed.
  const noVerify = onPath('systemd-analyze') ? false : 'systemd-analyze is not installed: the unit is checked structurally only';

  it('passes systemd-analyze verify without a message', { skip: noVerify }, async () => {
    // The unit names /usr/bin/node, where Debian's and NodeSource's packages put it; verify
    // checks that the program exists, so a machine whose node is elsewhere verifies a copy.
    const dir = mkdtempSync(join(tmpdir(), 'kamstrup-unit-'));
    try {
      const copy = join(dir, 'kamstrup-logger.service');
      writeFileSync(copy, existsSync('/usr/bin/node') ? text : text.replaceAll('/usr/bin/node ', `${process.execPath} `));
      const result = await runProgram('systemd-analyze', ['verify', copy]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'systemd-analyze verify complained');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the sections a service needs, and starts at boot', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.ok(only('Unit', 'Description').length > 0);
    assert.equal(only('Install', 'WantedBy'), 'multi-user.target');
    assert.equal(only('Service', 'Restart'), 'on-failure');
    assert.equal(only('Service', 'RestartPreventExitStatus'), '2', 'a config problem (exit 2) must not restart in a loop');
  });

  it('runs as its own user, in the dialout group, with its store in the state directory', () => {
    assert.equal(only('Service', 'User'), 'kamstrup');
    assert.ok(only('Service', 'SupplementaryGroups').split(/\s+/).includes('dialout'));
    const state = only('Service', 'StateDirectory');
    assert.equal(state, 'kamstrup-logger');
    assert.deepEqual(only('Service', 'ReadWritePaths').split(/\s+/), [`/var/lib/${state}`]);
  });

  it('is hardened, yet can open the serial devices', () => {
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['DevicePolicy', 'closed']] as const) {
      assert.equal(only('Service', key), value, `${key}=`);
    }
    assert.equal(only('Service', 'CapabilityBoundingSet'), '');
    const devices = values('Service', 'DeviceAllow');
    for (const group of ['char-ttyUSB', 'char-ttyACM']) assert.ok(devices.includes(`${group} rw`), `DeviceAllow=${group} rw is missing: USB heads could not be opened`);
    // Each of these would break the logger: the serial devices hidden, Node's JIT refused, the
    // dialout group not mapped.
    for (const key of ['PrivateDevices', 'MemoryDenyWriteExecute', 'PrivateUsers']) assert.deepEqual(values('Service', key), [], `${key}= must not be set`);
  });

  it('starts a command the CLI has, with options that command takes', async () => {
    const words = only('Service', 'ExecStart').split(/\s+/);
    assert.ok(words[0]?.startsWith('/'), 'ExecStart must start with an absolute path');
    const bin = words.findIndex((word) => word.endsWith('/bin/kamstrup-logger'));
    assert.ok(bin > 0, 'ExecStart runs no bin/kamstrup-logger');
    const [command = '', ...rest] = words.slice(bin + 1);
    const options = rest.filter((word) => word.startsWith('-'));
    assert.equal(command, 'run');
    const help = await runProgram(process.execPath, [binPath, command, '--help']);
    assert.equal(help.code, 0, `kamstrup-logger ${command} --help: ${help.stderr}`);
    for (const option of options) assert.match(help.stdout, new RegExp(`(^|[\\s,])${option}([\\s,]|$)`, 'm'), `kamstrup-logger ${command} has no ${option}`);
    const config = rest[rest.indexOf('--config') + 1];
    assert.equal(config, '/etc/kamstrup-logger/kamstrup-logger.yaml');
    assert.equal(only('Service', 'WorkingDirectory'), words[bin]?.replace(/\/bin\/kamstrup-logger$/, ''));
  });
});
