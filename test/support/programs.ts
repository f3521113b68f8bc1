import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether an external program (socat, influxd …) can be run, so tests that need it can skip. */
export function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, program), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The one-line notice a test skips with when a program it needs is missing. Under CI=true it
 * throws instead: .ci/run installs every such program, so a skip there is a broken install step,
 * and a suite that quietly skips its real-server tests must not pass.
 */
export function missingProgram(notice: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CI === 'true') throw new Error(`${notice}; CI=true, and .ci/run installs it: the install step is broken`);
  return notice;
}

/** `false` (run) when the program is on PATH, else the skip notice, through missingProgram. */
export function skipUnlessOnPath(program: string, notice: string): string | false {
  return onPath(program) ? false : missingProgram(notice);
}
