// Drains one sink's outbox, oldest first, in batches: claim, write, mark delivered only once
// the server confirmed. A server that is down or busy costs nothing but time: the batch stays
// in the outbox and is tried again with exponential backoff and jitter (Retry-After honoured).
// Wrong credentials or an unknown target pause the sink with an error that says what to fix,
// retrying slowly. A point the server refuses is found by splitting the batch and parked as
// rejected with the server's reason; the rest goes on. Acquisition never waits for any of it:
// the two meet only in SQLite.

import type { Logger } from '../log/logger.js';
import type { PendingRun } from '../store/index.js';
import { SinkError, type Sink, type SinkPoint } from './sink.js';

export interface DeliveryStore {
  pendingRuns(sink: string, options: { afterReadingId?: number; limit: number }): PendingRun[];
  markDelivered(sink: string, readingIds: readonly number[]): number;
  markRejected(sink: string, readingId: number, reason: string): void;
}

export interface DeliveryOptions {
  readonly sink: Sink;
  readonly store: DeliveryStore;
  readonly logger: Logger;
  /** How often an idle sink looks for new readings. */
  readonly pollMs?: number;
  /** Backoff after a failed write: from this, doubling, up to the maximum. */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** How long a sink pauses after refused credentials or an unknown bucket or database. */
  readonly pauseMs?: number;
  readonly random?: () => number;
}

export interface BatchResult {
  readonly delivered: number;
  readonly rejected: number;
}

interface Batch {
  readonly points: SinkPoint[];
  /** The newest reading in the batch: the next batch starts after it. */
  readonly lastReadingId: number | undefined;
}

/** Readings fetched per store query while a batch is assembled. */
const PAGE_READINGS = 5000;

export class Delivery {
  readonly sink: Sink;
  private readonly store: DeliveryStore;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly pauseMs: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: DeliveryOptions) {
    this.sink = options.sink;
    this.store = options.store;
    this.logger = options.logger.child({ sink: options.sink.name });
    this.pollMs = options.pollMs ?? 1000;
    this.backoffMinMs = options.backoffMinMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 300_000;
    this.pauseMs = options.pauseMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /**
   * Delivers until aborted; a write in flight is finished first. While the server works on one
   * batch, the next is read from the store, so the two take turns rather than wait for each other.
   */
  async run(signal: AbortSignal): Promise<void> {
    let batch: Batch | null = null;
    while (!signal.aborted) {
      try {
        batch = await this.step(batch, signal);
      } catch (error) {
        // The store refused (a locked or failing disk): wait and start again from the outbox.
        batch = null;
        if (!signal.aborted) await sleep(this.failed(error), signal);
      }
    }
  }

  /** Writes one batch (reading the next meanwhile) and returns the batch to write after it. */
  private async step(current: Batch | null, signal: AbortSignal): Promise<Batch | null> {
    const batch = current ?? this.nextBatch();
    if (batch.points.length === 0) {
      await sleep(this.pollMs, signal);
      return null;
    }
    // Settled into a value at once: a write that fails while the next batch is read must not
    // count as an unhandled rejection.
    const writing = this.writePoints(batch.points).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    await new Promise((resolve) => setImmediate(resolve)); // let the request go out first
    const next = this.nextBatch(batch.lastReadingId);
    const failure = await writing;
    if (failure) {
      // Stopping: the batch stays in the outbox for the next start, nothing worth a log line.
      if (!signal.aborted) await sleep(this.failed(failure.error), signal);
      return null;
    }
    if (this.failures > 0) this.logger.info(`${this.sink.description} takes readings again`);
    this.failures = 0;
    return next;
  }

  /** One batch: the oldest pending readings as points, written and marked. */
  async deliverBatch(): Promise<BatchResult> {
    const { points } = this.nextBatch();
    if (points.length === 0) return { delivered: 0, rejected: 0 };
    return this.writePoints(points);
  }

  /** Up to batchSize points from the pending readings after `after`, whole runs where they fit. */
  private nextBatch(after?: number): Batch {
    const points: SinkPoint[] = [];
    // The newest run read: the next page may go on with it, so it becomes points last.
    let open = null as PendingRun | null;
    let cursor = after;
    for (;;) {
      const page = this.store.pendingRuns(this.sink.name, { ...(cursor !== undefined && { afterReadingId: cursor }), limit: PAGE_READINGS });
      for (const run of page) {
        if (open?.runId === run.runId) {
          open = { ...open, readings: open.readings.concat(run.readings) };
          continue;
        }
        if (open) {
          points.push(...this.sink.toPoints(open));
          if (points.length >= this.sink.batchSize) return { points, lastReadingId: lastReadingOf(open) };
        }
        open = run;
      }
      // A short page is the end of the backlog.
      if (page.reduce((sum, run) => sum + run.readings.length, 0) < PAGE_READINGS || !open) break;
      cursor = lastReadingOf(open);
    }
    if (open) points.push(...this.sink.toPoints(open));
    return { points, lastReadingId: open ? lastReadingOf(open) : undefined };
  }

  /** Writes the points; a refused batch is split until the refused points are found. */
  private async writePoints(points: readonly SinkPoint[]): Promise<BatchResult> {
    const lines = points.map((p) => p.line).filter((line) => line !== '');
    try {
      if (lines.length > 0) await this.sink.write(lines);
    } catch (error) {
      if (!(error instanceof SinkError) || (error.kind !== 'rejected' && error.kind !== 'too-large')) throw error;
      if (points.length > 1) {
        const half = Math.ceil(points.length / 2);
        const first = await this.writePoints(points.slice(0, half));
        const second = await this.writePoints(points.slice(half));
        return { delivered: first.delivered + second.delivered, rejected: first.rejected + second.rejected };
      }
      const [point] = points as [SinkPoint];
      for (const id of point.readingIds) this.store.markRejected(this.sink.name, id, error.message);
      this.logger.error({ line: point.line.slice(0, 500), readings: point.readingIds.length }, `a point was refused and parked as rejected: ${error.message}`);
      return { delivered: 0, rejected: point.readingIds.length };
    }
    const ids = points.flatMap((p) => p.readingIds);
    this.store.markDelivered(this.sink.name, ids);
    return { delivered: ids.length, rejected: 0 };
  }

  /** Logs a failure once per streak and returns how long to wait before the next try. */
  private failed(error: unknown): number {
    this.failures++;
    if (!(error instanceof SinkError)) {
      this.logger.error({ err: error }, `delivery to ${this.sink.description} failed unexpectedly; retrying`);
      return this.backoff();
    }
    if (error.kind === 'auth' || error.kind === 'not-found') {
      if (this.failures === 1) this.logger.error({ kind: error.kind, status: error.status }, `${error.message}; delivery paused, readings kept, retrying every ${Math.round(this.pauseMs / 1000)} s`);
      return this.pauseMs;
    }
    const wait = error.retryAfterMs ?? this.backoff();
    if (this.failures === 1) this.logger.warn({ kind: error.kind, status: error.status }, `${error.message}; readings kept, retrying with backoff`);
    else this.logger.debug({ failures: this.failures, waitMs: wait }, 'still failing');
    return wait;
  }

  private backoff(): number {
    return backoffMs(this.failures, this.backoffMinMs, this.backoffMaxMs, this.random);
  }
}

/** Doubling from the minimum up to the maximum, times a jitter of 0.5 … 1.5 so many loggers do not retry in step. */
export function backoffMs(failures: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(base * (0.5 + random()));
}

function lastReadingOf(run: PendingRun): number | undefined {
  return run.readings[run.readings.length - 1]?.readingId;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
