// Bad usage exits 2 with a message on stderr and nothing on stdout; --help and --version work
// on the program and on every command.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertExit, killAll, repoRoot, run } from './helpers.js';

const SIM = 'sim://multical-402';

interface UsageCase {
  readonly title: string;
  readonly args: readonly string[];
  /** Every pattern must match stderr. */
  readonly stderr: readonly RegExp[];
}

const usageCases: readonly UsageCase[] = [
  {
    title: 'an unknown register name, suggesting the nearest names',
    args: ['read', '--meter', SIM, 'heat_enrgy'],
    stderr: [/unknown register "heat_enrgy"/, /did you mean heat_energy\b/],
  },
  {
    title: 'an unknown register among good ones (nothing is read)',
    args: ['read', '--meter', SIM, '--json', '60', 'powr', '80'],
    stderr: [/unknown register "powr"/, /did you mean [^?]*\bpower\b/],
  },
  {
    title: 'a register id beyond 16 bits',
    args: ['read', '--meter', SIM, '70000'],
    stderr: [/unknown register "70000"/, /16-bit/],
  },
  { title: 'read without --meter', args: ['read', '60'], stderr: [/--meter/, /not specified/] },
  { title: 'info without --meter', args: ['info'], stderr: [/--meter/] },
  { title: 'scan without --meter', args: ['scan', '--json'], stderr: [/--meter/] },
  { title: 'read without registers', args: ['read', '--meter', SIM], stderr: [/missing required argument 'register'/] },
  { title: 'an unknown option', args: ['read', '--meter', SIM, '--bogus', '60'], stderr: [/unknown option '--bogus'/] },
  { title: 'an unknown command', args: ['frobnicate'], stderr: [/unknown command 'frobnicate'/] },
  {
    title: 'a meter URL with an unknown scheme',
    args: ['read', '--meter', 'foo://x', '60'],
    stderr: [/"foo:\/\/x"/, /unknown scheme/, /sim:\/\/multical-402/],
  },
  {
    title: 'a serial URL with two slashes',
    args: ['read', '--meter', 'serial://dev/ttyUSB0', '60'],
    stderr: [/three slashes/],
  },
  { title: 'a TCP URL without a port', args: ['read', '--meter', 'tcp://127.0.0.1', '60'], stderr: [/needs a host and a port/] },
  {
    title: 'a sim URL with an unknown parameter',
    args: ['read', '--meter', `${SIM}?colour=red`, '60'],
    stderr: [/unknown parameter "colour"/, /valid: .*fault/],
  },
  { title: 'a sim URL for an unknown model', args: ['info', '--meter', 'sim://multical-999'], stderr: [/multical-999/] },
  { title: 'a sim URL with an unknown fault', args: ['read', '--meter', `${SIM}?fault=lightning`, '60'], stderr: [/unknown fault "lightning"/] },
  { title: 'a sim URL with a bad flag value', args: ['read', '--meter', `${SIM}?echo=yes`, '60'], stderr: [/echo takes 1 or 0/] },
  { title: '--timeout abc', args: ['read', '--meter', SIM, '--timeout', 'abc', '60'], stderr: [/--timeout takes a whole number from 1 to 60000, not "abc"/] },
  { title: '--timeout 1.5', args: ['read', '--meter', SIM, '--timeout', '1.5', '60'], stderr: [/--timeout takes a whole number/] },
  { title: '--retries -1', args: ['read', '--meter', SIM, '--retries', '-1', '60'], stderr: [/--retries takes a whole number/] },
  { title: '--retries 11', args: ['read', '--meter', SIM, '--retries', '11', '60'], stderr: [/--retries takes a whole number from 0 to 10/] },
  { title: 'simulate without --listen or --pty', args: ['simulate'], stderr: [/--listen/, /--pty/] },
  { title: 'simulate --listen with no TCP URL', args: ['simulate', '--listen', 'localhost:2002'], stderr: [/--listen takes tcp:\/\/HOST:PORT/] },
  {
    title: 'simulate with an unknown fault',
    args: ['simulate', '--listen', 'tcp://127.0.0.1:0', '--fault', 'lightning'],
    stderr: [/unknown fault "lightning"/],
  },
  { title: 'registers --model for an unknown model', args: ['registers', '--model', 'multical-999'], stderr: [/multical-999/, /multical-402/] },
];

describe('bad usage exits 2, explains on stderr and prints nothing on stdout', { concurrency: 4 }, () => {
  after(killAll);

  for (const { title, args, stderr } of usageCases) {
    it(title, async () => {
      const result = await run(args);
      assertExit(result, 2);
      assert.equal(result.stdout, '', 'nothing on stdout');
      assert.notEqual(result.stderr.trim(), '', 'a message on stderr');
      for (const pattern of stderr) assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

const commands = ['read', 'info', 'scan', 'registers', 'simulate'] as const;
const meterCommands = new Set<string>(['read', 'info', 'scan']);

describe('--help', { concurrency: 4 }, () => {
  after(killAll);

  it('on the program lists every command', async () => {
    const result = await run(['--help']);
    assertExit(result, 0);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: kamstrup-logger \[options\] \[command\]\n/);
    for (const command of commands) assert.match(result.stdout, new RegExp(`^ {2}${command}\\b`, 'm'));
  });

  for (const command of commands) {
    it(`on ${command}`, async () => {
      const result = await run([command, '--help']);
      assertExit(result, 0);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, new RegExp(`^Usage: kamstrup-logger ${command} \\[options\\]`));
      assert.match(result.stdout, /--help\b/);
      if (meterCommands.has(command)) {
        assert.match(result.stdout, /-m, --meter <url>/);
        assert.match(result.stdout, /--timeout <ms>/);
        assert.match(result.stdout, /--retries <n>/);
      }
    });
  }

  it('on read explains the exit status', async () => {
    const result = await run(['read', '--help']);
    assertExit(result, 0);
    assert.match(result.stdout, /Exit status: 0 all read, 3 .*, 1 meter or link failure\n\(what was read before the failure is still printed\), 2 bad usage/);
  });

  it('via `help <command>`', async () => {
    const result = await run(['help', 'simulate']);
    assertExit(result, 0);
    assert.match(result.stdout, /^Usage: kamstrup-logger simulate \[options\]/);
    assert.match(result.stdout, /--fault <kind>/);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const result = await run(['--version']);
    assertExit(result, 0);
    assert.equal(result.stdout, `${version}\n`);
    assert.equal(result.stderr, '');
  });
});
