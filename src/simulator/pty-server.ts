// Serves the simulator on a pseudo-terminal, so a program opens it exactly like a USB optical
// head. Node cannot create a pseudo-terminal by itself (that takes ioctls on /dev/ptmx), so
// socat does: it bridges a PTY to the simulator's TCP port on loopback. `ignoreeof` keeps the
// PTY alive while no program has it open, so clients may open and close it many times.

import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, readlink, unlink } from 'node:fs/promises';
import { LinkError, errnoOf } from '../links/errors.js';
import type { LineOptions, SimulatedMeter } from './meter-port.js';
import { serveSimulatorOverTcp, type SimulatorServer } from './tcp-server.js';

export interface PtySimulator {
  readonly path: string;
  readonly tcp: SimulatorServer;
  /** Settles with an error if socat stops by itself: the pseudo-terminal is gone. */
  readonly failed: Promise<LinkError>;
  close(): Promise<void>;
}

export async function serveSimulatorOverPty(meter: SimulatedMeter, lineOptions: LineOptions, path: string): Promise<PtySimulator> {
  await removeStaleLink(path);
  const tcp = await serveSimulatorOverTcp(meter, lineOptions, '127.0.0.1', 0);
  let socat: ChildProcess;
  try {
    socat = await startSocat(path, tcp.port);
  } catch (error) {
    await tcp.close();
    throw error;
  }
  let closing = false;
  const failed = new Promise<LinkError>((resolve) => {
    socat.once('exit', (code, signal) => {
      if (!closing) resolve(new LinkError('io', `socat, which provides ${path}, stopped (${signal ?? `exit ${code}`}): the pseudo-terminal is gone`));
    });
  });
  return {
    path,
    tcp,
    failed,
    close: async () => {
      closing = true;
      if (socat.exitCode === null && socat.signalCode === null) {
        const exited = new Promise((resolve) => socat.once('exit', resolve));
        socat.kill('SIGTERM');
        await exited;
      }
      await removeStaleLink(path);
      await tcp.close();
    },
  };
}

function startSocat(path: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', [`PTY,link=${path},rawer,echo=0,ignoreeof`, `TCP:127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => {
      clearInterval(poll);
      reject(
        errnoOf(error) === 'ENOENT'
          ? new LinkError('tool-missing', 'socat is not installed; it provides the pseudo-terminal: `sudo apt install socat`', { cause: error })
          : new LinkError('io', `cannot start socat: ${error.message}`, { cause: error }),
      );
    });
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new LinkError('io', `socat stopped (exit ${code}) before ${path} appeared: ${stderr.trim() || 'no message'}`));
    });
    const started = Date.now();
    const poll = setInterval(() => {
      lstat(path).then(
        () => {
          clearInterval(poll);
          child.removeAllListeners('exit');
          resolve(child);
        },
        () => {
          if (Date.now() - started > 5000) {
            clearInterval(poll);
            child.kill();
            reject(new LinkError('io', `socat did not create ${path} within 5 s: ${stderr.trim() || 'no message'}`));
          }
        },
      );
    }, 20);
  });
}

/** A symlink to a pseudo-terminal left by an earlier run is ours to replace; anything else is not. */
async function removeStaleLink(path: string): Promise<void> {
  try {
    const info = await lstat(path);
    if (!info.isSymbolicLink() || !(await readlink(path)).startsWith('/dev/pts/')) {
      throw new LinkError('io', `${path} exists and is not a pseudo-terminal link from an earlier run: choose another --pty path`);
    }
    await unlink(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
}
