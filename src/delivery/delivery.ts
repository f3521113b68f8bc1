// Drains one sink's outbox, oldest first, in batches: claim, write, mark delivered only once
// the server confirmed. A server that is down or busy costs nothing but time: the batch stays
// in the outbox and is tried again with exponential backoff and jitter (Retry-After honoured).
// Wrong credentials, an unknown target or a url that leads elsewhere pause the sink with an error that says what to fix,
// retrying slowly. A point the server refuses is found by splitting the batch and parked as
// rejected with the server's reason; the rest goes on. Acquisition never waits for any of it:
// the two meet only in SQLite.
//
// A newest-per-key sink (Domoticz) is drained the same way: its outbox hands out each key's
// newest value as a one-run payload. What differs follows from what such a sink is, not from
// its name: a refused value holds its key instead of parking a reading, a key confirmed long
// ago is queued again (refreshMs), and keys held back are reported once.

import type { Logger } from '../log/logger.js';
import { readingRangesOf, splitPayloads, type HeldEntry, type IdRange, type PendingItem, type PendingPayloads, type PendingRun } from '../store/index.js';
import { SinkError, type Sink } from './sink.js';

export interface DeliveryStore {
  pendingRuns(sink: string, options: { afterReadingId?: number; limit: number }): PendingItem[];
  /** `confirmedAt`: when the sink confirmed them, for the store's delivery latency. */
  markDelivered(sink: string, readings: readonly IdRange[], confirmedAt?: Date): number;
  markRejected(sink: string, readingId: number, reason: string): void;
  refresh(sink: string, olderThanMs: number): number;
  heldEntries(sink: string): HeldEntry[];
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
  /** Jitter source, 0 ≤ x < 1 (tests pin it). */
  readonly random?: () => number;
  /** Waits ms or until the signal aborts (tests record the waits instead of taking them). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface BatchResult {
  readonly delivered: number;
  readonly rejected: number;
}

/** A run rendered now from its readings (queued again by backfill, or owed in part). */
interface RenderedRun {
  readonly line: string;
  readonly readings: readonly IdRange[];
}

/** What a batch is made of: the stored payloads of consecutive runs, or a run rendered now. */
type Point = PendingPayloads | RenderedRun;

interface Batch {
  readonly points: Point[];
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
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private failures = 0;
  /** Readings the server confirmed, marked delivered while it works on the next batch. */
  private confirmed: IdRange[] = [];
  /** When the server confirmed the newest of them: marking them comes later, the latency ends here. */
  private confirmedAt = new Date(0);
  /** Ends the idle wait in progress: wake() was called. */
  private idle: AbortController | null = null;
  /** wake() was called while the loop was busy: its next idle wait is skipped. */
  private woken = false;
  /** A newest-per-key sink's held keys as last reported, by key: each reason is logged once. */
  private readonly reportedHolds = new Map<string, string>();

  constructor(options: DeliveryOptions) {
    this.sink = options.sink;
    this.store = options.store;
    this.logger = options.logger.child({ sink: options.sink.name });
    this.pollMs = options.pollMs ?? 1000;
    this.backoffMinMs = options.backoffMinMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 300_000;
    this.pauseMs = options.pauseMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
  }

  /**
   * Delivers until aborted; a write in flight is finished first. While the server works on one
   * batch, the batch before it is marked delivered and the next is read from the store, so the
   * server never waits for the store.
   */
  async run(signal: AbortSignal): Promise<void> {
    let batch: Batch | null = null;
    while (!signal.aborted) {
      try {
        batch = await this.step(batch, signal);
      } catch (error) {
        // The store refused (a locked or failing disk): wait and start again from the outbox.
        batch = null;
        if (!signal.aborted) await this.sleep(this.failed(error), signal);
      }
    }
    try {
      this.markConfirmed();
    } catch (error) {
      this.logger.warn({ err: error }, `the readings ${this.sink.description} took last could not be marked delivered; they are sent again (the same points, overwritten)`);
    }
  }

  /** Writes one batch (marking the one before and reading the next meanwhile) and returns the batch to write after it. */
  private async step(current: Batch | null, signal: AbortSignal): Promise<Batch | null> {
    // Reading from the front of the backlog, or idle: what was confirmed must be out of it first.
    if (!current?.points.length) this.markConfirmed();
    const batch = current ?? this.nextBatch();
    if (batch.points.length === 0) {
      if (this.whileIdle() === 0 && !this.woken) {
        this.idle = new AbortController();
        await this.sleep(this.pollMs, AbortSignal.any([signal, this.idle.signal]));
        this.idle = null;
      }
      this.woken = false;
      return null;
    }
    // Settled into a value at once: a write that fails while the next batch is read must not
    // count as an unhandled rejection.
    const writing = this.writePoints(batch.points).then(
      (result) => {
        this.confirmed.push(...result.delivered);
        this.confirmedAt = new Date();
        return null;
      },
      (error: unknown) => ({ error }),
    );
    await new Promise((resolve) => setImmediate(resolve)); // let the request go out first
    this.markConfirmed();
    const next = this.nextBatch(batch.lastReadingId);
    const failure = await writing;
    if (failure) {
      // Stopping: the batch stays in the outbox for the next start, nothing worth a log line.
      if (!signal.aborted) await this.sleep(this.failed(failure.error), signal);
      return null;
    }
    if (this.failures > 0) this.logger.info(`${this.sink.description} takes readings again`);
    this.failures = 0;
    return next;
  }

  /**
   * Something was queued (the daemon calls it as a run commits): an idle loop looks at once
   * instead of at its next poll, so a tile shows a new value within milliseconds.
   */
  wake(): void {
    if (this.idle) this.idle.abort();
    else this.woken = true;
  }

  /**
   * A newest-per-key sink, with nothing to send: reports keys newly held back and queues again
   * the values its target would soon mark as timed out. Returns how many it queued.
   */
  private whileIdle(): number {
    if (this.sink.delivery !== 'newest-per-key') return 0;
    this.reportHolds(this.store.heldEntries(this.sink.name));
    return this.sink.refreshMs === null ? 0 : this.store.refresh(this.sink.name, this.sink.refreshMs);
  }

  private reportHolds(held: readonly HeldEntry[]): void {
    const keys = new Set(held.map((entry) => entry.key));
    for (const key of this.reportedHolds.keys()) if (!keys.has(key)) this.reportedHolds.delete(key);
    for (const { key, state, reason } of held) {
      if (this.reportedHolds.get(key) === reason) continue;
      this.reportedHolds.set(key, reason);
      if (state === 'held') this.logger.warn({ key }, `${reason}; held, not sent, until a value that can be sent`);
      else this.logger.error({ key }, `${reason}; not sent again until its configuration changes, the others go on`);
    }
  }

  /** One batch: the oldest pending readings as points, written and marked. */
  async deliverBatch(): Promise<BatchResult> {
    const { points } = this.nextBatch();
    if (points.length === 0) return { delivered: 0, rejected: 0 };
    const result = await this.writePoints(points);
    this.store.markDelivered(this.sink.name, result.delivered, new Date());
    return { delivered: countOf(result.delivered), rejected: result.rejected };
  }

  /** Takes what the server confirmed out of the backlog (dropped if the store fails: sent again then). */
  private markConfirmed(): void {
    if (this.confirmed.length === 0) return;
    const readings = this.confirmed;
    this.confirmed = [];
    this.store.markDelivered(this.sink.name, readings, this.confirmedAt);
  }

  /**
   * Up to batchSize runs from the pending runs after `after`: payloads as stored, runs without
   * one rendered from their readings.
   */
  private nextBatch(after?: number): Batch {
    const points: Point[] = [];
    let runs = 0;
    // The newest run read from readings: the next page may go on with it, so it is rendered last.
    let open = null as PendingRun | null;
    // The last reading of the newest point in `points`.
    let last = after;
    for (;;) {
      const cursor = open ? lastReadingOf(open) : last;
      const page = this.store.pendingRuns(this.sink.name, { ...(cursor !== undefined && { afterReadingId: cursor }), limit: PAGE_READINGS });
      let readings = 0;
      for (const item of page) {
        const payload = 'payload' in item;
        readings += payload ? item.lastReadingId - item.firstReadingId + 1 : item.readings.length;
        if (!payload && open?.runId === item.runId) {
          open = { ...open, readings: open.readings.concat(item.readings) };
          continue;
        }
        if (open) {
          points.push(this.rendered(open));
          runs++;
          last = lastReadingOf(open);
          open = null;
          if (runs >= this.sink.batchSize) return { points, lastReadingId: last };
        }
        if (!payload) {
          open = item;
          continue;
        }
        // Only what fills the batch: the next batch reads the rest again.
        const [taken] = splitPayloads(item, this.sink.batchSize - runs);
        points.push(taken);
        runs += taken.runs;
        last = taken.lastReadingId;
        if (runs >= this.sink.batchSize) return { points, lastReadingId: last };
      }
      // A short page is the end of the backlog.
      if (readings < PAGE_READINGS) break;
    }
    if (open) {
      points.push(this.rendered(open));
      last = lastReadingOf(open);
    }
    return { points, lastReadingId: last };
  }

  private rendered(run: PendingRun): RenderedRun {
    // A run whose every register is a date not set yet has no line: nothing to send, but its
    // readings count as delivered.
    // A newest-per-key sink's entries are rendered as they are stored: none is left to render.
    const line = this.sink.delivery === 'newest-per-key' ? null : this.sink.render(run);
    return { line: line ?? '', readings: readingRangesOf(run) };
  }

  /**
   * Writes the points; a refused batch is split until the refused runs are found and parked.
   * Returns the readings the server took, for the caller to mark delivered.
   */
  private async writePoints(points: readonly Point[]): Promise<{ delivered: IdRange[]; rejected: number }> {
    const texts: string[] = [];
    for (const point of points) {
      const text = textOf(point);
      if (text !== '') texts.push(text);
    }
    try {
      if (texts.length > 0) await this.sink.write(texts);
    } catch (error) {
      if (!(error instanceof SinkError) || (error.kind !== 'rejected' && error.kind !== 'too-large')) throw error;
      const halves = halve(points);
      if (halves) {
        const first = await this.writePoints(halves[0]);
        const second = await this.writePoints(halves[1]);
        return { delivered: [...first.delivered, ...second.delivered], rejected: first.rejected + second.rejected };
      }
      const [point] = points as [Point];
      const readings = readingsOf(point);
      for (const [first, last] of readings) for (let id = first; id <= last; id++) this.store.markRejected(this.sink.name, id, error.message);
      const rejected = countOf(readings);
      if (this.sink.delivery === 'newest-per-key') this.reportHolds(this.store.heldEntries(this.sink.name));
      else this.logger.error({ line: textOf(point).slice(0, 500), readings: rejected }, `a point was refused and parked as rejected: ${error.message}`);
      return { delivered: [], rejected };
    }
    return { delivered: points.flatMap(readingsOf), rejected: 0 };
  }

  /** Logs a failure once per streak and returns how long to wait before the next try. */
  private failed(error: unknown): number {
    this.failures++;
    if (!(error instanceof SinkError)) {
      this.logger.error({ err: error }, `delivery to ${this.sink.description} failed unexpectedly; retrying`);
      return this.backoff();
    }
    if (error.kind === 'auth' || error.kind === 'not-found' || error.kind === 'wrong-url') {
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

function textOf(point: Point): string {
  return 'payload' in point ? point.payload : point.line;
}

function readingsOf(point: Point): readonly IdRange[] {
  return 'payload' in point ? readingRangesOf(point) : point.readings;
}

/** The points in two, down to single runs; null for a single run. */
function halve(points: readonly Point[]): [Point[], Point[]] | null {
  if (points.length > 1) {
    const half = Math.ceil(points.length / 2);
    return [points.slice(0, half), points.slice(half)];
  }
  const [point] = points;
  if (!point || !('payload' in point) || point.runs < 2) return null;
  const [head, tail] = splitPayloads(point, Math.ceil(point.runs / 2));
  return tail ? [[head], [tail]] : null;
}

function lastReadingOf(run: PendingRun): number | undefined {
  return run.readings[run.readings.length - 1]?.readingId;
}

function countOf(ranges: readonly IdRange[]): number {
  return ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0);
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
