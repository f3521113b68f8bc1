// The HTTP exchanges of the InfluxDB sink, on node:http and node:https rather than fetch or the
// client library's transport: one deadline per exchange that destroys the request and its socket
// when it passes (a timed-out request must not hold a connection), a keep-alive agent that close()
// empties, redirects handed back instead of followed, a trusted CA given per sink, and connection
// and TLS failures said in plain words.

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
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
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query after the base URL. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

const ANSWER_LIMIT = 64 * 1024;

/** OpenSSL's and Node's codes for a certificate this process does not trust. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

export class HttpClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly https: boolean;
  private readonly agent: HttpAgent;
  private closed = false;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs;
    this.https = new URL(options.baseUrl).protocol === 'https:';
    // Keep-alive: a drain sends thousands of batches; close() destroys what the pool holds.
    this.agent = this.https ? new HttpsAgent({ keepAlive: true, ...(options.ca !== null && { ca: options.ca }) }) : new HttpAgent({ keepAlive: true });
  }

  /** One exchange; rejects only with HttpFailure. A redirect is an answer like any other (not followed). */
  send(request: HttpRequest): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(new HttpFailure('closed', `the connection to ${this.baseUrl} is closed`));
    const url = new URL(this.baseUrl + request.path);
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(request.body.length);
    const send = this.https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      // The whole exchange, not an idle time: a server that trickles must not hold it open. Destroying
      // the request destroys its socket, so nothing of it stays in the pool.
      const deadline = setTimeout(() => {
        const timeout = new HttpFailure('timeout', `${this.baseUrl} did not answer ${request.method} ${url.pathname} within ${this.timeoutMs} ms: check the url, or raise sinks.influxdb.timeout_ms for a slow server`);
        finish(() => reject(timeout));
        req.destroy(timeout);
      }, this.timeoutMs);
      const req = send(url, { method: request.method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept >= ANSWER_LIMIT) return;
          chunks.push(chunk);
          kept += chunk.length;
        });
        res.on('error', (error) => finish(() => reject(this.failure(error))));
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).subarray(0, ANSWER_LIMIT).toString('utf8') })));
      });
      req.on('error', (error) => finish(() => reject(this.failure(error))));
      req.end(request.body);
    });
  }

  /** Destroys every socket, idle or busy; later requests fail with 'closed'. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private failure(error: Error): HttpFailure {
    if (error instanceof HttpFailure) return error;
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (this.https && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /wrong version number|packet length too long|http request/i.test(error.message))) {
      return new HttpFailure('plain-http', `${this.baseUrl} speaks plain HTTP, not HTTPS: use ${this.baseUrl.replace(/^https:/, 'http:')} in sinks.influxdb.url`, error);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new HttpFailure('untrusted-certificate', `the certificate of ${this.baseUrl} is not issued for ${new URL(this.baseUrl).hostname} (${code}): use a name the certificate lists in sinks.influxdb.url`, error);
    }
    if (code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
      const what =
        code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
          ? 'is expired or not valid yet'
          : code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN'
            ? 'is self-signed, so not trusted here'
            : 'is signed by a CA this machine does not trust';
      return new HttpFailure(
        'untrusted-certificate',
        `the certificate of ${this.baseUrl} ${what} (${code}): give the server's CA certificate (PEM) as sinks.influxdb.ca_file, or set NODE_EXTRA_CA_CERTS=/path/to/ca.pem for the logger`,
        error,
      );
    }
    return new HttpFailure('unreachable', `cannot reach InfluxDB at ${this.baseUrl} (${code ?? error.message}): check the url and that the server runs`, error);
  }
}
