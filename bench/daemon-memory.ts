// Benchmark: resident memory of the daemon (the real binary), idle on the default schedule
// (live every 5 minutes, statistics hourly) and busy with a live job every second. The meter
// is the simulator in another process, behind a pseudo-terminal as a USB head is (or a TCP
// bridge without socat), so the figure is the daemon's own; the in-process simulator, which
// integrates a year of weather at start, is measured too. Target: RSS ≤ 80 MB.
//
//   npm run build && node dist/bench/daemon-memory.js [--seconds N]

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimulatedMultical402 } from '../src/simulator/multical-402.js';
import { serveSimulatorOverPty } from '../src/simulator/pty-server.js';
import { serveSimulatorOverTcp } from '../src/simulator/tcp-server.js';
import { onPath } from '../test/support/programs.js';

const binPath = fileURLToPath(new URL('../../bin/kamstrup-logger', import.meta.url));
const secondsArgument = process.argv.indexOf('--seconds');
const SECONDS = secondsArgument > 0 ? Number(process.argv[secondsArgument + 1]) : 20;
const TARGET_MB = 80;

function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function measure(label: string, url: string, jobs: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kamstrup-bench-'));
  const config = join(dir, 'kamstrup-logger.yaml');
  writeFileSync(config, `meters:\n  - { name: bench, url: "${url}" }\nstorage:\n  path: ./k.sqlite\n${jobs}log:\n  level: warn\n`);
  const child = spawn(process.execPath, [binPath, 'run', '--config', config, '--no-pretty'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const samples: number[] = [];
  for (let s = 0; s < SECONDS; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    samples.push(residentMb(child.pid as number));
  }
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  const last = samples[samples.length - 1] ?? NaN;
  const peak = Math.max(...samples);
  console.log(`${label.padEnd(58)} RSS after ${SECONDS} s ${last.toFixed(1)} MB (ratio to the ${TARGET_MB} MB target ${(last / TARGET_MB).toFixed(2)}), peak at start-up ${peak.toFixed(1)} MB`);
}

const LIVE_EVERY_SECOND = 'jobs:\n  - { name: live, cron: "* * * * * *", registers: [heat_energy, power, t1, t2, t_diff, flow, volume, hour_counter, info] }\n';
const ptyDir = mkdtempSync(join(tmpdir(), 'kamstrup-bench-pty-'));
const meter = new SimulatedMultical402();
const pty = onPath('socat') ? await serveSimulatorOverPty(meter, {}, join(ptyDir, 'ttyKAM')) : null;
const tcp = pty ? null : await serveSimulatorOverTcp(meter, {}, '127.0.0.1', 0);
const head = pty ? { label: 'serial head (pseudo-terminal)', url: pty.path } : { label: 'TCP bridge', url: `tcp://127.0.0.1:${tcp?.port ?? 0}` };
await measure(`idle, default jobs, ${head.label}`, head.url, '');
await measure(`busy, live job every second, ${head.label}`, head.url, LIVE_EVERY_SECOND);
await measure('idle, default jobs, in-process simulator', 'sim://multical-402', '');
await pty?.close();
await tcp?.close();
rmSync(ptyDir, { recursive: true, force: true });
