// Real time-series servers for the delivery tests, started from the binaries of Debian's packages
// (`influxdb`: influxd 1.6.7, `victoria-metrics`: 1.79.5) on 127.0.0.1, on free ports, with their
// data in a temp dir. Each can be stopped and started again on the same port and data (outages),
// or SIGKILLed. Every process started here is killed and every temp dir removed when this process
// exits, whatever the tests did.
//
// Things the tests must know about the servers (measured on bookworm's packages):
// - InfluxDB 1.6 makes a write durable before it answers 204 (WAL fsync per write): a SIGKILL
//   right after a 204 loses nothing. A batch with a bad point answers 400 `partial write: …
//   dropped=N` AND stores the good points of the batch.
// - VictoriaMetrics answers 204 and keeps a write in memory for several seconds (8–10 s measured):
//   SIGKILL in that window LOSES acknowledged writes; SIGTERM (stop()) flushes them. Use stop()
//   for outages, kill() only where losing the server's last seconds is the point.
// - VictoriaMetrics stores a line-protocol field as the metric `<measurement>_<field>`, tags as
//   labels, /write?db=X adds the label db="X" (/api/v2/write adds nothing for bucket or org).
//   Integers and floats become float64, booleans 1/0, and a string field is parsed as a number
//   where it looks like one ("812" → 812, "1e3" → 1000) and is stored as 0 otherwise — not dropped.
//   Malformed lines are skipped with 204 (only the server log says so); there is no 400 for them.
// - VictoriaMetrics keeps EVERY copy of a sample sent twice unless deduplication is on: this
//   harness starts it with -dedup.minScrapeInterval=1ms (dedup: true, the default) so that, as in
//   InfluxDB, one series and timestamp hold one value; with equal timestamps it keeps the BIGGEST
//   value, not the last written. Written samples are searchable ~1–3 s later, or at once after
//   /internal/force_flush, which the helpers here call before reading. samples('m') reads the
//   metrics named m_*, so a measurement `m_x` would show up there as fields `x_…` of `m`.
//   A sample it already holds costs it far less than a new one (a million readings: 0.13–0.2 s
//   again, 1.1–1.5 s new, with dedup on): time only writes of new points.
// - VictoriaMetrics' httpAuth takes Basic credentials only (a v2 `Authorization: Token …` gets
//   401), and /ping and /health answer without credentials.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { missingProgram, onPath } from './programs.js';

export type ServerKind = 'influxdb-1.6' | 'victoria-metrics';

/** The InfluxDB sink settings a test or bench sets only where it needs them: every one unset. */
export const UNSET_SINK_SETTINGS = { token: null, org: null, bucket: null, database: null, retentionPolicy: null, username: null, password: null, ca: null } as const;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface ServerOptions {
  /** InfluxDB: auth-enabled with this admin user. VictoriaMetrics: -httpAuth.username/password. */
  readonly auth?: Credentials;
}

export interface VictoriaMetricsOptions extends ServerOptions {
  /** -dedup.minScrapeInterval=1ms, so a sample sent twice is stored once (default true). */
  readonly dedup?: boolean;
}

export type JsonScalar = string | number | boolean | null;

/** One stored value, the same shape from both servers. */
export interface Sample {
  /** InfluxDB: the database. VictoriaMetrics: the `db` label (set by /write?db=…), else null. */
  readonly db: string | null;
  readonly measurement: string;
  readonly field: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** VictoriaMetrics returns numbers only (see the top of this file). */
  readonly value: number | string | boolean;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Whose Basic credentials to send: by default the server's admin user (if auth is on); null sends none. */
  readonly auth?: Credentials | null;
}

interface ServerBase {
  readonly kind: ServerKind;
  /** http://127.0.0.1:<port>, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** The temp dir with the server's data (and config). */
  readonly dir: string;
  readonly auth: Credentials | null;
  readonly running: boolean;
  /** Milliseconds from spawn to the server answering its health endpoint, for the last start. */
  readonly startupMs: number;
  /** A request with a fresh connection (no keep-alive, so nothing goes stale across restarts). */
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  /** Every stored value of a measurement (VictoriaMetrics: flushed first), sorted by field, tags and time. */
  samples(measurement: string, options?: { readonly db?: string }): Promise<Sample[]>;
  /** SIGTERM, and resolves once the process has exited (SIGKILL after 20 s). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after stop() or kill()); resolves when it answers. */
  start(): Promise<void>;
  /** SIGKILL, at once; start() waits for the process to be gone. VictoriaMetrics loses the writes of its last ~10 s. */
  kill(): void;
  /** stop(), then remove the temp dir. The server cannot be started again. */
  close(): Promise<void>;
  /** The server's stdout and stderr (the last 64 KiB), for failure messages. */
  output(): string;
}

export interface InfluxSeries {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: readonly (readonly JsonScalar[])[];
}

export interface InfluxDb1Server extends ServerBase {
  readonly kind: 'influxdb-1.6';
  /** As `influxd version` prints it, e.g. 1.6.7~rc0. */
  readonly version: string;
  readonly configFile: string;
  createDatabase(name: string): Promise<void>;
  /** GET /query?db=…&epoch=ms: the series of every statement, in order; throws on any error. */
  query(db: string | null, influxql: string): Promise<InfluxSeries[]>;
}

export interface ExportedSeries {
  /** __name__ and the other labels. */
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly number[];
  readonly timestamps: readonly number[];
}

export interface VictoriaMetricsServer extends ServerBase {
  readonly kind: 'victoria-metrics';
  readonly dedup: boolean;
  /** The command line it runs with. */
  readonly args: readonly string[];
  /** /internal/force_flush: what was written becomes searchable now. */
  flush(): Promise<void>;
  /** /api/v1/export?match[]=… (after flush()), e.g. `{__name__=~"kamstrup_.*"}`. */
  export(match: string): Promise<ExportedSeries[]>;
}

export type InfluxServer = InfluxDb1Server | VictoriaMetricsServer;

const programs: Record<ServerKind, { readonly binary: string; readonly package: string; readonly title: string }> = {
  'influxdb-1.6': { binary: 'influxd', package: 'influxdb', title: 'InfluxDB 1.6' },
  'victoria-metrics': { binary: 'victoria-metrics', package: 'victoria-metrics', title: 'VictoriaMetrics' },
};

/** The one-line notice for a server whose binary is absent. */
export function skipNotice(kind: ServerKind): string {
  const { binary, package: pkg, title } = programs[kind];
  return `${binary} not installed (apt install ${pkg}): ${title} tests skipped`;
}

const unavailableCache = new Map<ServerKind, string | null>();

/** Why this kind of server cannot run here (absent, or influxd is not 1.x), or null: for `{ skip: … ?? false }`. */
export function serverUnavailable(kind: ServerKind): string | null {
  const cached = unavailableCache.get(kind);
  if (cached !== undefined) return cached;
  let reason: string | null = onPath(programs[kind].binary) ? null : missingProgram(skipNotice(kind));
  if (reason === null && kind === 'influxdb-1.6') {
    const version = influxdVersion();
    if (!version.startsWith('1.')) reason = missingProgram(`influxd on PATH is InfluxDB ${version || '(unknown version)'}, not 1.x: InfluxDB 1.6 tests skipped`);
  }
  unavailableCache.set(kind, reason);
  return reason;
}

function influxdVersion(): string {
  try {
    const out = execFileSync('influxd', ['version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return /InfluxDB v(\S+)/.exec(out)?.[1] ?? '';
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// InfluxDB 1.6

/** The influxd 1.x config this harness runs with: everything on 127.0.0.1, in `dir`, quiet. */
export function influxDbConfig(dir: string, httpPort: number, rpcPort: number, authEnabled: boolean): string {
  const s = (text: string): string => JSON.stringify(text);
  return [
    'reporting-disabled = true',
    `bind-address = ${s(`127.0.0.1:${rpcPort}`)}`,
    '',
    '[meta]',
    `  dir = ${s(join(dir, 'meta'))}`,
    '  logging-enabled = false',
    '',
    '[data]',
    `  dir = ${s(join(dir, 'data'))}`,
    `  wal-dir = ${s(join(dir, 'wal'))}`,
    '  wal-fsync-delay = "0s"',
    '  query-log-enabled = false',
    '',
    '[monitor]',
    '  store-enabled = false',
    '',
    '[subscriber]',
    '  enabled = false',
    '',
    '[continuous_queries]',
    '  enabled = false',
    '  log-enabled = false',
    '',
    '[http]',
    '  enabled = true',
    `  bind-address = ${s(`127.0.0.1:${httpPort}`)}`,
    `  auth-enabled = ${authEnabled}`,
    '  log-enabled = false',
    '  pprof-enabled = false',
    '  max-row-limit = 0',
    '',
    '[logging]',
    '  level = "error"',
    '  suppress-logo = true',
    '',
  ].join('\n');
}

export async function startInfluxDb1(options: ServerOptions = {}): Promise<InfluxDb1Server | null> {
  if (serverUnavailable('influxdb-1.6') !== null) return null;
  const auth = options.auth ?? null;
  const dir = makeTempDir('kamstrup-influxdb-');
  const [port, rpcPort] = await freePorts(2);
  if (port === undefined || rpcPort === undefined) throw new Error('no free ports');
  const configFile = join(dir, 'influxdb.conf');
  writeFileSync(configFile, influxDbConfig(dir, port, rpcPort, auth !== null));
  // INFLUXDB_* variables override the config file: keep them out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INFLUXDB_')));
  const url = `http://127.0.0.1:${port}`;
  let userCreated = false;
  const processHandle = new ServerProcess('influxd', ['run', '-config', configFile], env, async () => {
    await waitForStatus(url, '/ping', 204, processHandle);
    if (auth !== null && !userCreated) {
      // 1.x lets anyone create the first admin user while there is none.
      const statement = `CREATE USER ${quoteIdentifier(auth.username)} WITH PASSWORD ${quoteString(auth.password)} WITH ALL PRIVILEGES`;
      await influxPost(url, null, statement);
      userCreated = true;
    }
  });

  const query = async (db: string | null, influxql: string): Promise<InfluxSeries[]> => {
    const params = new URLSearchParams({ q: influxql, epoch: 'ms' });
    if (db !== null) params.set('db', db);
    const result = await send(url, 'GET', `/query?${params.toString()}`, { auth });
    return parseInfluxResponse(result, influxql);
  };

  const server: InfluxDb1Server = {
    kind: 'influxdb-1.6',
    url,
    port,
    dir,
    auth,
    version: influxdVersion(),
    configFile,
    get running() {
      return processHandle.running;
    },
    get startupMs() {
      return processHandle.startupMs;
    },
    request: (method, path, requestOptions = {}) => send(url, method, path, { ...requestOptions, auth: requestOptions.auth === undefined ? auth : requestOptions.auth }),
    createDatabase: async (name) => {
      await influxPost(url, auth, `CREATE DATABASE ${quoteIdentifier(name)}`);
    },
    query,
    samples: async (measurement, sampleOptions = {}) => {
      const databases = sampleOptions.db !== undefined
        ? [sampleOptions.db]
        : (await query(null, 'SHOW DATABASES')).flatMap((series) => series.values.map((row) => String(row[0]))).filter((name) => name !== '_internal');
      const samples: Sample[] = [];
      for (const db of databases) {
        for (const series of await query(db, `SELECT * FROM ${quoteIdentifier(measurement)} GROUP BY *`)) {
          const timeColumn = series.columns.indexOf('time');
          for (const row of series.values) {
            const time = row[timeColumn];
            if (typeof time !== 'number') throw new Error(`InfluxDB returned a row without a numeric time: ${JSON.stringify(row)}`);
            series.columns.forEach((field, index) => {
              const value = row[index];
              if (index === timeColumn || value === null || value === undefined) return;
              samples.push({ db, measurement: series.name, field, tags: series.tags, time, value });
            });
          }
        }
      }
      return sortSamples(samples);
    },
    ...lifecycle(processHandle, dir),
  };
  return startOrClose(server, processHandle);
}

async function influxPost(url: string, auth: Credentials | null, statement: string): Promise<void> {
  const result = await send(url, 'POST', '/query', {
    auth,
    body: new URLSearchParams({ q: statement }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  parseInfluxResponse(result, statement);
}

const jsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const influxResponse = z.object({
  error: z.string().optional(),
  results: z
    .array(
      z.object({
        error: z.string().optional(),
        series: z
          .array(
            z.object({
              name: z.string(),
              tags: z.record(z.string(), z.string()).optional(),
              columns: z.array(z.string()),
              values: z.array(z.array(jsonScalar)).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

function parseInfluxResponse(result: HttpResult, statement: string): InfluxSeries[] {
  if (result.status !== 200) throw new Error(`InfluxDB ${result.status} for ${statement}: ${result.body.trim()}`);
  const parsed = influxResponse.parse(JSON.parse(result.body));
  const errors = [parsed.error, ...(parsed.results ?? []).map((r) => r.error)].filter((e): e is string => e !== undefined);
  if (errors.length > 0) throw new Error(`InfluxDB error for ${statement}: ${errors.join('; ')}`);
  return (parsed.results ?? []).flatMap((r) =>
    (r.series ?? []).map((s) => ({ name: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values ?? [] })),
  );
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function quoteString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

// ---------------------------------------------------------------------------------------------
// VictoriaMetrics

export async function startVictoriaMetrics(options: VictoriaMetricsOptions = {}): Promise<VictoriaMetricsServer | null> {
  if (serverUnavailable('victoria-metrics') !== null) return null;
  const auth = options.auth ?? null;
  const dedup = options.dedup ?? true;
  const dir = makeTempDir('kamstrup-victoria-metrics-');
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `-storageDataPath=${join(dir, 'data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-retentionPeriod=100y',
    '-loggerLevel=ERROR',
    // Instant and range queries see the newest samples too (the default hides the last 30 s).
    '-search.latencyOffset=0s',
    ...(dedup ? ['-dedup.minScrapeInterval=1ms'] : []),
    ...(auth !== null ? [`-httpAuth.username=${auth.username}`, `-httpAuth.password=${auth.password}`] : []),
  ];
  const processHandle: ServerProcess = new ServerProcess('victoria-metrics', args, { ...process.env }, () => waitForStatus(url, '/health', 200, processHandle));

  const flush = async (): Promise<void> => {
    const result = await send(url, 'GET', '/internal/force_flush', { auth });
    if (result.status !== 200) throw new Error(`VictoriaMetrics force_flush: ${result.status} ${result.body.trim()}`);
  };
  const exportSeries = async (match: string): Promise<ExportedSeries[]> => {
    await flush();
    const result = await send(url, 'GET', `/api/v1/export?${new URLSearchParams({ 'match[]': match }).toString()}`, { auth });
    if (result.status !== 200) throw new Error(`VictoriaMetrics export ${match}: ${result.status} ${result.body.trim()}`);
    return result.body
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => exportedLine.parse(JSON.parse(line)));
  };

  const server: VictoriaMetricsServer = {
    kind: 'victoria-metrics',
    url,
    port,
    dir,
    auth,
    dedup,
    args,
    get running() {
      return processHandle.running;
    },
    get startupMs() {
      return processHandle.startupMs;
    },
    request: (method, path, requestOptions = {}) => send(url, method, path, { ...requestOptions, auth: requestOptions.auth === undefined ? auth : requestOptions.auth }),
    flush,
    export: exportSeries,
    samples: async (measurement, sampleOptions = {}) => {
      const prefix = `${measurement}_`;
      const selectors = [`__name__=~${JSON.stringify(`${escapeRegExp(prefix)}.+`)}`];
      if (sampleOptions.db !== undefined) selectors.push(`db=${JSON.stringify(sampleOptions.db)}`);
      const samples: Sample[] = [];
      for (const series of await exportSeries(`{${selectors.join(',')}}`)) {
        const { __name__: name = '', db = null, ...tags } = series.metric;
        series.values.forEach((value, index) => {
          const time = series.timestamps[index];
          if (time === undefined) throw new Error(`VictoriaMetrics exported more values than timestamps for ${name}`);
          samples.push({ db, measurement, field: name.slice(prefix.length), tags, time, value });
        });
      }
      return sortSamples(samples);
    },
    ...lifecycle(processHandle, dir),
  };
  return startOrClose(server, processHandle);
}

const exportedLine = z.object({
  metric: z.record(z.string(), z.string()),
  values: z.array(z.number()),
  timestamps: z.array(z.number()),
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing

function sortSamples(samples: Sample[]): Sample[] {
  const key = (s: Sample): string => `${s.db ?? ''}\u0000${s.measurement}\u0000${s.field}\u0000${JSON.stringify(Object.entries(s.tags).sort())}`;
  return samples.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : a.time - b.time;
  });
}

/** A request on a fresh connection to a harness server. */
function send(
  url: string,
  method: string,
  path: string,
  options: RequestOptions & { readonly auth: Credentials | null | undefined; readonly timeoutMs?: number },
): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

async function waitForStatus(url: string, path: string, status: number, owner: ServerProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    owner.throwIfExited();
    try {
      // Short attempts, and none outlives the process (something else may hold the port).
      const result = await Promise.race([send(url, 'GET', path, { auth: null, timeoutMs: 1_000 }), owner.whenExited()]);
      if (result !== undefined && result.status === status) return;
      if (result !== undefined) last = `${result.status} ${result.body.trim()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url}${path} did not answer ${status} within 30 s (last: ${last})\n${owner.output()}`);
}

async function freePorts(count: number): Promise<number[]> {
  // Hold all of them open at once so that they differ; the OS does not hand them out again at once.
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

const OUTPUT_LIMIT = 64 * 1024;
const liveProcesses = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHooksInstalled = false;

function cleanUpSync(): void {
  for (const child of liveProcesses) child.kill('SIGKILL');
  liveProcesses.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a dying server may still hold files; nothing more to do while exiting
    }
  }
  tempDirs.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', cleanUpSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUpSync();
      process.kill(process.pid, signal);
    });
  }
}

function makeTempDir(prefix: string): string {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/** One server binary, started and stopped again and again with the same command line. */
class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitStatus: string | null = null;
  private log = '';
  private retired = false;
  /** SIGTERM or SIGKILL sent, exit not seen yet. */
  private stopping = false;
  startupMs = 0;

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly waitUntilReady: () => Promise<void>,
  ) {}

  get running(): boolean {
    return this.child !== null && this.exitStatus === null && !this.stopping;
  }

  output(): string {
    return this.log;
  }

  /** Resolves (to nothing) when the current process has exited. */
  whenExited(): Promise<undefined> {
    return this.exited.then(() => undefined);
  }

  throwIfExited(): void {
    if (this.exitStatus !== null) throw new Error(`${this.command} exited (${this.exitStatus}) before it was ready:\n${this.log}`);
  }

  async start(): Promise<void> {
    if (this.retired) throw new Error(`${this.command}: closed, cannot start again`);
    if (this.running) throw new Error(`${this.command} is already running`);
    await this.untilExited();
    const started = performance.now();
    const child = spawn(this.command, [...this.args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exitStatus = null;
    this.stopping = false;
    liveProcesses.add(child);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`;
        liveProcesses.delete(child);
        resolve();
      });
      child.once('error', (error) => {
        this.exitStatus = `spawn failed: ${error.message}`;
        liveProcesses.delete(child);
        resolve();
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.log = (this.log + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
      });
      // A server left running by a test must not keep this process alive: the exit hook kills it.
      if (stream instanceof Socket) stream.unref();
    }
    child.unref();
    try {
      await this.waitUntilReady();
    } catch (error) {
      this.kill();
      await this.untilExited();
      throw error;
    }
    this.startupMs = Math.round(performance.now() - started);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || this.exitStatus !== null) return this.untilExited();
    this.stopping = true;
    child.kill('SIGTERM');
    const escalation = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      await this.untilExited();
    } finally {
      clearTimeout(escalation);
    }
  }

  /** Waits for the (unref'ed) child to be gone, keeping the event loop alive meanwhile. */
  private async untilExited(): Promise<void> {
    const keepAlive = setInterval(() => undefined, 1_000);
    try {
      await this.exited;
    } finally {
      clearInterval(keepAlive);
    }
  }

  kill(): void {
    if (this.child === null || this.exitStatus !== null) return;
    this.stopping = true;
    this.child.kill('SIGKILL');
  }

  retire(): void {
    this.retired = true;
  }
}

/** stop, start, kill, close and output of a server, over its process. */
function lifecycle(handle: ServerProcess, dir: string): Pick<ServerBase, 'stop' | 'start' | 'kill' | 'close' | 'output'> {
  return {
    stop: () => handle.stop(),
    start: () => handle.start(),
    kill: () => handle.kill(),
    close: async () => {
      await handle.stop();
      handle.retire();
      removeTempDir(dir);
    },
    output: () => handle.output(),
  };
}

/** Starts the server's process; on failure the server is closed (its temp dir removed) and the error passed on. */
async function startOrClose<T extends ServerBase>(server: T, handle: ServerProcess): Promise<T> {
  try {
    await handle.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// HTTP doubles: loopback servers that answer what no real server the tests start would

export interface HttpDouble {
  /** http(s)://127.0.0.1:<port>, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Connections the double holds open now, as the server side sees them. */
  openConnections(): number;
  /** Every request line seen, e.g. "POST /write?db=heat&precision=ms". */
  readonly requests: string[];
  /** Destroys every connection (answered or not) and stops listening. */
  close(): Promise<void>;
}

export type DoubleHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/**
 * A server on 127.0.0.1 that hands each request, with its whole body, to `handle` (which may
 * never answer). `tls` serves https with that key and certificate.
 */
export async function startHttpDouble(handle: DoubleHandler, tls?: { readonly key: string; readonly cert: string }): Promise<HttpDouble> {
  const requests: string[] = [];
  const sockets = new Set<Duplex>();
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
      handle(request, response, Buffer.concat(chunks).toString('utf8'));
    });
  };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest) : createHttpServer(onRequest);
  // Idle connections stay open until the client closes them: what a client leaves open shows.
  server.keepAliveTimeout = 0;
  // Count what the server accepted (TLS or not), until each connection is gone.
  server.on('connection', (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${address.port}`,
    port: address.port,
    requests,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `condition` until it holds; fails (naming `what` and the last value seen) when `withinMs` passes first. */
export async function eventually<T>(what: string, probe: () => T | Promise<T>, condition: (value: T) => boolean, withinMs = 10_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
