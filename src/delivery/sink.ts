// What a sink is to the delivery loop: something that renders a run into what it sends, takes a
// batch of those and either confirms it or fails in a way the loop can act on. Each sink's I/O
// lives in src/sinks/<name>.

import type { EveryReadingRenderer, NewestValueRenderer } from '../store/index.js';

export type SinkErrorKind =
  | 'unavailable' // network error, timeout, 429, 5xx: keep the data, back off, try again
  | 'auth' // 401/403: wrong token or password; pause and say so
  | 'not-found' // 404: unknown bucket or database; pause and say so
  | 'wrong-url' // a redirect, a web page, a 2xx other than the write's 204, plain HTTP or an untrusted certificate: the url must change; pause and say so
  | 'rejected' // 400/422: the server refuses a point; isolate it and park it
  | 'too-large'; // 413: split the batch

export class SinkError extends Error {
  override readonly name = 'SinkError';
  readonly kind: SinkErrorKind;
  readonly status: number | null;
  /** The server's Retry-After, in ms. */
  readonly retryAfterMs: number | null;

  constructor(kind: SinkErrorKind, message: string, options: { status?: number | null; retryAfterMs?: number | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

interface SinkConnection {
  /** The name in the store's outbox ('influxdb'). */
  readonly name: string;
  /** For messages: "InfluxDB 1.x at http://localhost:8086, database heat". */
  readonly description: string;
  /** Payloads per write. */
  readonly batchSize: number;
  /**
   * Sends a batch: texts of one or more payloads (an every-reading sink's stored lines of
   * consecutive runs come as one newline-separated text; a newest-per-key sink's texts are one
   * key's payload each). Resolves once the server confirmed them all, or throws SinkError.
   */
  write(texts: readonly string[]): Promise<void>;
  /**
   * Checks the connection, the credentials and the target; resolves with a problem in words (what
   * answered, and what to change) or null. Never rejects, whatever answers or does not: callers
   * (the daemon's start-up check, `status`) print the problem and go on.
   */
  check(): Promise<string | null>;
  /** Releases every connection, idle or in use; no write is made after it. */
  close(): Promise<void>;
}

/** A sink that takes every reading once, each run rendered into one line (also as the store writes the run, so a backlog is stored ready to send). */
export interface EveryReadingSink extends SinkConnection, EveryReadingRenderer {}

/** A sink that keeps each key on its newest value (store/types.ts DeliveryMode). */
export interface NewestValueSink extends SinkConnection, NewestValueRenderer {
  /** A key's value is sent again when the sink confirmed it longer ago than this (the target marks a silent sensor as timed out); null: never. */
  readonly refreshMs: number | null;
}

export type Sink = EveryReadingSink | NewestValueSink;

/** Classifies an HTTP status the way every line-protocol server means it. */
export function kindOfStatus(status: number): SinkErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-large';
  if (status === 400 || status === 422) return 'rejected';
  return 'unavailable';
}

/** Retry-After is seconds or an HTTP date (RFC 9110); some clients wrongly read ms. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
