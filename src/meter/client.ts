// Talks KMP to one meter over one link: one exchange in flight at a time (the line is half
// duplex; others queue), each request in one write, the meter's timing (Kamstrup doc 5512-447
// §2.1: first answer byte < 1.6 s; after a timeout or bad CRC wait ≥ 1.6 s, then retry),
// and GetRegister batches of at most 8 ids, because every wake-up costs the meter battery.

import {
  DESTINATION_HEAT_METER,
  FrameSplitter,
  KmpError,
  MAX_REGISTERS_PER_REQUEST,
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
import { MeterError, SilenceError } from './errors.js';

export interface MeterClientOptions {
  /** How long to wait for the first answer byte after the request left, and between answer bytes. */
  readonly responseTimeoutMs?: number;
  /** Further attempts after a silent or garbled answer. */
  readonly retries?: number;
  /** Pause before a retry; the meter wants ≥ 1.6 s after a failed exchange. */
  readonly retryPauseMs?: number;
  readonly destination?: number;
  /** The line speed, to know how long the request itself takes on the wire. */
  readonly baudRate?: number;
}

export const DEFAULT_RESPONSE_TIMEOUT_MS = 1600;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_PAUSE_MS = 1600;
/** One byte on an 8N2 line: start bit, 8 data bits, 2 stop bits. */
export const BITS_PER_BYTE = 11;

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

export class MeterClient {
  readonly link: MeterLink;
  readonly statistics: ExchangeStatistics = { exchanges: 0, attempts: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly responseTimeoutMs: number;
  private readonly retries: number;
  private readonly retryPauseMs: number;
  private readonly destination: number;
  private readonly baudRate: number;
  private readonly splitter = new FrameSplitter('from-meter');
  private pending: PendingAttempt | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(link: MeterLink, options: MeterClientOptions = {}) {
    this.link = link;
    this.responseTimeoutMs = options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.retryPauseMs = options.retryPauseMs ?? DEFAULT_RETRY_PAUSE_MS;
    this.destination = options.destination ?? DESTINATION_HEAT_METER;
    this.baudRate = options.baudRate ?? 1200;
  }

  getType(): Promise<MeterTypeInfo> {
    return this.exchange({ command: 'get-type' }, decodeGetTypeResponse);
  }

  getSerialNo(): Promise<number> {
    return this.exchange({ command: 'get-serial-no' }, decodeGetSerialNoResponse);
  }

  /** Reads the ids in requests of up to 8, in the order given; duplicates are read once. */
  async readRegisters(registerIds: readonly number[]): Promise<RegisterReadResult> {
    const unique = [...new Set(registerIds)];
    const readings = new Map<number, RegisterReading>();
    for (let i = 0; i < unique.length; i += MAX_REGISTERS_PER_REQUEST) {
      const batch = unique.slice(i, i + MAX_REGISTERS_PER_REQUEST);
      const records = await this.exchange({ command: 'get-register', registerIds: batch }, decodeGetRegisterResponse);
      for (const record of records) {
        if (batch.includes(record.registerId)) readings.set(record.registerId, toReading(record));
      }
    }
    return { readings, missing: unique.filter((id) => !readings.has(id)) };
  }

  /** Lets the exchange in flight finish, then closes the link. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.link.close();
  }

  private exchange<T>(request: KmpRequest, decode: (data: Uint8Array) => T): Promise<T> {
    const run = this.queue.catch(() => undefined).then(() => this.runExchange(request, decode));
    this.queue = run;
    return run;
  }

  private async runExchange<T>(request: KmpRequest, decode: (data: Uint8Array) => T): Promise<T> {
    const frame = encodeRequestFrame(request, this.destination);
    this.statistics.exchanges++;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.retryPauseMs);
      try {
        await this.link.open({
          data: (chunk) => {
            this.statistics.bytesReceived += chunk.length;
            this.pending?.chunk(chunk);
          },
          closed: (reason) => this.pending?.closed(reason),
        });
      } catch (error) {
        if (error instanceof LinkError && !error.retryable) throw new MeterError('link-failure', error.message, { cause: error });
        lastError = error;
        continue;
      }
      try {
        this.statistics.attempts++;
        const answer = await this.attempt(frame);
        return decode(decodeResponseFrame(answer, request, this.destination));
      } catch (error) {
        lastError = error;
      }
    }
    throw this.failure(lastError);
  }

  /** Sends one request and resolves with the first complete answer frame. */
  private attempt(frame: Uint8Array): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, answer?: Uint8Array): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending = null;
        if (error) reject(error);
        else resolve(answer as Uint8Array);
      };
      const arm = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const partial = this.splitter.inFrame;
          finish(new SilenceError(partial ? 'the answer stopped halfway' : 'no answer', partial));
        }, ms);
      };
      // Anything received before the request goes out belongs to an earlier exchange.
      this.splitter.reset();
      this.pending = {
        chunk: (chunk) => {
          for (const event of this.splitter.push(chunk)) {
            if (event.kind === 'frame') return finish(null, event.frame);
          }
          if (this.splitter.inFrame) arm(this.responseTimeoutMs);
        },
        closed: (reason) => finish(reason),
      };
      const wireTimeMs = (frame.length * BITS_PER_BYTE * 1000) / this.baudRate;
      this.link.write(frame).then(
        () => {
          this.statistics.bytesSent += frame.length;
          if (!done && !this.splitter.inFrame) arm(this.responseTimeoutMs + wireTimeMs);
        },
        (error: Error) => finish(error),
      );
    });
  }

  private failure(error: unknown): MeterError {
    const attempts = `${this.retries + 1} attempt${this.retries === 0 ? '' : 's'}`;
    const where = this.link.description;
    if (error instanceof SilenceError) {
      return new MeterError(
        'no-answer',
        error.partial
          ? `the meter on ${where} stopped answering halfway, ${attempts}: check that the head sits straight on the optical eye`
          : `no answer from the meter on ${where} after ${attempts}: check that the head sits on the meter's optical eye and that the IR port is awake (MULTICAL 40x sleep after ~30 min idle: press a button on the meter)`,
        { cause: error },
      );
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
