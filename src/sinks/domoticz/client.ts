// Domoticz's JSON API as the logger calls it: GET <url>/json.htm?type=command&param=…, parameters
// in the query string (Domoticz looks at Basic credentials only on `/json.htm?`), every answer
// classified the way docs/domoticz-api.md found the real server to answer:
// - 200 with "status":"OK" is the one success; 200 "status":"ERR" is a refusal (an unknown idx, a
//   custom sensor without options) that does not get better by asking again;
// - 401 comes WITHOUT a challenge, so credentials go up front; which fix applies depends on the
//   configured auth (trusted networks, Basic over plain HTTP switched off, a wrong account);
// - 404 answers any `type` other than command (the old RType reads): the url is not Domoticz 2025;
// - a redirect is not followed (the sink's url should be the address that answers).
// One keep-alive connection, one request in flight, a hard deadline per request that destroys the
// socket, answers bounded.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { DomoticzAuth } from '../../config/index.js';
import { retryAfterMs, SinkError } from '../../delivery/sink.js';
import { connectionFailure } from '../connection-failures.js';

export interface DomoticzClientOptions {
  /** As in DomoticzSinkConfig: http(s)://host:port[/prefix], without credentials or trailing slash. */
  readonly url: string;
  readonly auth: DomoticzAuth;
  readonly timeoutMs: number;
  /** PEM certificates trusted for https:// besides the system's, or null. */
  readonly ca: string | null;
  /** Answers longer than this end the exchange as not Domoticz's (default 64 KiB: a device's JSON is about 1 KiB). */
  readonly answerLimitBytes?: number;
}

const DEFAULT_ANSWER_LIMIT = 64 * 1024;
const SETTINGS = 'sinks.domoticz';

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Why an exchange ended without an answer. */
type Ending = { readonly why: 'deadline' } | { readonly why: 'too-long' } | { readonly why: 'closed' };

export class DomoticzClient {
  readonly description: string;
  private readonly url: string;
  private readonly pathPrefix: string;
  private readonly auth: DomoticzAuth;
  private readonly timeoutMs: number;
  private readonly answerLimit: number;
  private readonly https: boolean;
  private readonly agent: HttpAgent;
  private readonly authorization: string | null;
  /** The exchange in flight, so the next waits for it and close() can end it. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Set<ClientRequest>();
  private closed = false;

  constructor(options: DomoticzClientOptions) {
    const parsed = new URL(options.url);
    // The config refuses credentials in the url; cleared here too, so no message can carry them.
    parsed.username = '';
    parsed.password = '';
    this.url = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
    this.pathPrefix = parsed.pathname.replace(/\/+$/, '');
    this.description = `Domoticz at ${this.url}`;
    this.auth = options.auth;
    this.timeoutMs = options.timeoutMs;
    this.answerLimit = options.answerLimitBytes ?? DEFAULT_ANSWER_LIMIT;
    this.https = parsed.protocol === 'https:';
    // One connection, kept open between updates: a job run sends one request per device.
    const pool = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    this.agent = this.https ? new HttpsAgent({ ...pool, ...(options.ca !== null && { ca: options.ca }) }) : new HttpAgent(pool);
    this.authorization =
      options.auth.kind === 'basic'
        ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
        : options.auth.kind === 'bearer'
          ? `Bearer ${options.auth.token}`
          : null;
  }

  /**
   * GET <url>/json.htm?type=command&param=<param>&<params, in the order given, URL-encoded>.
   * Resolves with the parsed JSON object of an HTTP 200 whose "status" is "OK"; otherwise throws
   * SinkError (see the file's header). Concurrent calls wait their turn.
   */
  command(param: string, params: Readonly<Record<string, string | number>> = {}): Promise<Readonly<Record<string, unknown>>> {
    const query = [['type', 'command'], ['param', param], ...Object.entries(params)]
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
      .join('&');
    const exchange = this.turn.then(() => this.call(param, `${this.pathPrefix}/json.htm?${query}`));
    this.turn = exchange.catch(() => undefined);
    return exchange;
  }

  /** Destroys the connection, idle or in use; later calls reject. */
  close(): Promise<void> {
    this.closed = true;
    for (const request of this.inFlight) request.destroy();
    this.agent.destroy();
    return Promise.resolve();
  }

  private async call(param: string, path: string): Promise<Readonly<Record<string, unknown>>> {
    const answer = await this.exchange(param, path);
    return this.classify(param, answer);
  }

  /** One exchange, retried once on a fresh connection when a kept-alive one turns out closed by the server. */
  private async exchange(param: string, path: string): Promise<Answer> {
    try {
      return await this.send(param, path);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      return await this.send(param, path);
    }
  }

  private send(param: string, path: string): Promise<Answer> {
    if (this.closed) return Promise.reject(new SinkError('unavailable', `the connection to ${this.description} is closed`));
    return new Promise((resolve, reject) => {
      let ending: Ending | null = null;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.authorization !== null) headers['authorization'] = this.authorization;
      const request = (this.https ? httpsRequest : httpRequest)(`${new URL(this.url).origin}${path}`, { method: 'GET', agent: this.agent, headers });
      this.inFlight.add(request);
      const end = (why: Ending): void => {
        if (ending !== null) return;
        ending = why;
        request.destroy(); // the socket too: nothing of a failed exchange goes back to the pool
      };
      // The whole exchange, not an idle time: a server that trickles must not hold it open.
      const deadline = setTimeout(() => end({ why: 'deadline' }), this.timeoutMs);
      const finish = (): void => {
        clearTimeout(deadline);
        this.inFlight.delete(request);
      };
      const fail = (error: Error, reusedSocket: boolean): void => {
        if (!this.inFlight.has(request)) return;
        finish();
        reject(this.failure(param, error, ending ?? (this.closed ? { why: 'closed' } : null), reusedSocket));
      };
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > this.answerLimit) end({ why: 'too-long' });
          else chunks.push(chunk);
        });
        response.on('end', () => {
          if (!this.inFlight.has(request)) return;
          finish();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        // Destroyed while the answer comes (too long, deadline, close()).
        response.on('error', (error) => fail(error, false));
      });
      request.on('error', (error) => fail(error, request.reusedSocket));
      request.on('close', () => fail(new Error('the connection closed before the answer was complete'), false));
      request.end();
    });
  }

  private failure(param: string, error: Error, ending: Ending | null, reusedSocket: boolean): Error {
    if (ending?.why === 'deadline') {
      return new SinkError('unavailable', `${this.description} did not answer param=${param} within ${this.timeoutMs} ms: check the url, or raise ${SETTINGS}.timeout_ms for a slow server`, { cause: error });
    }
    if (ending?.why === 'too-long') {
      return new SinkError('wrong-url', `${this.description} answered param=${param} with more than ${this.answerLimit} bytes, not what Domoticz answers: is ${SETTINGS}.url Domoticz's own address?`, { cause: error });
    }
    if (ending?.why === 'closed') return new SinkError('unavailable', `the connection to ${this.description} is closed`, { cause: error });
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) return new StaleConnection(error);
    const failure = connectionFailure(error, { url: this.url, server: 'Domoticz', settings: SETTINGS });
    // https:// to plain HTTP or an untrusted certificate does not get better by itself.
    return new SinkError(failure.kind === 'unreachable' ? 'unavailable' : 'wrong-url', failure.message, { cause: error });
  }

  private classify(param: string, answer: Answer): Readonly<Record<string, unknown>> {
    const { status } = answer;
    const options = { status, retryAfterMs: retryAfterMs(header(answer, 'retry-after')) };
    if (status === 200) {
      const body = jsonObject(answer.body);
      if (body === null || typeof body['status'] !== 'string') {
        const what = isHtml(answer) ? 'an HTML page' : `${quote(answer.body)}`;
        throw new SinkError('wrong-url', `${this.description} answered param=${param} with ${what}, not Domoticz's JSON: is ${SETTINGS}.url Domoticz's own address and port (not a proxy's login page or another web server)?`, options);
      }
      if (body['status'] === 'OK') return body;
      const message = typeof body['message'] === 'string' && body['message'] !== '' ? ` (${body['message']})` : '';
      throw new SinkError('rejected', `${this.description} refused param=${param}: "status":"${body['status']}"${message}`, options);
    }
    if (status >= 300 && status < 400) {
      const location = header(answer, 'location');
      const instead = location === null ? "Domoticz's own address" : urlOf(location, this.url);
      throw new SinkError('wrong-url', `${this.description} redirects to ${location === null ? '(no Location given)' : withoutCredentials(location, this.url)}: redirects are not followed; use ${instead} as ${SETTINGS}.url`, options);
    }
    if (status === 401) throw new SinkError('auth', `${this.description} answered 401 Unauthorized: ${this.unauthorizedFix()}`, options);
    if (status === 403) {
      throw new SinkError('auth', `${this.description} answered 403 Forbidden to param=${param}: the account lacks the rights (a Viewer cannot update devices; creating devices with \`kamstrup-logger domoticz setup\` needs an admin): give it User rights (Admin for setup) under Setup → Users`, options);
    }
    if (status === 404) {
      throw new SinkError('wrong-url', `${this.description} answered 404 Not Found to /json.htm: is ${SETTINGS}.url Domoticz (2023.2 or newer) with its own path, not another web server?`, options);
    }
    if (status === 429 || status >= 500) throw new SinkError('unavailable', `${this.description} answered ${status}${isHtml(answer) ? '' : `: ${quote(answer.body)}`}; trying again later`, options);
    throw new SinkError('wrong-url', `${this.description} answered param=${param} with ${status} ${isHtml(answer) ? 'and an HTML page' : quote(answer.body)}, not what Domoticz answers: is ${SETTINGS}.url Domoticz's own address?`, options);
  }

  /** What to change when Domoticz refuses the request's credentials, or wants some. */
  private unauthorizedFix(): string {
    switch (this.auth.kind) {
      case 'none':
        return "Domoticz asks for credentials: add this machine's address to Setup → Settings → Security → Trusted Networks (or use auth: basic)";
      case 'basic':
        return this.https
          ? `Domoticz refuses the account: check ${SETTINGS}.username and the password`
          : `Domoticz refuses the account: either it is wrong (check ${SETTINGS}.username and the password), or "Allow Basic-Auth authentication over plain HTTP" is off (Setup → Settings → Security), which refuses Basic over http:// even from a trusted network: switch it on, or use https://`;
      case 'bearer':
        return `Domoticz refuses the token: it is wrong or expired; get a new access token (Setup → More Options → Applications) and give it as ${SETTINGS}.token or token_file`;
    }
  }
}

/** A kept-alive connection the server had closed: the request never reached it, so it is sent again. */
class StaleConnection extends Error {
  override readonly name = 'StaleConnection';
  constructor(cause: Error) {
    super('the kept-alive connection was closed by the server', { cause });
  }
}

function header(answer: Answer, name: string): string | null {
  const value = answer.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function isHtml(answer: Answer): boolean {
  return /html/i.test(header(answer, 'content-type') ?? '') || /^\s*</.test(answer.body);
}

function jsonObject(body: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function quote(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  if (text === '') return '(empty)';
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function withoutCredentials(location: string, base: string): string {
  try {
    const target = new URL(location, base);
    target.username = '';
    target.password = '';
    return target.toString();
  } catch {
    return JSON.stringify(location);
  }
}

/** A redirect target as the sink's url: /json.htm and the query taken off, a path prefix kept. */
function urlOf(location: string, base: string): string {
  try {
    const target = new URL(location, base);
    const prefix = target.pathname.replace(/\/json\.htm$/, '').replace(/\/+$/, '');
    return `${target.origin}${prefix}`;
  } catch {
    return "Domoticz's own address";
  }
}
