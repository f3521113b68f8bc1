// The database lock between real processes starting at the same instant: over no lock and over
// a stale one (a pid that is gone), exactly one claims it and the others are refused 'locked'.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lockModule = fileURLToPath(new URL('../../src/store/lock.js', import.meta.url));
const CLAIMERS = 6;
const TIMEOUT_MS = 15_000;

/** Claims the lock on "go" from stdin, prints its outcome, and holds the lock until stdin closes. */
const CLAIMER = `
import { lockDatabase } from ${JSON.stringify(lockModule)};
process.stdin.setEncoding('utf8');
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try {
    lockDatabase(process.argv[1]);
    process.stdout.write('won\\n');
  } catch (error) {
    process.stdout.write((error.code ?? String(error)) + '\\n');
  }
  process.stdin.resume();
});
process.stdin.once('end', () => process.exit(0));
`;

interface Claimer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly outcome: Promise<string>;
}

function startClaimer(database: string): Claimer {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CLAIMER, database], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.setEncoding('utf8');
  // Registered first: the line checks below see each chunk already added.
  child.stdout?.on('data', (chunk: string) => (output += chunk));
  const line = (index: number, what: string): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a claimer printed no ${what} within ${TIMEOUT_MS} ms: ${JSON.stringify(output)}`)), TIMEOUT_MS);
      const check = (): void => {
        const lines = output.split('\n');
        if (lines.length <= index + 1) return;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(lines[index] ?? '');
      };
      child.stdout?.on('data', check);
    });
  return { child, ready: line(0, 'ready line').then(() => undefined), outcome: line(1, 'outcome') };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('close', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('the database lock, claimed by several processes at once', () => {
  const temp = mkdtempSync(join(tmpdir(), 'kamstrup-lock-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(temp, { recursive: true, force: true });
  });

  for (const stale of [false, true]) {
    it(`exactly one of ${CLAIMERS} wins ${stale ? 'over a stale lock' : 'when there is no lock'}; the others are refused 'locked'`, async () => {
      const database = join(temp, `${stale ? 'stale' : 'fresh'}.sqlite`);
      writeFileSync(database, '');
      if (stale) writeFileSync(`${database}.lock`, `${await deadPid()}\nsomewhere\n`);
      const claimers = Array.from({ length: CLAIMERS }, () => startClaimer(database));
      children.push(...claimers.map(({ child }) => child));
      // Every claimer has loaded the module before any claims, so the claims overlap.
      await Promise.all(claimers.map(({ ready }) => ready));
      for (const { child } of claimers) child.stdin?.write('go\n');
      const outcomes = await Promise.all(claimers.map(({ outcome }) => outcome));
      for (const { child } of claimers) child.stdin?.end();
      assert.equal(outcomes.filter((outcome) => outcome === 'won').length, 1, `outcomes: ${outcomes.join(', ')}`);
      assert.equal(outcomes.filter((outcome) => outcome === 'locked').length, CLAIMERS - 1, `outcomes: ${outcomes.join(', ')}`);
    });
  }
});
