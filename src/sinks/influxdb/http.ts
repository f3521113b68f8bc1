// The HTTP exchanges of the InfluxDB sink, both APIs, through @influxdata/influxdb-client's Node
// transport (InfluxDB#transport, NodeHttpTransport): it builds the request from the url, path,
// method and headers, sends v2's token, hands over the status of every answer (responseStarted)
// and turns a 3xx/4xx/5xx into an HttpError with its headers and body. Not its WriteApi, which
// buffers in memory and retries on its own: the store's outbox already does both.
//
// What this file adds around it, each through an option the library passes on to node's
// http.request, because the fixes need them: one deadline per exchange whose AbortSignal makes
// node destroy the request and its socket (the library's own `timeout` only reports, and a
// timed-out request kept its connection, so it is switched off); a keep-alive agent, with the
// sink's CA, that close() empties (transportOptions.agent); redirects handed back, never followed
// (plain node request); a bounded answer (below); connection and TLS failures in plain words.
//
// The one point done on node:http itself: the library reads a JSON error body whole, without a
// limit, so it is given its request function (the transportOptions hook it takes for the
// follow-redirects module) as node's own request plus a byte count that ends the exchange once an
// answer passes ANSWER_LIMIT.

import { InfluxDB, HttpError, type Transport } from '@influxdata/influxdb-client';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connectionFailure } from '../connection-failures.js';

export type AnswerHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: AnswerHeaders;
  /** At most ANSWER_LIMIT bytes of the body: enough for any error message, bounded against a server that streams. */
  readonly body: string;
}

export type HttpFailureKind =
  | 'timeout' // no complete answer within the deadline
  | 'unreachable' // refused, reset, unknown host …
  | 'plain-http' // https:// to a port that speaks plain HTTP
  | 'untrusted-certificate' // self-signed, unknown CA, expired, wrong name
  | 'closed'; // close() was called

export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  readonly kind: HttpFailureKind;

  constructor(kind: HttpFailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
  }
}

export interface HttpClientOptions {
  /** http(s)://host:port[/prefix], without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** PEM certificates to trust for https:// besides the system's, or null. */
  readonly ca: string | null;
  /** Sent by the library as `Authorization: Token …` on every exchange (v2), or null (v1 sends its own header). */
  readonly token: string | null;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query after the base URL. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

const ANSWER_LIMIT = 64 * 1024;

type NodeRequest = (options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;

export class HttpClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly https: boolean;
  private readonly agent: HttpAgent;
  private readonly transport: Transport;
  /** What ends an exchange whose answer is too long, found by its signal: the one thing of it the request options carry. */
  private readonly cutters = new WeakMap<AbortSignal, () => void>();
  private closed = false;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs;
    this.https = new URL(options.baseUrl).protocol === 'https:';
    // Keep-alive: a drain sends thousands of batches; close() destroys what the pool holds.
    this.agent = this.https ? new HttpsAgent({ keepAlive: true, ...(options.ca !== null && { ca: options.ca }) }) : new HttpAgent({ keepAlive: true });
    const request = this.bounded(this.https ? httpsRequest : httpRequest);
    this.transport = new InfluxDB({
      url: options.baseUrl,
      ...(options.token !== null && { token: options.token }),
      // 0 switches off the library's socket timeout: it reports without destroying. The deadline in send() does both.
      timeout: 0,
      transportOptions: { agent: this.agent, 'follow-redirects': { http: { request }, https: { request } } },
    }).transport;
  }

  /** One exchange; rejects only with HttpFailure. A redirect is an answer like any other (not followed). */
  send(request: HttpRequest): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(new HttpFailure('closed', `the connection to ${this.baseUrl} is closed`));
    const pathname = new URL(this.baseUrl + request.path).pathname;
    return new Promise((resolve, reject) => {
      // Aborting the signal makes node destroy the request and its socket, so nothing of it stays in the pool.
      const controller = new AbortController();
      let ending: 'deadline' | 'too-long' | null = null;
      const end = (why: 'deadline' | 'too-long'): void => {
        if (ending !== null) return;
        ending = why;
        controller.abort();
      };
      // The whole exchange, not an idle time: a server that trickles must not hold it open.
      const deadline = setTimeout(() => end('deadline'), this.timeoutMs);
      this.cutters.set(controller.signal, () => end('too-long'));
      let status = 0;
      let headers: AnswerHeaders = {};
      const chunks: Buffer[] = [];
      let kept = 0;
      const keptAnswer = (): HttpAnswer => ({ status, headers, body: Buffer.concat(chunks).subarray(0, ANSWER_LIMIT).toString('utf8') });
      this.transport.send(request.path, request.body ?? '', { method: request.method, headers: { ...request.headers }, signal: controller.signal }, {
        responseStarted: (answerHeaders, statusCode) => {
          status = statusCode ?? 0;
          headers = answerHeaders;
        },
        // A 2xx body, decoded; a gzip bomb stops here.
        next: (chunk: Uint8Array) => {
          chunks.push(Buffer.from(chunk));
          kept += chunk.length;
          if (kept > ANSWER_LIMIT) end('too-long');
        },
        complete: () => {
          clearTimeout(deadline);
          resolve(keptAnswer());
        },
        error: (error: Error) => {
          clearTimeout(deadline);
          if (ending === 'deadline') {
            reject(new HttpFailure('timeout', `${this.baseUrl} did not answer ${request.method} ${pathname} within ${this.timeoutMs} ms: check the url, or raise sinks.influxdb.timeout_ms for a slow server`, error));
          } else if (ending === 'too-long') {
            resolve(keptAnswer()); // what was kept of it: the status and headers say enough
          } else if (error instanceof HttpError) {
            resolve({ status: error.statusCode, headers: error.headers ?? headers, body: error.body ?? '' });
          } else {
            reject(this.failure(error));
          }
        },
      });
    });
  }

  /** Destroys every socket, idle or busy; later requests fail with 'closed'. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  /** Node's request, counting the raw bytes of each answer: past ANSWER_LIMIT its exchange ends. */
  private bounded(request: NodeRequest): NodeRequest {
    return (options, callback) =>
      request(options, (response) => {
        const cut = options.signal === undefined ? undefined : this.cutters.get(options.signal);
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > ANSWER_LIMIT) cut?.();
        });
        callback(response);
      });
  }

  private failure(error: Error): HttpFailure {
    if (error instanceof HttpFailure) return error;
    const failure = connectionFailure(error, { url: this.baseUrl, server: 'InfluxDB', settings: 'sinks.influxdb' });
    return new HttpFailure(failure.kind, failure.message, error);
  }
}
