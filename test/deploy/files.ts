// The deployment files as the deploy tests read them: docker-compose.yml and .env.example
// parsed, compose's ${VAR} interpolation, and external programs run to completion.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { outputOf, repoRoot, type ChildOutput } from '../cli/helpers.js';

export { repoRoot };

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

export type YamlMap = Record<string, unknown>;

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mapAt(parent: unknown, key: string): YamlMap {
  assert.ok(isMap(parent), `expected a mapping holding ${key}`);
  const value = parent[key];
  assert.ok(isMap(value), `${key} is not a mapping`);
  return value;
}

export interface ComposeFile {
  /** Every string in the file, keys and values: what compose interpolates (comments are not). */
  readonly strings: readonly string[];
  readonly services: Readonly<Record<string, YamlMap>>;
  readonly volumes: YamlMap;
}

export function readCompose(): ComposeFile {
  const raw = readRepoFile('docker-compose.yml');
  const doc: unknown = parse(raw);
  const services = mapAt(doc, 'services');
  for (const [name, service] of Object.entries(services)) assert.ok(isMap(service), `service ${name} is not a mapping`);
  return { strings: stringsIn(doc), services: services as Record<string, YamlMap>, volumes: mapAt(doc, 'volumes') };
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isMap(value)) return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsIn(inner)]);
  return [];
}

export function service(compose: ComposeFile, name: string): YamlMap {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has no service ${name}`);
  return found;
}

/** A service's environment as written (mapping or KEY=VALUE list), before interpolation. */
export function environmentOf(svc: YamlMap): Record<string, string> {
  const env = svc.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const text = String(entry);
      const eq = text.indexOf('=');
      return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
    }));
  }
  assert.ok(isMap(env), 'environment is neither a list nor a mapping');
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value)]));
}

// ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
const REFERENCE = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g;

/** Every variable the texts refer to, as compose interpolates them. */
export function referencedVariables(texts: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const text of texts) for (const match of text.matchAll(REFERENCE)) if (match[2] !== undefined) names.add(match[2]);
  return names;
}

/** The text as compose interpolates it from `variables`; a required variable that is missing fails. */
export function interpolate(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(REFERENCE, (whole, _dollar: string, name: string | undefined, operator: string | undefined, operand: string | undefined) => {
    if (name === undefined) return '$';
    const value = variables[name];
    const unset = value === undefined || (operator?.startsWith(':') === true && value === '');
    if (!unset) return value;
    if (operator?.endsWith('-') === true) return operand ?? '';
    assert.ok(operator?.endsWith('?') !== true, `${whole}: ${name} is required and not set`);
    return '';
  });
}

/** KEY=VALUE lines of a dotenv file; comments and blank lines skipped. */
export function parseEnvFile(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    assert.ok(match, `.env.example line ${index + 1} is not KEY=VALUE: ${line}`);
    const [, key = '', value = ''] = match;
    assert.ok(!entries.has(key), `.env.example sets ${key} twice`);
    entries.set(key, value);
  }
  return entries;
}

export function exampleEnv(): Record<string, string> {
  return Object.fromEntries(parseEnvFile(readRepoFile('.env.example')));
}

/** A service's environment as compose gives it to the container with .env.example as .env. */
export function resolvedEnvironment(compose: ComposeFile, name: string): Record<string, string> {
  const env = exampleEnv();
  return Object.fromEntries(Object.entries(environmentOf(service(compose, name))).map(([key, value]) => [key, interpolate(value, env)]));
}

/** Runs a program to completion (killed after `timeoutMs`, which fails the test). */
export function runProgram(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ChildOutput> {
  const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return outputOf(child, `${command} ${args.join(' ')}`, options.timeoutMs ?? 30_000);
}

/** Only PATH and HOME: no variable of the developer's shell leaks into compose's interpolation. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extra };
}
