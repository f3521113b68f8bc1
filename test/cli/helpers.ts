// Shared helpers of the CLI end-to-end tests: run the real bin/kamstrup-logger as a child
// process, collect its output and exit status under a time limit, start long-running
// simulators and make sure no child outlives the test file.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tests run from dist/test/cli/, three levels below the repository root. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const binPath = fileURLToPath(new URL('../../../bin/kamstrup-logger', import.meta.url));

export const DEFAULT_TIMEOUT_MS = 15_000;

/** An exact decimal as the CLI prints it: no exponent, no float noise. */
export const DECIMAL = /^-?\d+(\.\d+)?$/;
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Extra environment variables; inherited KAMSTRUP_… variables are removed unless set here. */
  readonly env?: Readonly<Record<string, string>>;
  /** The child's working directory; the repository root by default. */
  readonly cwd?: string;
}

const live = new Set<ChildProcess>();

function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  // The meter and the config must come from the test (KAMSTRUP_METER, KAMSTRUP_CONFIG, the
  // KAMSTRUP_… config overrides), and the child is no test runner.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KAMSTRUP_') && name !== 'NODE_TEST_CONTEXT'));
  return { ...env, ...extra };
}

/** Starts the CLI; the child is tracked so `killAll` can end it. */
export function spawnCli(args: readonly string[], env?: Readonly<Record<string, string>>, cwd: string = repoRoot): ChildProcess {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('close', () => live.delete(child));
  return child;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited and its output streams are closed. */
export function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('error', reject);
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
  });
}

/** Runs the CLI to completion; a child that overruns `timeoutMs` is killed and the test fails. */
export async function run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const output = await outputOf(spawnCli(args, options.env, options.cwd), `kamstrup-logger ${args.join(' ')}`, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return { ...output, durationMs: performance.now() - started };
}

export interface ChildOutput extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** A child's output once it has exited; one that overruns `timeoutMs` is killed and the test fails, naming `label`. */
export async function outputOf(child: ChildProcess, label: string, timeoutMs: number): Promise<ChildOutput> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const { code, signal } = await exitOf(child);
    if (timedOut) assert.fail(`${label} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

export function assertExit(result: RunResult, expected: number): void {
  assert.equal(
    result.code,
    expected,
    `expected exit ${expected}, got ${result.code ?? `signal ${result.signal ?? '?'}`}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
}

/** Kills every CLI child still running; for `after` hooks. */
export async function killAll(): Promise<void> {
  const running = [...live].filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    running.map((child) => {
      const exited = exitOf(child).catch(() => undefined);
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

export type JsonObject = Record<string, unknown>;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every line of the output as a JSON object; the output must end with a newline. */
export function parseJsonLines(text: string): JsonObject[] {
  assert.ok(text.endsWith('\n'), `JSON lines output must end with a newline: ${JSON.stringify(text)}`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, index) => {
      const value: unknown = JSON.parse(line);
      assert.ok(isJsonObject(value), `line ${index + 1} is not a JSON object: ${line}`);
      return value;
    });
}

export interface ReadingLine {
  readonly id: number;
  readonly name: string | null;
  readonly value: string;
  readonly unit: string;
  readonly text?: string | null;
}

/** Checks one `--json` reading line's shape and returns it typed. */
export function asReading(line: JsonObject): ReadingLine {
  const { id, name, value, unit, text } = line;
  assert.equal(typeof id, 'number', `id of ${JSON.stringify(line)}`);
  assert.ok(name === null || typeof name === 'string', `name of ${JSON.stringify(line)}`);
  assert.equal(typeof value, 'string', `value of ${JSON.stringify(line)}`);
  assert.equal(typeof unit, 'string', `unit of ${JSON.stringify(line)}`);
  assert.ok(text === undefined || text === null || typeof text === 'string', `text of ${JSON.stringify(line)}`);
  assert.match(value as string, DECIMAL, `value of ${JSON.stringify(line)} is not an exact decimal`);
  const reading: ReadingLine = { id: id as number, name: name as string | null, value: value as string, unit: unit as string };
  return text === undefined ? reading : { ...reading, text: text as string | null };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}


/** A `simulate` child that has printed its ready line. */
export interface RunningSimulator {
  readonly child: ChildProcess;
  /** The first capture group of the ready pattern (the port, the pseudo-terminal path). */
  readonly endpoint: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends a signal and waits for the exit; kills the child and fails if it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<RunResult>;
}

export async function startSimulator(args: readonly string[], ready: RegExp, timeoutMs = 10_000): Promise<RunningSimulator> {
  const child = spawnCli(['simulate', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = exitOf(child);
  exited.catch(() => undefined);
  const endpoint = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = ready.exec(stdout);
      if (match) {
        done();
        resolve(match[1] ?? match[0]);
      }
    };
    const timer = setTimeout(() => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`simulate ${args.join(' ')} printed no ready line within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    const onExit = (): void => {
      done();
      reject(new Error(`simulate ${args.join(' ')} exited before it was ready (${String(child.exitCode ?? child.signalCode)})\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.off('close', onExit);
    };
    child.stdout?.on('data', check);
    child.once('close', onExit);
    check();
  });
  return {
    child,
    endpoint,
    stdout: () => stdout,
    stderr: () => stderr,
    stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 5_000): Promise<RunResult> {
      return stopChild(child, exited, signal, stopTimeoutMs, () => `simulate\nstdout: ${stdout}\nstderr: ${stderr}`, () => ({ stdout, stderr }));
    },
  };
}

/** A fresh folder under the system temp dir; remove() deletes it and everything in it. */
export function tempDir(prefix = 'kamstrup-cli-'): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A long-running CLI child (`run`) whose output is collected as it comes. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once the output so far satisfies `ready`; fails after `timeoutMs` or when the child exits first. */
  waitFor(ready: (stdout: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit; kills the child and fails if it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<RunResult>;
}

export function startCli(args: readonly string[], options: Omit<RunOptions, 'timeoutMs'> = {}): RunningCli {
  const child = spawnCli(args, options.env, options.cwd);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    changed();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let closed = false;
  child.once('close', () => {
    closed = true;
  });
  const exited = exitOf(child);
  exited.catch(() => undefined);
  const describe = (): string => `kamstrup-logger ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`;
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (ready, what, timeoutMs = DEFAULT_TIMEOUT_MS) =>
      new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('close', onExit);
        };
        const check = (): void => {
          if (!ready(stdout)) return;
          done();
          resolve();
        };
        const onExit = (): void => {
          done();
          reject(new Error(`exited (${String(child.exitCode ?? child.signalCode)}) before ${what}\n${describe()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms\n${describe()}`));
        }, timeoutMs);
        listeners.add(check);
        child.once('close', onExit);
        check();
        if (closed && listeners.has(check)) onExit();
      }),
    stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 10_000): Promise<RunResult> {
      return stopChild(child, exited, signal, stopTimeoutMs, describe, () => ({ stdout, stderr }));
    },
  };
}

/** Signals a child and waits for it; SIGKILL and a failed test if it outlives the deadline. */
async function stopChild(
  child: ChildProcess,
  exited: Promise<Exit>,
  signal: NodeJS.Signals,
  stopTimeoutMs: number,
  describe: () => string,
  output: () => { stdout: string; stderr: string },
): Promise<RunResult> {
  const started = performance.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, stopTimeoutMs);
  child.kill(signal);
  try {
    const { code, signal: endSignal } = await exited;
    if (timedOut) assert.fail(`did not exit within ${stopTimeoutMs} ms of ${signal}\n${describe()}`);
    return { code, signal: endSignal, ...output(), durationMs: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
