// Runs the acquisition daemon in this process on a config written to a temp dir, with its
// log captured, for tests that need real cron ticks against a simulator.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runDaemon } from '../../src/app/daemon.js';
import { loadConfig, type AppConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/index.js';

export interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface RunningDaemon {
  readonly config: AppConfig;
  readonly dir: string;
  readonly logs: LogRecord[];
  /** Stops the daemon (as SIGTERM does) and resolves once it has. */
  stop(): Promise<void>;
  /** Opens the daemon's database (after stop) for inspection. */
  openStore(): Store;
  cleanup(): void;
}

export function startDaemon(yaml: string): RunningDaemon {
  const dir = mkdtempSync(join(tmpdir(), 'kamstrup-daemon-'));
  const path = join(dir, 'kamstrup-logger.yaml');
  writeFileSync(path, yaml);
  const { config } = loadConfig({ path, env: {} });
  const logs: LogRecord[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', pretty: false, destination });
  const controller = new AbortController();
  const finished = runDaemon({ config, logger, signal: controller.signal });
  return {
    config,
    dir,
    logs,
    stop: async () => {
      controller.abort();
      await finished;
    },
    openStore: () => Store.open(config.storage.path, { sinks: [] }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
