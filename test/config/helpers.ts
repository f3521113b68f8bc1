// Config test helpers: config files in temp directories, and the problems a load throws.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { ConfigError, loadConfig, type ConfigProblem, type LoadConfigOptions, type LoadedConfig } from '../../src/config/index.js';

/** The repository root (the tests run from dist/test/config/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A Monday noon, so the schedule warnings see the same week everywhere. */
export const monday = new Date(2026, 0, 5, 12, 0, 0);

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

export function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'kamstrup-config-'));
  directories.push(directory);
  return directory;
}

/** Writes files (relative paths) into a fresh temp directory; returns the directory. */
export function withFiles(files: Record<string, string>): string {
  const directory = tempDir();
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, name)), { recursive: true });
    writeFileSync(join(directory, name), content);
  }
  return directory;
}

export const minimal = 'meters:\n  - name: home\n    url: /dev/ttyUSB0\n';

type Options = Partial<Omit<LoadConfigOptions, 'path'>>;

/** Writes the YAML as kamstrup-logger.yaml in a temp directory and loads it. */
export function loadYaml(yaml: string, options: Options = {}): LoadedConfig & { file: string; directory: string } {
  const directory = withFiles({ 'kamstrup-logger.yaml': yaml });
  const file = join(directory, 'kamstrup-logger.yaml');
  return { ...loadConfig({ path: file, env: {}, now: monday, ...options }), file, directory };
}

/** The ConfigError a load throws. */
export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'invalid-config');
    return error;
  }
  assert.fail('expected the config to be refused');
}

/** The problems of loading the YAML (written to a temp file). */
export function problemsOf(yaml: string, options: Options = {}): ConfigProblem[] {
  return [...configError(() => loadYaml(yaml, options)).problems];
}

/** The one problem at a key. */
export function problemAt(problems: readonly ConfigProblem[], key: string): ConfigProblem {
  const found = problems.filter((p) => p.key === key);
  assert.equal(found.length, 1, `one problem at ${key}, got: ${JSON.stringify(problems, null, 1)}`);
  return found[0] as ConfigProblem;
}
