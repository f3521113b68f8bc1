// InfluxDB as a sink, in both flavours: v2 (token, org, bucket through the client library:
// InfluxDB 2.x, 3.x, 1.8+, VictoriaMetrics) and v1 (POST /write with database,
// retention policy and basic auth: InfluxDB 1.x, including Debian's 1.6). Both send the same
// line protocol (point.ts). From the client library, v2 uses its transport (token, timeout,
// errors) one batch at a time, not its WriteApi: that one buffers in memory only, drops what it
// holds on close and retries on its own, and the store's outbox already does all of that right.

import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import type { InfluxDbSinkConfig } from '../../config/index.js';
import { kindOfStatus, retryAfterMs, SinkError, type Sink } from '../../delivery/sink.js';
import type { PayloadRun } from '../../store/index.js';
import { influxLines } from './point.js';

export const INFLUXDB_SINK = 'influxdb';

export function createInfluxSink(config: InfluxDbSinkConfig): Sink {
  return config.api === 'v1' ? new InfluxV1Sink(config) : new InfluxV2Sink(config);
}

abstract class InfluxSink implements Sink {
  readonly name = INFLUXDB_SINK;
  abstract readonly description: string;
  readonly batchSize: number;
  protected readonly config: InfluxDbSinkConfig;

  constructor(config: InfluxDbSinkConfig) {
    this.config = config;
    this.batchSize = config.batchSize;
  }

  readonly format = influxLines.format;

  render(run: PayloadRun): string | null {
    return influxLines.render(run);
  }

  abstract write(texts: readonly string[]): Promise<void>;

  async check(): Promise<string | null> {
    try {
      const ping = await this.request('GET', '/ping');
      if (ping.status !== 204 && ping.status !== 200) return `${this.config.url}/ping answered ${ping.status}: is this an InfluxDB (or VictoriaMetrics) server?`;
    } catch (error) {
      return this.unreachable(error);
    }
    return this.checkTarget();
  }

  protected abstract checkTarget(): Promise<string | null>;

  close(): Promise<void> {
    return Promise.resolve();
  }

  protected async request(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Response> {
    return fetch(`${this.config.url}${path}`, { method, ...init, signal: AbortSignal.timeout(this.config.timeoutMs) });
  }

  protected unreachable(error: unknown): string {
    // fetch puts the system error (or its own reason, such as "bad port") in the cause; the client library's transport hands over the system error.
    const code = (error: unknown): string | undefined => (error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined);
    const cause = error instanceof Error ? (code(error.cause) ?? code(error) ?? (error.cause instanceof Error ? error.cause.message : error.message)) : String(error);
    return `cannot reach InfluxDB at ${this.config.url} (${cause}): check the url and that the server runs`;
  }

  protected httpFailure(status: number, body: string, retryAfter: string | null): SinkError {
    const kind = kindOfStatus(status);
    const reason = body.trim().slice(0, 300) || `HTTP ${status}`;
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
    return new SinkError(kind, `${this.description} answered ${status}: ${reason}${hint}`, { status, retryAfterMs: retryAfterMs(retryAfter) });
  }
}

class InfluxV1Sink extends InfluxSink {
  readonly description: string;

  constructor(config: InfluxDbSinkConfig) {
    super(config);
    this.description = `InfluxDB (v1 API) at ${config.url}, database ${config.database ?? ''}`;
  }

  async write(texts: readonly string[]): Promise<void> {
    const query = new URLSearchParams({ db: this.config.database ?? '', precision: 'ms' });
    if (this.config.retentionPolicy) query.set('rp', this.config.retentionPolicy);
    let response: Response;
    try {
      // A Buffer body: fetch keeps extra copies of a string body while it encodes and streams it
      // (a large drain peaked ~25 MB higher).
      response = await this.request('POST', `/write?${query.toString()}`, { headers: { 'content-type': 'text/plain; charset=utf-8', ...this.authorization() }, body: Buffer.from(texts.join('\n')) });
    } catch (error) {
      throw new SinkError('unavailable', this.unreachable(error), { cause: error });
    }
    if (response.status === 204 || response.status === 200) return;
    throw this.httpFailure(response.status, await response.text(), response.headers.get('retry-after'));
  }

  protected async checkTarget(): Promise<string | null> {
    const response = await this.request('GET', `/query?${new URLSearchParams({ q: 'SHOW DATABASES' }).toString()}`, { headers: this.authorization() });
    if (response.status === 401 || response.status === 403) return `${this.description} refuses the credentials: check username and password`;
    if (!response.ok) return null; // not every server answers InfluxQL; writes will tell
    const body = (await response.json()) as { results?: { series?: { values?: string[][] }[] }[] };
    const names = (body.results?.[0]?.series?.[0]?.values ?? []).map((row) => row[0]);
    if (!names.includes(this.config.database ?? '')) return `${this.description}: no database "${this.config.database ?? ''}" (known: ${names.join(', ') || 'none'}); create it: CREATE DATABASE ${this.config.database ?? ''}`;
    return null;
  }

  private authorization(): Record<string, string> {
    if (this.config.username === null || this.config.password === null) return {};
    return { authorization: `Basic ${Buffer.from(`${this.config.username}:${this.config.password}`).toString('base64')}` };
  }
}

class InfluxV2Sink extends InfluxSink {
  readonly description: string;
  private readonly transport: Transport;
  private readonly writePath: string;

  constructor(config: InfluxDbSinkConfig) {
    super(config);
    this.description = `InfluxDB (v2 API) at ${config.url}, bucket ${config.bucket ?? ''}`;
    this.transport = new InfluxDB({ url: config.url, ...(config.token !== null && { token: config.token }), timeout: config.timeoutMs }).transport;
    this.writePath = `/api/v2/write?${new URLSearchParams({ org: config.org ?? '', bucket: config.bucket ?? '', precision: 'ms' }).toString()}`;
  }

  async write(texts: readonly string[]): Promise<void> {
    try {
      // Uncompressed, as the v1 writes: the transport gzips only when asked to.
      await this.transport.request(this.writePath, texts.join('\n'), { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    } catch (error) {
      if (error instanceof HttpError) {
        const header = error.headers?.['retry-after'];
        throw this.httpFailure(error.statusCode, error.body ?? error.message, Array.isArray(header) ? (header[0] ?? null) : (header ?? null));
      }
      throw new SinkError('unavailable', this.unreachable(error), { cause: error });
    }
  }

  protected async checkTarget(): Promise<string | null> {
    const headers: Record<string, string> = this.config.token !== null ? { authorization: `Token ${this.config.token}` } : {};
    const query = new URLSearchParams({ name: this.config.bucket ?? '', ...(this.config.org !== null && { org: this.config.org }) });
    const response = await this.request('GET', `/api/v2/buckets?${query.toString()}`, { headers });
    if (response.status === 401 || response.status === 403) return `${this.description} refuses the token: check it (and that it may write to the bucket)`;
    // 1.8 and VictoriaMetrics have no buckets API: the writes will tell.
    if (response.status === 404 || !response.ok) return null;
    const body = (await response.json()) as { buckets?: { name: string }[] };
    if (!(body.buckets ?? []).some((b) => b.name === this.config.bucket)) return `${this.description}: no bucket "${this.config.bucket ?? ''}"${this.config.org ? ` in org "${this.config.org}"` : ''}`;
    return null;
  }
}
