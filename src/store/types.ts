// What goes into the store and what comes out of it. Register values stay exact decimal
// strings (and the mantissa a string or bigint) from the meter to the sink: never a JS number.

import type { MonthDay, PeriodFigures, PeriodKind } from '../consumption/index.js';
import type { RegisterReading } from '../registers/index.js';

export type RunOutcome = 'ok' | 'partial' | 'failed';

export interface StoreOptions {
  /** Sinks enabled in the config: each new reading is queued for every one of them. */
  readonly sinks: readonly string[];
  /** Where the NNNN_name.sql files are; the package's migrations/ folder by default. */
  readonly migrationsDir?: URL | string;
  /** The clock for rejection and migration times; injectable so tests need no real time. */
  readonly now?: () => Date;
  /**
   * By sink name (each one of `sinks`): renders what the sink will send for each new run, stored
   * in the outbox beside the run's readings so a backlog drains without rendering it again.
   */
  readonly renderers?: Readonly<Record<string, PayloadRenderer>>;
  /**
   * Open an existing, current database read-only, as `status` and `export` do: nothing is
   * written, not even by SQLite, and the file may belong to another user or sit on a read-only
   * file system. Without sinks and renderers. Default false.
   */
  readonly readOnly?: boolean;
  /**
   * How consumption figures are cut into periods. Figures computed with other settings are
   * built again from the stored readings when the store opens. When left out, the figures go
   * on with the settings they were computed with.
   */
  readonly consumption?: ConsumptionSettings;
}

export interface ConsumptionSettings {
  /** IANA name: local days, weeks, months and years are this zone's. */
  readonly timeZone: string;
  /** An interval between two readings longer than this is marked as a gap. */
  readonly gapMs: number;
  /** By meter name: the first day of its billing year, until the meter's own target date (register 98) is read. */
  readonly billingDates: Readonly<Record<string, MonthDay>>;
}

/** Which figures `report` wants. */
export interface ConsumptionFilter {
  readonly kind: PeriodKind;
  readonly meter?: string;
  /** Periods that end after this time. */
  readonly from?: Date;
  /** Periods that start before this time. */
  readonly to?: Date;
}

export interface ConsumptionRow {
  readonly meter: string;
  readonly figures: PeriodFigures;
}

/** One reading as a sink renders it: a reading being recorded, or a stored one. */
export type PayloadReading = Pick<RegisterReading, 'registerId' | 'name' | 'value' | 'unitCode' | 'text'>;

/** A run as a sink renders it. */
export interface PayloadRun {
  readonly meter: string;
  readonly model: string;
  readonly serial: number | null;
  readonly job: string;
  readonly readAt: Date;
  readonly readings: readonly PayloadReading[];
  /** The figures of the consumption periods this run changed, as they stand with it; absent when rendered from stored readings. */
  readonly consumption?: readonly PeriodFigures[];
  /** The logger's health as it stands with this run; absent when rendered from stored readings. */
  readonly health?: RunHealth;
}

/**
 * Why a run failed or stopped partway: the meter client's error codes ('closed': cut short by a
 * stop), or 'other' (the meter answered none of the job's registers, say).
 */
export type RunCause = 'no-answer' | 'corrupt-answer' | 'line-noise' | 'link-failure' | 'closed' | 'other';

/** A meter's job's runs since the store began counting (migration 0007): cumulative, never reset. */
export interface JobRunCounts {
  readonly runs: number;
  readonly ok: number;
  readonly partial: number;
  readonly failed: number;
  /** Failed or partial runs by cause; 'closed' counts as other. */
  readonly noAnswer: number;
  readonly corruptAnswer: number;
  readonly lineNoise: number;
  readonly linkFailure: number;
  readonly other: number;
}

/** One sink's backlog as the store saw it when a run was committed, the run's own readings not counted. */
export interface SinkBacklog {
  readonly sink: string;
  /** Readings waiting (newest-per-key: keys waiting). */
  readonly pending: number;
  /** Read time of the oldest waiting reading; null when nothing waits. */
  readonly oldestPendingReadAt: Date | null;
  /** The newest confirmed delivery: from its run's commit to the sink's confirmation; null before the first (and for newest-per-key sinks). */
  readonly latencyMs: number | null;
}

/**
 * What a run with readings carries of the logger's health. Counters, not events: a failed run
 * has no readings for the outbox to carry, so its failure reaches a sink with the next run that
 * has some.
 */
export interface RunHealth {
  readonly counts: JobRunCounts;
  /** From the run's tick to its end (waiting for the meter included). */
  readonly durationMs: number;
  /** Every sink this process delivers to. */
  readonly sinks: readonly SinkBacklog[];
}

/** The health counters and the newest delivery latency of each sink, as stored. */
export interface HealthStatus {
  readonly jobs: readonly { readonly meter: string; readonly job: string; readonly counts: JobRunCounts }[];
  readonly sinks: readonly { readonly sink: string; readonly latencyMs: number; readonly confirmedAt: Date }[];
}

/**
 * How a sink takes readings, which decides what its outbox keeps:
 * - every-reading: each reading once, oldest first, through any outage (InfluxDB);
 * - newest-per-key: per key (a Domoticz device, say) only the newest value: a target that takes
 *   no timestamp would show a replayed old value as live, so an undelivered value is superseded
 *   (counted, never sent) when a newer run updates the same key.
 */
export type DeliveryMode = 'every-reading' | 'newest-per-key';

/** How a sink turns a run into what it sends (an InfluxDB line, say). */
export interface EveryReadingRenderer {
  readonly delivery?: 'every-reading';
  /** Names the rendering; payloads stored in another format are dropped when the store opens. */
  readonly format: string;
  /** What the sink sends for the run; null when the run has nothing for it. */
  render(run: PayloadRun): string | null;
}

/** What a newest-per-key sink sends for one key, as rendered from a run. */
export interface KeyedPayload {
  readonly key: string;
  readonly payload: string;
  /** Not null: the value is kept but not sent, for this reason (a counter that went backwards). */
  readonly held: string | null;
}

/** How a newest-per-key sink turns a run into one payload per key the run updates. */
export interface NewestValueRenderer {
  readonly delivery: 'newest-per-key';
  /** Names the rendering; entries stored in another format are dropped when the store opens. */
  readonly format: string;
  /** Every key the sink can be sent: entries of other keys (a device removed or remapped) are dropped when the store opens. */
  readonly keys: readonly string[];
  /**
   * The run's payloads, one per key it updates (none when it updates none). `sent(key)` is the
   * payload the sink last confirmed for the key, or null: what the target shows now.
   */
  renderEntries(run: PayloadRun, sent: (key: string) => string | null): readonly KeyedPayload[];
}

export type PayloadRenderer = EveryReadingRenderer | NewestValueRenderer;

/** One job run on one meter, as the acquisition daemon hands it over. */
export interface JobRunInput {
  readonly meter: string;
  readonly model: string;
  readonly meterSerial: number | null;
  readonly job: string;
  /** The one timestamp shared by every reading of the run. */
  readonly readAt: Date;
  readonly finishedAt: Date;
  readonly outcome: RunOutcome;
  readonly error: string | null;
  /** Why a run that is not ok failed; null or left out for an ok run (a run that is not ok without one counts as 'other'). */
  readonly cause?: RunCause | null;
  /** Register ids the meter left out (it does not have them). */
  readonly missing: readonly number[];
  readonly readings: readonly RegisterReading[];
  /** Recorded by `simulate --history` from the simulator's model, not read from a meter (default false). */
  readonly simulated?: boolean;
}

export interface RecordedRun {
  readonly runId: number;
  readonly readings: number;
  /** Readings queued for delivery, counted once per enabled sink. */
  readonly queued: number;
  /** Read before the newest run already counted for its meter (a clock that jumped back): stored, but it leaves the consumption figures as they were. */
  readonly outOfOrder: boolean;
}

export interface PruneOptions {
  /** Readings read longer ago than this are deleted once every sink has them. */
  readonly olderThanDays: number;
  readonly now: Date;
  /** About this many readings per transaction (default 5000), so other writers wait briefly. */
  readonly chunkSize?: number;
}

export interface PruneResult {
  /** Readings deleted. */
  readonly readings: number;
  /** Job runs deleted (older than the age, with no readings left, not the newest of their meter and job). */
  readonly runs: number;
  /** Readings older than the age kept because a sink has not taken them (pending) or refused them (rejected). */
  readonly keptUndelivered: number;
  /** Stored payloads deleted because their runs are no longer owed whole (delivered, or in part). */
  readonly payloads: number;
}

/** The newest value of one register of one meter, as read, with when and by which job. */
export interface LatestValue extends Pick<RegisterReading, 'registerId' | 'name' | 'value' | 'unit' | 'unitCode' | 'text'> {
  readonly readAt: Date;
  readonly job: string;
  /** From a run `simulate --history` recorded. */
  readonly simulated: boolean;
}

/** What the store holds of one meter, as `simulate --history` must know before it adds to it. */
export interface MeterHistory {
  /** Runs with readings read from the meter (not simulated). */
  readonly realRuns: number;
  readonly simulatedRuns: number;
  /** Read time of the newest simulated run; null when there is none. */
  readonly newestSimulatedReadAt: Date | null;
  /** The serial number the store knows for the meter; null when none. */
  readonly serial: number | null;
}

export interface MeterStatus {
  readonly name: string;
  readonly model: string;
  readonly serial: number | null;
  /** When the newest reading of this meter was read; null when no run read anything. */
  readonly lastReadAt: Date | null;
  /** By register id. */
  readonly values: readonly LatestValue[];
}

export interface RunSummary {
  readonly runId: number;
  readonly readAt: Date;
  readonly finishedAt: Date;
  readonly outcome: RunOutcome;
  readonly error: string | null;
  readonly readingCount: number;
  readonly missing: readonly number[];
  /** Recorded by `simulate --history`, not read from a meter. */
  readonly simulated: boolean;
}

export interface JobStatus {
  readonly meter: string;
  readonly job: string;
  readonly lastRun: RunSummary;
}

export interface SinkStatus {
  readonly name: string;
  readonly enabled: boolean;
  readonly delivery: DeliveryMode;
  /** Readings waiting for this sink (newest-per-key: keys waiting). */
  readonly pending: number;
  /** Read time of the oldest waiting reading (the first written); null when nothing waits. */
  readonly oldestPendingReadAt: Date | null;
  /** Readings this sink refused, kept, never counted as delivered (newest-per-key: keys refused). */
  readonly rejected: number;
  /** A newest-per-key sink's keys, by key; empty for an every-reading sink. */
  readonly entries: readonly KeyedEntryStatus[];
}

/** pending: waits to be sent; sent: confirmed; held: kept back by the logger; refused: the target refused the key. */
export type KeyedEntryState = 'pending' | 'sent' | 'held' | 'refused';

/** A key the logger holds back or the target refused, for the delivery loop to report once. */
export interface HeldEntry {
  readonly key: string;
  readonly state: 'held' | 'refused';
  readonly reason: string;
}

/** One key of a newest-per-key sink: its newest value and what the sink last confirmed. */
export interface KeyedEntryStatus {
  readonly key: string;
  readonly state: KeyedEntryState;
  /** Why held or refused; null otherwise. */
  readonly reason: string | null;
  /** The newest value, as the sink sends it. */
  readonly payload: string;
  readonly readAt: Date;
  /** When the state last changed. */
  readonly changedAt: Date;
  /** Values replaced by newer ones before they were sent. */
  readonly superseded: number;
  /** What the sink last confirmed, and when; null before the first. */
  readonly sent: { readonly payload: string; readonly readAt: Date; readonly at: Date } | null;
}

export interface StoreStatus {
  readonly meters: readonly MeterStatus[];
  readonly jobs: readonly JobStatus[];
  readonly sinks: readonly SinkStatus[];
}

export interface ExportFilter {
  readonly meter?: string;
  readonly registerIds?: readonly number[];
  /** Read at or after this time. */
  readonly from?: Date;
  /** Read before this time (exclusive, so consecutive ranges do not overlap). */
  readonly to?: Date;
}

export interface ExportRow {
  readonly meter: string;
  readonly model: string;
  readonly serial: number | null;
  readonly job: string;
  readonly readAt: Date;
  readonly registerId: number;
  readonly name: string | null;
  readonly value: string;
  readonly unit: string;
  readonly unitCode: number;
  /** Date/time text for date and time units, else null. */
  readonly text: string | null;
  /** The unsigned mantissa in decimal digits (it may exceed 2^53, even 2^63). */
  readonly mantissa: string;
  readonly exponent: number;
  readonly negative: boolean;
}

/** A stored run's readings that a sink still owes, as the delivery loop needs them to render the run. */
export interface PendingRun extends PayloadRun {
  readonly runId: number;
  /** In reading id order; a page may end inside a run, and the next page goes on with it. */
  readonly readings: readonly PendingRunReading[];
}

/**
 * Consecutive runs the sink still owes whole, with the payloads rendered when they were
 * recorded: one per run, in reading order, joined by newlines (a payload of several lines says so in runLines). The
 * delivery loop sends them as they are, and splits them apart only to fill a batch exactly or
 * to find a payload the server refuses (splitPayloads).
 */
export interface PendingPayloads {
  readonly firstReadingId: number;
  readonly lastReadingId: number;
  readonly payload: string;
  /** How many runs (payloads). */
  readonly runs: number;
  /** Each run's last reading id, comma-separated. */
  readonly runEnds: string;
  /** Each run's number of lines, comma-separated; absent when every payload is one line. */
  readonly runLines?: string;
}

export type PendingItem = PendingRun | PendingPayloads;

export interface PendingRunReading {
  readonly readingId: number;
  readonly registerId: number;
  readonly name: string | null;
  readonly value: string;
  readonly unitCode: number;
  readonly text: string | null;
}

export interface PendingDelivery {
  /** The cursor for the next page: pass the last one as afterReadingId. */
  readonly readingId: number;
  readonly meter: string;
  readonly model: string;
  readonly serial: number | null;
  readonly job: string;
  readonly readAt: Date;
  readonly reading: RegisterReading;
}

export interface PendingOptions {
  /** Only readings with a greater id: keyset pagination, no OFFSET scans. */
  readonly afterReadingId?: number;
  readonly limit: number;
}
