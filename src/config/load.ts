// Loading the config: the YAML file (optional when the environment says it all), secrets from
// files, environment overrides, validation that collects every problem with its key and line,
// defaults, and the start-up warnings.
//
// Precedence: environment > file > defaults, for a value given from a file too: a
// KAMSTRUP_…_FILE variable beats the YAML's value and its <key>_file. Relative paths
// (storage.path, a secret's _file) are relative to the config file's directory; a
// KAMSTRUP_…_FILE variable's path to the working directory, as any command-line path.
//
// Limits keep a wrong file from taking the service down: the file's size (MAX_CONFIG_BYTES,
// checked before parsing), what YAML aliases may expand to, and the lists that multiply work.

import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { parseMeterUrl } from '../app/meter-url.js';
import { meterModels, type MeterModel } from '../registers/catalogue.js';
import { resolveRegister, UnknownRegisterError } from '../registers/resolve.js';
import { defaultJobs } from './defaults.js';
import { checkDomoticz, deviceMeter, DOMOTICZ_SINK_PATH, type CheckedJob, type DomoticzCheckContext } from './domoticz.js';
import { describeFsError, readEnvOverrides, type EnvOverride } from './env.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { envName, formatKey, isPrefix, isRecord, keyTree, nearest, nodeAt, SECRET_FILE_SUFFIX, setAt, valueAt, type KeyNode, type KeyPath } from './keys.js';
import {
  configSchema,
  DEFAULT_RETRIES,
  DEFAULT_STORAGE_PATH,
  DEFAULT_TIMEOUT_MS,
  DOMOTICZ_MAX_DEVICES,
  EXAMPLE_CONFIG_FILE,
  secretKeys,
  show as showValue,
  type ConfigFile,
  type DomoticzDeviceInput,
  type DomoticzSinkInput,
} from './schema.js';
import { applySecretFiles, dropSecretFile, holdsSecret, isSecretPath } from './secrets.js';
import { hexByte, MAX_CONFIG_BYTES, MAX_VALUE_FILE_BYTES, readTextFile, TextFileError } from './text-file.js';
import { notRegularFileReason, pseudoFileSystemOf } from '../store/storage-file.js';
import type { AppConfig, DomoticzAuth, DomoticzDeviceConfig, DomoticzSinkConfig, JobConfig, LoadedConfig, MeterConfig, SinksConfig } from './types.js';
import { startupWarnings } from './warnings.js';

export interface LoadConfigOptions {
  /** The config file as the user named it (relative to the working directory, or absolute). */
  readonly path: string;
  /** Usually process.env. */
  readonly env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  /** A missing file is no problem: the environment gives the config. Default false. */
  readonly optionalFile?: boolean;
  /** The moment the schedule warnings look ahead from (a week); now by default. */
  readonly now?: Date;
  /** How the command will use the database: `read` needs no write permission. Default `write`. */
  readonly storageAccess?: StorageAccess;
}

/** Whether a command writes the database (run, backfill) or only reads it (status, export). */
export type StorageAccess = 'read' | 'write';

const keys: KeyNode = keyTree(configSchema);

/** The annotated example shipped with the package. */
export function exampleConfigPath(): string {
  return shippedFile(EXAMPLE_CONFIG_FILE);
}

function shippedFile(name: string): string {
  return fileURLToPath(new URL(`../../../${name}`, import.meta.url));
}

/** A path as short as it can be said: relative to the working directory when below it. */
function shown(path: string): string {
  const short = relative(process.cwd(), path);
  return short.startsWith('..') || isAbsolute(short) ? path : short;
}

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const label = options.path;
  const file = resolve(options.path);
  const directory = dirname(file);
  const readValueFile = (path: string): string => readTextFile(path, MAX_VALUE_FILE_BYTES);

  // 1. The file.
  const text = readConfigFile(file, label, options.optionalFile === true);
  const source = text === null ? null : parseYaml(text, label);
  const raw: Record<string, unknown> = source === null ? {} : source.raw;
  const problems = new Problems(source);

  // 2. The environment. A value it sets (from a _FILE too) makes the YAML's <secret>_file moot.
  const env = readEnvOverrides(options.env, keys, (path) => readValueFile(resolve(path)));
  for (const problem of env.problems) {
    problems.addEnv(problem.name, problem.message);
    // The variable's own problem says it better than "missing" or "username and password go together".
    if (problem.path !== undefined) problems.silence(problem.path);
  }
  for (const path of [...env.overrides.map((o) => o.path), ...env.problems.flatMap((p) => (p.path === undefined ? [] : [p.path]))]) dropSecretFile(raw, path, secretKeys);
  applyOverrides(raw, env.overrides, problems);

  // 3. Secrets from files named in the YAML (or in a mapping an environment variable gives).
  applySecretFiles(raw, secretKeys, (path) => readValueFile(resolve(directory, path)), (path, message, secretPath) => {
    problems.add(path, message);
    problems.silence(secretPath);
  });

  // 4. The lists that multiply work, before anything walks them; then the schema: types, ranges,
  // unknown keys, cron expressions, URLs, register names.
  if (!checkListLengths(raw, problems)) throw new ConfigError(label, problems.sorted());
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.addIssue(issue, raw);

  // 5. What the schema cannot see alone.
  checkNames(raw, problems);
  checkDomoticz(valueAt(raw, DOMOTICZ_SINK_PATH), domoticzCheckContext(raw), (path, message) => problems.add(path, message));
  const storagePath = storagePathOf(raw, directory);
  if (storagePath !== null) {
    const problem = storageProblem(storagePath, options.storageAccess);
    if (problem !== null) problems.add(['storage', 'path'], problem);
  }
  const cas = casOf(raw, directory, problems);

  if (!parsed.success || problems.list.length > 0) throw new ConfigError(label, problems.sorted());
  const config = normalise(parsed.data, text === null ? null : file, storagePath ?? resolve(directory, DEFAULT_STORAGE_PATH), cas);
  return { config, warnings: startupWarnings(config, options.now ?? new Date()) };
}

/** The config file's text; null when it is missing and may be. */
function readConfigFile(file: string, label: string, optional: boolean): string | null {
  try {
    return readTextFile(file, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof TextFileError) {
      const problem = error.problem;
      if (problem.kind === 'not-utf8') {
        throw new ConfigError(label, [{
          key: '',
          line: problem.line,
          message: `${label} is not UTF-8 at line ${problem.line} (column ${problem.column}, byte ${hexByte(problem.byte)}): save it as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)`,
        }]);
      }
      const size = problem.sizeBytes === null ? '' : ` (it has ${problem.sizeBytes} bytes)`;
      throw new ConfigError(label, [{
        key: '',
        message: `the file is larger than the ${MAX_CONFIG_BYTES / (1024 * 1024)} MiB a config may have${size}, so it was not parsed: a real config is a few KB; is it the config file?`,
      }]);
    }
    const missing = typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
    if (!missing) throw new ConfigError(label, [{ key: '', message: `cannot read the config file: ${describeFsError(error)}` }]);
    if (!optional) throw new ConfigError(label, [{ key: '', message: missingFileMessage(label) }]);
    return null;
  }
}

function missingFileMessage(label: string): string {
  return `no such file. To start, copy the annotated example and set your meter's url in it: cp ${shown(exampleConfigPath())} ${label} ` +
    `(or name another file with --config FILE, or try the simulated meter: --config ${shown(shippedFile('config/demo.yaml'))})`;
}

// --- YAML --------------------------------------------------------------------------------------

interface Source {
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly raw: Record<string, unknown>;
}

/**
 * How many nodes YAML aliases (*name) may stand for in all, counted as the yaml package does:
 * a config reuses a few small anchors; a "billion laughs" file expands without end.
 */
export const MAX_ALIAS_NODES = 100;

function parseYaml(text: string, label: string): Source {
  const lines = new LineCounter();
  // Keys given twice are found below: the parser's own check compares every key with every
  // earlier one of its mapping, minutes for the tens of thousands a 1 MiB file can hold.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(label, doc.errors.map((error) => {
      const position = lines.linePos(error.pos[0]);
      // The parser recurses once per level and says so in the words of the stack.
      const message = /call stack/i.test(error.message) ? 'the YAML nests too deeply (a config is a few levels deep)' : error.message.replace(/\s+/g, ' ').trim();
      return { key: '', line: position.line, message: `YAML syntax error at column ${position.col}: ${message}` };
    }));
  }
  const repeated = repeatedKeys(doc, lines);
  if (repeated.length > 0) throw new ConfigError(label, repeated);
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    throw new ConfigError(label, [{ key: '', message: `the file is empty; it needs at least a meter (copy ${EXAMPLE_CONFIG_FILE} for a start, or see config/demo.yaml)` }]);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_NODES });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const why = /alias count/i.test(message)
      ? `its aliases (*name) stand for more than ${MAX_ALIAS_NODES} values in all; write the values out, or use fewer aliases of large anchors`
      : message;
    throw new ConfigError(label, [{ key: '', message: `cannot read the YAML: ${why}` }]);
  }
  if (!isRecord(raw)) {
    const line = contents.range ? lines.linePos(contents.range[0]).line : 1;
    throw new ConfigError(label, [{ key: '', line, message: `the file must be a mapping of ${[...topLevelKeys()].join(', ')}; it holds ${showValue(raw)}` }]);
  }
  return { doc, lines, raw };
}

/** A key given twice in one mapping, as a YAML error at the second one (a merge key << may repeat). */
function repeatedKeys(doc: Document.Parsed, lines: LineCounter): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.value === '<<') continue;
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`;
        const offset = pair.key.range?.[0] ?? 0;
        const first = seen.get(id);
        if (first === undefined) {
          seen.set(id, offset);
          continue;
        }
        const position = lines.linePos(offset);
        problems.push({ key: '', line: position.line, message: `YAML syntax error at column ${position.col}: Map keys must be unique; ${JSON.stringify(String(pair.key.value))} is already at line ${lines.linePos(first).line}` });
      }
    },
  });
  return problems;
}

function topLevelKeys(): Iterable<string> {
  return keys.kind === 'object' ? keys.keys.keys() : [];
}

/** The line of a key path's key (or list entry) in the file; undefined when the file does not hold it. */
function lineOf(source: Source, path: KeyPath): number | undefined {
  let node: unknown = source.doc.contents;
  let line: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) return undefined;
      line = lineAt(source, pair.key) ?? lineAt(source, pair.value);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) return undefined;
      line = lineAt(source, item);
      node = item;
    } else {
      return undefined;
    }
  }
  return line;
}

function lineAt(source: Source, node: unknown): number | undefined {
  if (!isNode(node) || node.range === undefined || node.range === null) return undefined;
  return source.lines.linePos(node.range[0]).line;
}

// --- Problems ----------------------------------------------------------------------------------

/**
 * Problems listed at most. A file with more is the wrong file, and finding each one's line costs
 * a walk of its mapping: 60 000 unknown keys took six minutes when every one was listed.
 */
export const MAX_LISTED_PROBLEMS = 100;

class Problems {
  readonly list: ConfigProblem[] = [];
  /** Problems found beyond MAX_LISTED_PROBLEMS, not listed. */
  private unlisted = false;
  private overrides: readonly EnvOverride[] = [];
  /** Paths whose own problem is already told better (a gap left by an environment variable). */
  private readonly silenced: KeyPath[] = [];

  constructor(private readonly source: Source | null) {}

  setOverrides(overrides: readonly EnvOverride[]): void {
    this.overrides = overrides;
  }

  silence(path: KeyPath): void {
    this.silenced.push(path);
  }

  addEnv(name: string, message: string): void {
    this.push({ key: name, env: name, message });
  }

  /** A problem at a key path: attributed to the environment variable that set it, or to its line in the file. */
  add(path: KeyPath, message: string): void {
    if (this.full()) return;
    if (this.silenced.some((p) => p.length === path.length && isPrefix(p, path))) return;
    const key = formatKey(path);
    // A value set wholesale by the environment (at this path or above) is the environment's.
    const setBy = this.overrides.find((o) => isPrefix(o.path, path));
    if (setBy !== undefined) return this.push({ key, env: setBy.name, message: withEnvHint(message, setBy, path) });
    // Otherwise the nearest place that the file or the environment holds, deepest first.
    for (let length = path.length; length > 0; length--) {
      const prefix = path.slice(0, length);
      const line = this.source === null ? undefined : lineOf(this.source, prefix);
      if (line !== undefined) return this.push({ key, line, message });
      const under = this.overrides.find((o) => isPrefix(prefix, o.path));
      if (under !== undefined) return this.push({ key, env: under.name, message });
    }
    this.push({ key, message });
  }

  addIssue(issue: z.core.$ZodIssue, raw: unknown): void {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const input = valueAt(raw, path);
    // A secret's value never reaches a message, a terminal or a log: only what kind of value it
    // is; nor does a value where a mapping holding a secret belongs (an environment variable's text).
    const secret = isSecretPath(path, secretKeys);
    const show = secret ? (value: unknown) => showSecret(value, 'a secret') : holdsSecret(path, secretKeys) ? (value: unknown) => showSecret(value, 'it may hold a secret') : showValue;
    const generic = /^(Invalid input|Invalid option|Invalid string|Too small|Too big|Unrecognized key)/.test(issue.message);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) this.add([...path, key], unknownKeyMessage(key, path));
        return;
      case 'invalid_type':
        if (!generic) return this.add(path, issue.message);
        if (input === undefined) return this.add(path, missingMessage(path));
        if (input === null) return this.add(path, `has no value; expected ${expectedText(issue.expected)}${issue.expected === 'object' ? ' (write {} for an empty one)' : issue.expected === 'array' ? ' (write [] for an empty one)' : ''}`);
        return this.add(path, `expected ${expectedText(issue.expected)}, not ${show(input)}`);
      case 'invalid_value': {
        const values = issue.values.map(String);
        const guess = typeof input === 'string' && !secret ? nearest(input, values) : undefined;
        return this.add(path, `${show(input)} is not one of ${values.join(', ')}${guess !== undefined ? `; did you mean ${guess}?` : ''}`);
      }
      default:
        return this.add(path, issue.message);
    }
  }

  sorted(): ConfigProblem[] {
    const order = (p: ConfigProblem): number => (p.line !== undefined ? p.line : p.env !== undefined ? Number.MAX_SAFE_INTEGER : 0);
    const sorted = this.list.map((p, i) => ({ p, i })).sort((a, b) => order(a.p) - order(b.p) || a.i - b.i).map(({ p }) => p);
    if (!this.unlisted) return sorted;
    return [...sorted, { key: '', message: `and more problems, not listed: fix these ${MAX_LISTED_PROBLEMS} first (is it the right file?)` }];
  }

  private full(): boolean {
    if (this.list.length < MAX_LISTED_PROBLEMS) return false;
    this.unlisted = true;
    return true;
  }

  private push(problem: ConfigProblem): void {
    if (this.full()) return;
    if (!this.list.some((p) => p.key === problem.key && p.message === problem.message)) this.list.push(problem);
  }
}

/** What kind of value a secret holds, never the value. */
function showSecret(value: unknown, why: string): string {
  const kind = typeof value === 'string' ? 'text' : typeof value === 'number' ? 'a number' : typeof value === 'boolean' ? 'true or false' : null;
  return kind === null ? showValue(value) : `${kind} (not shown: ${why})`;
}

function withEnvHint(message: string, override: EnvOverride, path: KeyPath): string {
  return override.path.length === path.length ? message : `${message} (in the value of ${override.name})`;
}

function unknownKeyMessage(key: string, parent: KeyPath): string {
  const node = nodeAt(keys, parent);
  const valid = node?.kind === 'object' ? [...node.keys.keys()] : [];
  const where = parent.length === 0 ? 'at the top level' : `in ${formatKey(parent.map((s) => (typeof s === 'number' ? 0 : s))).replace(/\[0\]/g, '[]')}`;
  if (key.endsWith(SECRET_FILE_SUFFIX) && valid.includes(key.slice(0, -SECRET_FILE_SUFFIX.length))) {
    const base = key.slice(0, -SECRET_FILE_SUFFIX.length);
    return `unknown key "${key}": ${base} is not a secret, so the file cannot name a file for it (the environment can: ${envName([...parent, base])}_FILE)`;
  }
  if (valid.length === 0) return `unknown key "${key}": nothing is valid ${where} yet`;
  const guess = nearest(key, valid);
  if (guess !== undefined) return `unknown key "${key}"; did you mean "${guess}"?`;
  return `unknown key "${key}"; valid ${where}: ${valid.join(', ')}`;
}

function missingMessage(path: KeyPath): string {
  const description = nodeAt(keys, path)?.description;
  return description === undefined ? 'missing' : `missing. ${description}`;
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping (key: value)';
    case 'array':
      return 'a list';
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

// --- The environment ---------------------------------------------------------------------------

function applyOverrides(raw: Record<string, unknown>, overrides: readonly EnvOverride[], problems: Problems): void {
  problems.setOverrides(overrides);
  const jobs = overrides.filter((o) => o.path[0] === 'jobs');
  for (const override of overrides) if (override.path[0] !== 'jobs') setAt(raw, override.path, override.value);
  // Overriding one value of the default jobs (KAMSTRUP_JOBS__1__CRON) starts from the default
  // jobs; naming a job (KAMSTRUP_JOBS__0__NAME) defines the jobs from scratch.
  const definesJobs = jobs.some((o) => o.path.length === 1 || (o.path.length === 3 && o.path[2] === 'name'));
  if (raw.jobs === undefined && jobs.length > 0 && !definesJobs) raw.jobs = defaultJobs(meterModelsOf(raw.meters));
  for (const override of jobs) setAt(raw, override.path, override.value);

  // A list index beyond the end leaves a gap: say so at the variable, not as a missing entry.
  const told = new Set<string>();
  for (const override of overrides) {
    override.path.forEach((segment, i) => {
      if (typeof segment !== 'number') return;
      const listPath = override.path.slice(0, i);
      const list = valueAt(raw, listPath);
      if (!Array.isArray(list)) return;
      for (let index = 0; index < segment; index++) {
        const gap = [...listPath, index];
        if (list[index] !== undefined || told.has(formatKey(gap))) continue;
        told.add(formatKey(gap));
        problems.silence(gap);
        problems.addEnv(override.name, `sets ${formatKey(override.path.slice(0, i + 1))}, but there is no ${formatKey(gap)}; number list entries from 0 without gaps`);
      }
    });
  }
}

function meterModelsOf(meters: unknown): { name: string; model: MeterModel }[] {
  if (!Array.isArray(meters)) return [];
  return meters.flatMap((meter: unknown) => {
    if (!isRecord(meter) || typeof meter.name !== 'string') return [];
    const model = (meterModels as readonly unknown[]).includes(meter.model) ? (meter.model as MeterModel) : 'multical-402';
    return [{ name: meter.name, model }];
  });
}

// --- Checks across values ----------------------------------------------------------------------

/**
 * The lists whose length multiplies the work of every run. A home has a few meters and two
 * jobs; the catalogue has 57 registers. Far beyond that is a generated or pasted file, refused
 * before the schema walks it entry by entry.
 */
export const listLimits = { meters: 64, jobs: 64, registersPerJob: 256, metersPerJob: 64, domoticzDevices: DOMOTICZ_MAX_DEVICES } as const;

/** Reports every list longer than its limit; false when there is one. */
function checkListLengths(raw: Record<string, unknown>, problems: Problems): boolean {
  let fine = true;
  const check = (path: KeyPath, max: number, message: (count: number) => string): void => {
    const list = valueAt(raw, path);
    if (!Array.isArray(list) || list.length <= max) return;
    fine = false;
    problems.add(path, message(list.length));
  };
  check(['meters'], listLimits.meters, (n) => `${n} meters; one logger reads at most ${listLimits.meters}: is this the right file?`);
  check(['jobs'], listLimits.jobs, (n) => `${n} jobs; one logger runs at most ${listLimits.jobs}: is this the right file?`);
  check([...DOMOTICZ_SINK_PATH, 'devices'], listLimits.domoticzDevices, (n) => `${n} devices; one logger feeds at most ${listLimits.domoticzDevices}: is this the right file?`);
  if (Array.isArray(raw.jobs)) {
    raw.jobs.slice(0, listLimits.jobs).forEach((_job: unknown, j) => {
      check(['jobs', j, 'registers'], listLimits.registersPerJob, (n) => `${n} registers; a job reads at most ${listLimits.registersPerJob} (the catalogue has 57, read 8 per request): split them across jobs`);
      check(['jobs', j, 'meters'], listLimits.metersPerJob, (n) => `${n} meters; a job names at most ${listLimits.metersPerJob}`);
    });
  }
  return fine;
}

function checkNames(raw: Record<string, unknown>, problems: Problems): void {
  const meterNames = uniqueNames(raw.meters, 'meters', 'meter', 'they tag every reading', problems);
  uniqueNames(raw.jobs, 'jobs', 'job', 'they are recorded with every reading', problems);
  if (meterNames === null || !Array.isArray(raw.jobs)) return;
  raw.jobs.forEach((job: unknown, j) => {
    if (!isRecord(job) || !Array.isArray(job.meters)) return;
    job.meters.forEach((name: unknown, m) => {
      if (typeof name !== 'string' || meterNames.includes(name)) return;
      const guess = nearest(name, meterNames);
      const hint = guess !== undefined ? `did you mean "${guess}"?` : `the meters are ${meterNames.map((n) => `"${n}"`).join(', ')}`;
      problems.add(['jobs', j, 'meters', m], `no meter is named "${name}"; ${hint}`);
    });
  });
}

/** The meters and jobs that sinks.domoticz's devices are checked against, as far as they can be read. */
function domoticzCheckContext(raw: Record<string, unknown>): DomoticzCheckContext {
  const meterList = Array.isArray(raw.meters) ? raw.meters : [];
  const names = meterList.map((meter: unknown) => (isRecord(meter) && typeof meter.name === 'string' ? meter.name : null));
  const meters = names.includes(null) ? null : (names as string[]);
  const written: unknown = raw.jobs ?? defaultJobs(meterModelsOf(raw.meters));
  if (meters === null || !Array.isArray(written)) return { meters, jobs: null, defaultJobs: raw.jobs === undefined };
  const jobs: CheckedJob[] = [];
  for (const job of written as unknown[]) {
    if (!isRecord(job) || typeof job.name !== 'string' || !Array.isArray(job.registers)) return { meters, jobs: null, defaultJobs: false };
    const registerIds = job.registers.flatMap((register: unknown) => {
      if (typeof register !== 'string' && typeof register !== 'number') return [];
      try {
        return [resolveRegister(String(register)).id];
      } catch (error) {
        if (error instanceof UnknownRegisterError) return [];
        throw error;
      }
    });
    const jobMeters = Array.isArray(job.meters) ? job.meters.filter((name: unknown): name is string => typeof name === 'string') : meters;
    jobs.push({ name: job.name, registerIds, meters: jobMeters });
  }
  return { meters, jobs, defaultJobs: raw.jobs === undefined };
}

/** Reports repeated names; returns the names when every entry has one (else null: nothing to check against). */
function uniqueNames(list: unknown, key: string, what: string, why: string, problems: Problems): string[] | null {
  if (!Array.isArray(list)) return null;
  const first = new Map<string, number>();
  let complete = true;
  list.forEach((entry: unknown, i) => {
    const name = isRecord(entry) ? entry.name : undefined;
    if (typeof name !== 'string') {
      complete = false;
      return;
    }
    const earlier = first.get(name);
    if (earlier !== undefined) problems.add([key, i, 'name'], `"${name}" is already the name of ${key}[${earlier}]; ${what} names must be unique (${why})`);
    else first.set(name, i);
  });
  return complete ? [...first.keys()] : null;
}

/** The sinks that take a ca_file (for an https:// url with a private CA). */
type SinkWithCaFile = 'influxdb' | 'domoticz';
type CaFiles = Readonly<Record<SinkWithCaFile, string | null>>;

/** Each sink's ca_file read as PEM text, or null. */
function casOf(raw: Record<string, unknown>, directory: string, problems: Problems): CaFiles {
  return { influxdb: caOf(raw, 'influxdb', directory, problems), domoticz: caOf(raw, 'domoticz', directory, problems) };
}

/** The PEM text of sinks.<sink>.ca_file (relative to the config file), or null; a file that is not one is a problem. */
function caOf(raw: Record<string, unknown>, sink: SinkWithCaFile, directory: string, problems: Problems): string | null {
  const key = ['sinks', sink, 'ca_file'];
  const name = valueAt(raw, key);
  if (typeof name !== 'string' || name === '') return null;
  const path = resolve(directory, name);
  let text: string;
  try {
    // A CA bundle may hold a few hundred certificates: the config's own limit fits it.
    text = readTextFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    problems.add(key, `cannot read ${path}: ${describeFsError(error)}`);
    return null;
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  problems.add(key, `${path} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block): give the server's CA certificate in PEM form`);
  return null;
}

function storagePathOf(raw: Record<string, unknown>, directory: string): string | null {
  const storage = raw.storage;
  if (storage !== undefined && !isRecord(storage)) return null;
  const path = storage?.path ?? DEFAULT_STORAGE_PATH;
  return typeof path === 'string' && path !== '' ? resolve(directory, path) : null;
}

/**
 * Why the database file could not be created or, for `write` access (the daemon, backfill),
 * written; null when it looks fine. `read` access (status, export) opens the file read-only,
 * so a file or directory this user may not write is fine there. `isWritable` is the
 * permission probe, injectable because root may write whatever the mode bits say.
 */
export function storageProblem(path: string, access: StorageAccess = 'write', isWritable: (path: string) => boolean = writable): string | null {
  const existing = statOrNull(path);
  if (existing?.isDirectory()) return `${path} is not a regular file (it is a directory); name the database file in it, e.g. ${join(path, 'kamstrup.sqlite')}`;
  const notRegular = notRegularFileReason(path);
  if (notRegular !== null) return `${path} is not a regular file (it is ${notRegular}); name a database file on a disk, e.g. ./data/kamstrup.sqlite`;
  if (existing !== null) {
    if (access === 'read') return null;
    if (!isWritable(path)) return `${path} is not writable by this user`;
    if (!isWritable(dirname(path))) return `the directory ${dirname(path)} is not writable by this user (SQLite keeps its journal files next to the database)`;
    return null;
  }
  // The file does not exist yet: the nearest existing ancestor must be a directory we can write to.
  let ancestor = dirname(path);
  let stat = statOrNull(ancestor);
  while (stat === null && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    stat = statOrNull(ancestor);
  }
  if (stat === null) return `cannot create ${path}: none of its parent directories exists`;
  if (!stat.isDirectory()) return `cannot create ${path}: ${ancestor} is a file, not a directory`;
  const pseudo = pseudoFileSystemOf(ancestor);
  if (pseudo !== null) return `${path} is not a regular file: ${ancestor} is on the kernel's ${pseudo} file system; name a database file on a disk, e.g. ./data/kamstrup.sqlite`;
  if (access === 'write' && !isWritable(ancestor)) return `cannot create ${path}: the directory ${ancestor} is not writable by this user`;
  return null;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

// --- The result --------------------------------------------------------------------------------

function normalise(data: ConfigFile, file: string | null, storagePath: string, cas: CaFiles): AppConfig {
  const meters: MeterConfig[] = data.meters.map((meter) => ({
    name: meter.name,
    url: meter.url.trim(),
    link: parseMeterUrl(meter.url),
    model: meter.model,
    timeoutMs: meter.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    retries: meter.retries ?? DEFAULT_RETRIES,
    billingDate: meter.billing_date === undefined ? null : { month: Number(meter.billing_date.slice(0, 2)), day: Number(meter.billing_date.slice(3)) },
  }));
  const written = data.jobs ?? defaultJobs(meters);
  const jobs: JobConfig[] = written.map((job) => ({
    name: job.name,
    cron: job.cron.trim(),
    registerIds: unique(job.registers.map((register) => resolveRegister(String(register)).id)),
    meters: job.meters === undefined ? meters.map((meter) => meter.name) : unique(job.meters),
  }));
  return {
    file,
    meters,
    jobs,
    storage: { path: storagePath, retentionDays: data.storage.retention_days },
    consumption: { timeZone: data.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, gapMs: data.consumption.gap_minutes * 60_000 },
    log: { level: data.log.level },
    sinks: sinksOf(data.sinks, meters.map((meter) => meter.name), cas),
  };
}

function sinksOf(sinks: ConfigFile['sinks'], meters: readonly string[], cas: CaFiles): SinksConfig {
  const influx = sinks.influxdb;
  const domoticz = sinks.domoticz;
  return {
    ...(influx === undefined ? {} : {
      influxdb: {
        url: influx.url.replace(/\/+$/, ''),
        api: influx.api,
        token: influx.token ?? null,
        org: influx.org ?? null,
        bucket: influx.bucket ?? null,
        database: influx.database ?? null,
        retentionPolicy: influx.retention_policy ?? null,
        username: influx.username ?? null,
        password: influx.password ?? null,
        batchSize: influx.batch_size,
        timeoutMs: influx.timeout_ms,
        ca: cas.influxdb,
      },
    }),
    ...(domoticz === undefined ? {} : { domoticz: domoticzSinkOf(domoticz, meters, cas.domoticz) }),
  };
}

/** The Domoticz sink as validated: the checks of domoticz.ts guarantee each value read here. */
function domoticzSinkOf(sink: DomoticzSinkInput, meters: readonly string[], ca: string | null): DomoticzSinkConfig {
  return {
    url: sink.url.replace(/\/+$/, ''),
    auth: domoticzAuthOf(sink),
    refreshMs: sink.refresh_minutes * 60_000,
    timeoutMs: sink.timeout_ms,
    ca,
    devices: sink.devices.map((device) => domoticzDeviceOf(device, meters)),
  };
}

function domoticzAuthOf(sink: DomoticzSinkInput): DomoticzAuth {
  switch (sink.auth) {
    case 'none':
      return { kind: 'none' };
    case 'basic':
      return { kind: 'basic', username: sink.username ?? '', password: sink.password ?? '' };
    case 'bearer':
      return { kind: 'bearer', token: sink.token ?? '' };
  }
}

/** Counters of energy (Wh → kWh) and water (litres → m³) count thousandths. */
const FIXED_COUNTER_DIVIDER = 1000;

function domoticzDeviceOf(device: DomoticzDeviceInput, meters: readonly string[]): DomoticzDeviceConfig {
  const base = { idx: device.idx, meter: deviceMeter(device.meter, meters) ?? '' };
  const id = (register: string | number | undefined): number => resolveRegister(String(register)).id;
  switch (device.type) {
    case 'electric':
      return { ...base, type: 'electric', powerRegisterId: id(device.power), energyRegisterId: id(device.energy) };
    case 'counter': {
      const meterType = device.meter_type ?? 'custom';
      const custom = meterType === 'custom';
      return {
        ...base,
        type: 'counter',
        registerId: id(device.register),
        meterType,
        divider: custom ? device.divider ?? 1 : FIXED_COUNTER_DIVIDER,
        unit: custom ? device.unit ?? null : null,
      };
    }
    default:
      return { ...base, type: device.type, registerId: id(device.register), unit: device.unit ?? null };
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
