// InfluxDB as a sink, in both flavours: v2 (token, org, bucket: InfluxDB 2.x, 3.x, 1.8+,
// VictoriaMetrics through /api/v2/write) and v1 (POST /write with database, retention policy and
// basic auth: InfluxDB 1.x, including Debian's 1.6). Both send the same line protocol (point.ts),
// one batch per request, over http.ts (the client library's transport): the store's outbox
// already buffers, retries and keeps what a stop leaves, so nothing here does.
//
// Only what these servers document as a successful write confirms a batch: 204 No Content
// (InfluxDB 1.x and 2.x API references for POST /write and /api/v2/write, InfluxDB 3 and
// VictoriaMetrics likewise). A 200, any other 2xx, a redirect or a web page means the url leads
// somewhere else (a login page, a proxy, a UI on the wrong port): the readings stay queued.

import type { InfluxDbSinkConfig } from '../../config/index.js';
import { kindOfStatus, retryAfterMs, SinkError, type EveryReadingSink } from '../../delivery/sink.js';
import type { PayloadRun } from '../../store/index.js';
import { HttpClient, HttpFailure, type HttpAnswer } from './http.js';
import { influxLines } from './point.js';

export const INFLUXDB_SINK = 'influxdb';

export function createInfluxSink(config: InfluxDbSinkConfig): EveryReadingSink {
  return config.api === 'v1' ? new InfluxV1Sink(config) : new InfluxV2Sink(config);
}

abstract class InfluxSink implements EveryReadingSink {
  readonly name = INFLUXDB_SINK;
  abstract readonly description: string;
  readonly batchSize: number;
  protected readonly config: InfluxDbSinkConfig;
  private readonly http: HttpClient;

  constructor(config: InfluxDbSinkConfig) {
    this.config = config;
    this.batchSize = config.batchSize;
    this.http = new HttpClient({ baseUrl: config.url, timeoutMs: config.timeoutMs, ca: config.ca, token: config.api === 'v2' ? config.token : null });
  }

  readonly format = influxLines.format;

  render(run: PayloadRun): string | null {
    return influxLines.render(run);
  }

  protected abstract writePath(): string;

  /** Headers that authenticate an exchange; none by default: v2's token goes through the library. */
  protected authorization(): Record<string, string> {
    return {};
  }

  /** The bucket or database exists and the credentials may read it: a problem, or null. */
  protected abstract checkTarget(): Promise<string | null>;

  async write(texts: readonly string[]): Promise<void> {
    let answer: HttpAnswer;
    try {
      // Uncompressed: the library makes one Buffer of the batch, whatever its size.
      answer = await this.http.send({ method: 'POST', path: this.writePath(), headers: { 'content-type': 'text/plain; charset=utf-8', ...this.authorization() }, body: texts.join('\n') });
    } catch (error) {
      throw this.transportFailure(error);
    }
    if (answer.status === 204) return;
    if (answer.status >= 200 && answer.status < 400) throw new SinkError('wrong-url', `${this.description}: ${this.notInflux(answer, 'the write')}; the readings stay queued`, { status: answer.status });
    throw this.httpFailure(answer);
  }

  /** Never rejects: whatever the url leads to, the answer is a problem in words, or null. */
  async check(): Promise<string | null> {
    try {
      const ping = await this.http.send({ method: 'GET', path: '/ping' });
      // 204 from InfluxDB 1.x, 2.x and VictoriaMetrics; 200 with a version from InfluxDB 3.
      if ((ping.status !== 204 && ping.status !== 200) || isHtml(ping)) return `${this.config.url} ${this.notInflux(ping, '/ping')}`;
      return await this.checkTarget();
    } catch (error) {
      return error instanceof HttpFailure ? error.message : `checking ${this.description} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  close(): Promise<void> {
    this.http.close();
    return Promise.resolve();
  }

  protected get(path: string, headers: Record<string, string>): Promise<HttpAnswer> {
    return this.http.send({ method: 'GET', path, headers });
  }

  /**
   * What an answer that is not the server's own says about the url: a redirect names its target,
   * a web page is called one, anything else is quoted.
   */
  protected notInflux(answer: HttpAnswer, what: string): string {
    const location = header(answer, 'location');
    if (answer.status >= 300 && answer.status < 400) {
      return `redirects ${what} to ${location ?? '(no Location given)'}: redirects are not followed; use ${location ? baseUrlOf(location, this.config.url) : 'the server\'s own address'} in sinks.influxdb.url`;
    }
    if (isHtml(answer)) return `answered ${what} with an HTML page (${answer.status}), not InfluxDB: is sinks.influxdb.url the InfluxDB (or VictoriaMetrics) server and port, not a web UI or login page?`;
    return `answered ${what} with ${answer.status} ${quote(answer.body)}, not what InfluxDB answers: is sinks.influxdb.url the InfluxDB (or VictoriaMetrics) server?`;
  }

  /**
   * The names a listing holds (SHOW DATABASES, the bucket list), or the problem with the answer
   * in words: refused credentials, a redirect, a web page, a body that is no such listing. Null
   * where the server has no such listing (not every server answers InfluxQL; InfluxDB 1.8 and
   * VictoriaMetrics have no buckets API): the writes will tell.
   */
  protected listing(answer: HttpAnswer, what: string, refused: string, namesOf: (body: unknown) => string[] | null): string[] | string | null {
    if (answer.status === 401 || answer.status === 403) return `${this.description} refuses ${refused}`;
    if ((answer.status >= 300 && answer.status < 400) || isHtml(answer)) return `${this.config.url} ${this.notInflux(answer, what)}`;
    if (answer.status < 200 || answer.status >= 300) return null;
    return namesOf(this.json(answer)) ?? `${this.config.url} ${this.notInflux(answer, what)}`;
  }

  /** A JSON body, or null when it is not JSON. */
  protected json(answer: HttpAnswer): unknown {
    try {
      return JSON.parse(answer.body) as unknown;
    } catch {
      return null;
    }
  }

  private transportFailure(error: unknown): SinkError {
    if (!(error instanceof HttpFailure)) return new SinkError('unavailable', `writing to ${this.description} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    // https:// to plain HTTP or an untrusted certificate does not get better by itself.
    const kind = error.kind === 'plain-http' || error.kind === 'untrusted-certificate' ? 'wrong-url' : 'unavailable';
    return new SinkError(kind, error.message, { cause: error });
  }

  private httpFailure(answer: HttpAnswer): SinkError {
    const { status } = answer;
    // A web page's 400 or 413 is not InfluxDB refusing a point: parking or splitting on it would
    // throw readings away (nginx answers 400 to plain HTTP on its HTTPS port). A proxy's 502 page
    // stays transient, and 401/403/404 pause either way.
    const refusal = kindOfStatus(status);
    const kind = isHtml(answer) && (refusal === 'rejected' || refusal === 'too-large') ? 'wrong-url' : refusal;
    if (kind === 'wrong-url') return new SinkError(kind, `${this.description}: ${this.notInflux(answer, 'the write')}`, { status });
    const reason = isHtml(answer) ? 'an HTML page' : answer.body.trim().slice(0, 300) || `HTTP ${status}`;
    const hint =
      kind === 'auth'
        ? this.config.api === 'v1'
          ? ': check username and password'
          : ': check the token (and that it may write to the bucket)'
        : kind === 'not-found'
          ? this.config.api === 'v1'
            ? `: does the database "${this.config.database ?? ''}" exist? (CREATE DATABASE ${this.config.database ?? ''})`
            : `: does the bucket "${this.config.bucket ?? ''}" exist in org "${this.config.org ?? ''}"?`
          : '';
    return new SinkError(kind, `${this.description} answered ${status}: ${reason}${hint}`, { status, retryAfterMs: retryAfterMs(header(answer, 'retry-after')) });
  }
}

class InfluxV1Sink extends InfluxSink {
  readonly description: string;

  constructor(config: InfluxDbSinkConfig) {
    super(config);
    this.description = `InfluxDB (v1 API) at ${config.url}, database ${config.database ?? ''}`;
  }

  protected writePath(): string {
    const query = new URLSearchParams({ db: this.config.database ?? '', precision: 'ms' });
    if (this.config.retentionPolicy) query.set('rp', this.config.retentionPolicy);
    return `/write?${query.toString()}`;
  }

  protected override authorization(): Record<string, string> {
    if (this.config.username === null || this.config.password === null) return {};
    return { authorization: `Basic ${Buffer.from(`${this.config.username}:${this.config.password}`).toString('base64')}` };
  }

  protected async checkTarget(): Promise<string | null> {
    const answer = await this.get(`/query?${new URLSearchParams({ q: 'SHOW DATABASES' }).toString()}`, this.authorization());
    const listed = this.listing(answer, 'SHOW DATABASES', 'the credentials: check username and password', databaseNames);
    if (!Array.isArray(listed)) return listed;
    if (!listed.includes(this.config.database ?? '')) return `${this.description}: no database "${this.config.database ?? ''}" (known: ${listed.join(', ') || 'none'}); create it: CREATE DATABASE ${this.config.database ?? ''}`;
    return null;
  }
}

class InfluxV2Sink extends InfluxSink {
  readonly description: string;

  constructor(config: InfluxDbSinkConfig) {
    super(config);
    this.description = `InfluxDB (v2 API) at ${config.url}, bucket ${config.bucket ?? ''}`;
  }

  protected writePath(): string {
    return `/api/v2/write?${new URLSearchParams({ org: this.config.org ?? '', bucket: this.config.bucket ?? '', precision: 'ms' }).toString()}`;
  }

  protected async checkTarget(): Promise<string | null> {
    const query = new URLSearchParams({ name: this.config.bucket ?? '', ...(this.config.org !== null && { org: this.config.org }) });
    const answer = await this.get(`/api/v2/buckets?${query.toString()}`, this.authorization());
    const listed = this.listing(answer, 'the bucket list', 'the token: check it (and that it may write to the bucket)', bucketNames);
    if (!Array.isArray(listed)) return listed;
    if (!listed.includes(this.config.bucket ?? '')) return `${this.description}: no bucket "${this.config.bucket ?? ''}"${this.config.org ? ` in org "${this.config.org}"` : ''}`;
    return null;
  }
}

function header(answer: HttpAnswer, name: string): string | null {
  const value = answer.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function isHtml(answer: HttpAnswer): boolean {
  return /html/i.test(header(answer, 'content-type') ?? '') || /^\s*</.test(answer.body);
}

function quote(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  if (text === '') return '(empty)';
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/** SHOW DATABASES as InfluxDB 1.x answers it ({results: [{series: [{values: [["heat"], …]}]}]}), or null. */
function databaseNames(body: unknown): string[] | null {
  if (!isRecord(body) || !Array.isArray(body.results)) return null;
  const [result] = body.results as unknown[];
  if (!isRecord(result)) return null;
  if (result.series === undefined) return [];
  if (!Array.isArray(result.series)) return null;
  const [series] = result.series as unknown[];
  if (series === undefined) return [];
  if (!isRecord(series) || (series.values !== undefined && !Array.isArray(series.values))) return null;
  return ((series.values ?? []) as unknown[]).flatMap((row) => (Array.isArray(row) && typeof row[0] === 'string' ? [row[0]] : []));
}

/** The bucket list as InfluxDB 2.x answers it ({buckets: [{name}, …]}), or null. */
function bucketNames(body: unknown): string[] | null {
  if (!isRecord(body) || !Array.isArray(body.buckets)) return null;
  return (body.buckets as unknown[]).flatMap((bucket) => (isRecord(bucket) && typeof bucket.name === 'string' ? [bucket.name] : []));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The endpoints the sink calls, longest first: what a redirect's target ends with. */
const ENDPOINTS = ['/api/v2/buckets', '/api/v2/write', '/write', '/query', '/ping'];

/** A redirect target as a sink url: the endpoint and query taken off, a path prefix (a proxy's /influxdb) kept. */
function baseUrlOf(location: string, base: string): string {
  const target = new URL(location, base);
  const endpoint = ENDPOINTS.find((path) => target.pathname.endsWith(path));
  const prefix = endpoint === undefined ? target.pathname : target.pathname.slice(0, -endpoint.length);
  return `${target.origin}${prefix.replace(/\/+$/, '')}`;
}
