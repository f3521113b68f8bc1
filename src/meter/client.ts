// Talks KMP to one meter over one link: one exchange in flight at a time (the line is half
// duplex; others queue), each request in one write, the meter's timing (Kamstrup doc 5512-447
// §2.1: first answer byte < 1.6 s; after a timeout or bad CRC ≥ 1.6 s of quiet before the next
// request), and GetRegister batches of at most 8 ids, because every wake-up costs battery.
// Every attempt has a hard deadline, so a line that never stops sending cannot hold a read.

import {
  BITS_PER_BYTE,
  DESTINATION_HEAT_METER,
  KMP_BAUD_RATE,
  FrameSplitter,
  KmpError,
  MAX_FRAME_BYTES,
  MAX_REGISTERS_PER_REQUEST,
  checkAnsweredIds,
  decodeGetRegisterResponse,
  decodeGetSerialNoResponse,
  decodeGetTypeResponse,
  decodeResponseFrame,
  encodeRequestFrame,
  type KmpRequest,
  type MeterTypeInfo,
} from '../kmp/index.js';
import { LinkError } from '../links/errors.js';
import type { MeterLink } from '../links/link.js';
import { toReading, type RegisterReading } from '../registers/index.js';
import { MeterError, NoiseError, SilenceError } from './errors.js';

/** The client's sense of time, injectable so tests can check its waits exactly. */
export interface MeterClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `callback` after `ms`; the returned function cancels the call. */
  startTimer(ms: number, callback: () => void): () => void;
}

export const systemClock: MeterClock = {
  now: () => performance.now(),
  startTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

export interface MeterClientOptions {
  /** How long to wait for the first answer byte once the request is on the line, and between answer bytes. */
  readonly responseTimeoutMs?: number;
  /** Further attempts after a silent or garbled answer. */
  readonly retries?: number;
  /** Quiet time after a failed attempt; the meter wants ≥ 1.6 s. */
  readonly retryPauseMs?: number;
  readonly destination?: number;
  /** The line speed, to know how long the request and the longest answer take on the wire. */
  readonly baudRate?: number;
  readonly clock?: MeterClock;
}

export const DEFAULT_RESPONSE_TIMEOUT_MS = 1600;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_PAUSE_MS = 1600;
/** Time allowed for a write to be handed on before the answer deadline counts. */
const WRITE_GRACE_MS = 1000;
/** Slack on an attempt's deadline for scheduling and a bridge's buffering. */
const DEADLINE_MARGIN_MS = 500;

export interface ExchangeStatistics {
  exchanges: number;
  attempts: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface RegisterReadResult {
  /** Keyed on the id the meter returned. */
  readonly readings: ReadonlyMap<number, RegisterReading>;
  /** Requested ids the meter left out of its answer (it does not support them). */
  readonly missing: readonly number[];
}

interface PendingAttempt {
  chunk(chunk: Uint8Array): void;
  closed(reason: LinkError): void;
}

type CloseListener = (error: MeterError) => void;

export function wireTimeMs(bytes: number, baudRate: number): number {
  return (bytes * BITS_PER_BYTE * 1000) / baudRate;
}

export class MeterClient {
  readonly link: MeterLink;
  readonly statistics: ExchangeStatistics = { exchanges: 0, attempts: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly responseTimeoutMs: number;
  private readonly retries: number;
  private readonly retryPauseMs: number;
  private readonly destination: number;
  private readonly baudRate: number;
  private readonly clock: MeterClock;
  private readonly splitter = new FrameSplitter('from-meter');
  private pending: PendingAttempt | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** No request goes out before this moment (clock.now()): the quiet after a failure. */
  private quietUntil = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** What waits now (a pause, an open, an attempt) and must end when the client is closed. */
  private readonly closeListeners = new Set<CloseListener>();

  constructor(link: MeterLink, options: MeterClientOptions = {}) {
    this.link = link;
    this.responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.retryPauseMs = options.retryPauseMs ?? DEFAULT_RETRY_PAUSE_MS;
    this.destination = options.destination ?? DESTINATION_HEAT_METER;
    this.baudRate = options.baudRate ?? KMP_BAUD_RATE;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * How long one attempt may take at most, from the moment it starts: the request on the line,
   * the first-byte timeout, then the longest valid answer at this line speed, plus a margin.
   */
  attemptDeadlineMs(requestBytes: number): number {
    return WRITE_GRACE_MS + wireTimeMs(requestBytes, this.baudRate) + this.responseTimeoutMs + wireTimeMs(MAX_FRAME_BYTES, this.baudRate) + DEADLINE_MARGIN_MS;
  }

  getType(): Promise<MeterTypeInfo> {
    return this.exchange({ command: 'get-type' }, decodeGetTypeResponse);
  }

  getSerialNo(): Promise<number> {
    return this.exchange({ command: 'get-serial-no' }, decodeGetSerialNoResponse);
  }

  /**
   * Reads the ids in requests of up to 8, in the order given; duplicates are read once. When
   * an exchange fails, the MeterError carries what the earlier exchanges read (`partial`).
   */
  async readRegisters(registerIds: readonly number[]): Promise<RegisterReadResult> {
    const unique = [...new Set(registerIds)];
    const readings = new Map<number, RegisterReading>();
    for (let i = 0; i < unique.length; i += MAX_REGISTERS_PER_REQUEST) {
      const batch = unique.slice(i, i + MAX_REGISTERS_PER_REQUEST);
      try {
        const records = await this.exchange({ command: 'get-register', registerIds: batch }, (data) => {
          const decoded = decodeGetRegisterResponse(data);
          checkAnsweredIds(decoded, batch);
          return decoded;
        });
        for (const record of records) readings.set(record.registerId, toReading(record));
      } catch (error) {
        if (!(error instanceof MeterError)) throw error;
        const asked = unique.slice(0, i);
        throw new MeterError(error.code, error.message, {
          cause: error.cause,
          partial: { readings, missing: asked.filter((id) => !readings.has(id)), unread: unique.slice(i) },
        });
      }
    }
    return { readings, missing: unique.filter((id) => !readings.has(id)) };
  }

  /**
   * Ends the client at once, whatever the line does: the exchange in flight stops in the middle
   * of its attempt or pause and rejects with MeterError 'closed' (from readRegisters with
   * `partial`: what earlier batches read and which ids are unread, as for any failure), no
   * further attempt goes out, queued and new exchanges reject with 'closed', and the link is
   * closed. Settles without waiting for any timer of the exchange.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const error = this.closedError();
      for (const listener of [...this.closeListeners]) listener(error);
      this.closeListeners.clear();
    }
    await this.queue.catch(() => undefined);
    await this.link.close();
  }

  private closedError(): MeterError {
    return new MeterError('closed', `the read from the meter on ${this.link.description} was stopped: the client was closed`);
  }

  /** Calls `listener` if the client is closed before the returned function is called. */
  private onClose(listener: CloseListener): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private exchange<T>(request: KmpRequest, decode: (data: Uint8Array) => T): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const run = this.queue.catch(() => undefined).then(() => this.runExchange(request, decode));
    this.queue = run;
    return run;
  }

  private async runExchange<T>(request: KmpRequest, decode: (data: Uint8Array) => T): Promise<T> {
    const frame = encodeRequestFrame(request, this.destination);
    this.statistics.exchanges++;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (this.closed) throw this.closedError();
      const wait = this.quietUntil - this.clock.now();
      if (wait > 0) await this.pause(wait);
      try {
        await this.openLink();
      } catch (error) {
        if (error instanceof MeterError) throw error;
        if (error instanceof LinkError && !error.retryable) throw new MeterError('link-failure', error.message, { cause: error });
        lastError = error;
        this.quietUntil = this.clock.now() + this.retryPauseMs;
        continue;
      }
      try {
        this.statistics.attempts++;
        return await this.attempt(frame, (answer) => decode(decodeResponseFrame(answer, request, this.destination)));
      } catch (error) {
        if (error instanceof MeterError) throw error;
        lastError = error;
        this.quietUntil = this.clock.now() + this.retryPauseMs;
        // A silent line may be a dead connection that TCP has not noticed, a noisy one a bridge
        // in a bad state: start afresh.
        if (error instanceof SilenceError || error instanceof NoiseError) await this.link.close();
      }
    }
    throw this.failure(lastError);
  }

  /** The quiet before a request; rejects with 'closed' at once when the client is closed. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const stopTimer = this.clock.startTimer(ms, () => {
        stopListening();
        resolve();
      });
      const stopListening = this.onClose((error) => {
        stopTimer();
        reject(error);
      });
    });
  }

  /** Opens the link; a close during a slow connect rejects at once and closes the late link. */
  private openLink(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const opening = this.link.open({
      data: (chunk) => {
        this.statistics.bytesReceived += chunk.length;
        this.pending?.chunk(chunk);
      },
      closed: (reason) => this.pending?.closed(reason),
    });
    return new Promise((resolve, reject) => {
      const stopListening = this.onClose((error) => {
        reject(error);
        opening.then(
          () => this.link.close(),
          () => undefined,
        );
      });
      opening.then(
        () => {
          stopListening();
          resolve();
        },
        (error: unknown) => {
          stopListening();
          reject(error);
        },
      );
    });
  }

  /**
   * Sends one request and resolves with the first answer that decodes. A frame that does not
   * (line noise that looked like a frame, a CRC error, a late answer to an earlier request) is
   * remembered and the attempt keeps listening: the real answer may still follow. The attempt
   * ends after `responseTimeoutMs` without a byte, and at its deadline whatever the line sends.
   */
  private attempt<T>(frame: Uint8Array, interpret: (answer: Uint8Array) => T): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise<T>((resolve, reject) => {
      const started = this.clock.now();
      const overlongBefore = this.splitter.overlongFrames;
      let done = false;
      let received = 0;
      let badAnswer: KmpError | null = null;
      let stopSilenceTimer = (): void => undefined;
      const finish = (error: Error | null, result?: T): void => {
        if (done) return;
        done = true;
        stopSilenceTimer();
        stopDeadlineTimer();
        stopListening();
        this.pending = null;
        if (error) reject(error);
        else resolve(result as T);
      };
      const noise = (): NoiseError => {
        const elapsedMs = Math.round(this.clock.now() - started);
        return new NoiseError(`${received} bytes in ${elapsedMs} ms`, received, elapsedMs);
      };
      const armSilenceTimer = (ms: number): void => {
        stopSilenceTimer();
        stopSilenceTimer = this.clock.startTimer(ms, () => {
          if (badAnswer) return finish(badAnswer);
          if (this.splitter.overlongFrames > overlongBefore) return finish(noise());
          const partial = this.splitter.inFrame;
          finish(new SilenceError(partial ? 'the answer stopped halfway' : 'no answer', partial));
        });
      };
      const stopListening = this.onClose((error) => finish(error));
      const stopDeadlineTimer = this.clock.startTimer(this.attemptDeadlineMs(frame.length), () => finish(noise()));
      // Anything received before the request goes out belongs to an earlier exchange.
      this.splitter.reset();
      this.pending = {
        chunk: (chunk) => {
          received += chunk.length;
          for (const event of this.splitter.push(chunk)) {
            if (event.kind !== 'frame') continue;
            try {
              return finish(null, interpret(event.frame));
            } catch (error) {
              if (!(error instanceof KmpError)) return finish(error instanceof Error ? error : new Error(String(error)));
              badAnswer = error;
            }
          }
          // Any byte (an echo, noise, part of the answer) restarts the between-bytes timeout.
          armSilenceTimer(this.responseTimeoutMs);
        },
        closed: (reason) => finish(reason),
      };
      const onLine = this.link.writeWaitsForLine ? 0 : wireTimeMs(frame.length, this.baudRate);
      armSilenceTimer(WRITE_GRACE_MS + wireTimeMs(frame.length, this.baudRate) + this.responseTimeoutMs);
      this.link.write(frame).then(
        () => {
          this.statistics.bytesSent += frame.length;
          if (!done && received === 0) armSilenceTimer(onLine + this.responseTimeoutMs);
        },
        (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  private failure(error: unknown): MeterError {
    const attempts = `${this.retries + 1} attempt${this.retries === 0 ? '' : 's'}`;
    const where = this.link.description;
    const bridge = this.link.kind === 'tcp' ? '; and that the bridge talks to the head at 1200 baud 8N2 with no other client attached' : '';
    if (error instanceof SilenceError) {
      return new MeterError(
        'no-answer',
        error.partial
          ? `the meter on ${where} stopped answering halfway, ${attempts}: check that the head sits straight on the optical eye${bridge}`
          : `no answer from the meter on ${where} after ${attempts}: check that the head sits on the meter's optical eye and that the IR port is awake (MULTICAL 40x sleep after ~30 min idle: press a button on the meter)${bridge}`,
        { cause: error },
      );
    }
    if (error instanceof NoiseError) {
      const check =
        this.link.kind === 'tcp'
          ? 'check that the bridge talks to the head at 1200 baud 8N2 (the meter URL names its raw port, not a console or web page) with no other client attached'
          : this.link.kind === 'serial'
            ? `check that the line speed is the meter's (1200 baud 8N2, 2400 on some MULTICAL 302: serial://…?baud=2400) and that ${where} is the optical head`
            : 'check the simulator options';
      return new MeterError('line-noise', `the line to the meter on ${where} kept sending bytes that were no KMP answer (${error.message} on the last attempt) after ${attempts}: ${check}`, { cause: error });
    }
    if (error instanceof KmpError) {
      return new MeterError(
        'corrupt-answer',
        `garbled answers from the meter on ${where} after ${attempts} (${error.message}): make sure no other program reads this head and that the head sits straight`,
        { cause: error },
      );
    }
    if (error instanceof LinkError) return new MeterError('link-failure', `${error.message} (after ${attempts})`, { cause: error });
    const detail = error instanceof Error ? error.message : String(error);
    return new MeterError('link-failure', `reading the meter on ${where} failed: ${detail}`, { cause: error });
  }
}
