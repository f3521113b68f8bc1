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
