// Test material for the store: fresh temp folders, readings built through the real codec and
// catalogue (toReading over KMP records), and job runs as the daemon hands them over.

import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeNumber, parseDecimal, type KmpNumber } from '../../src/kmp/index.js';
import { toReading, type RegisterReading } from '../../src/registers/index.js';
import { Store, StoreError, type JobRunInput, type PendingItem, type PendingRun, type StoreErrorCode, type StoreOptions } from '../../src/store/index.js';
import { assertThrowsCode } from '../support/assertions.js';

export const DAY_MS = 86_400_000;

/** A fresh folder under the system temp dir; remove() deletes it and everything in it. */
export function tempDir(prefix = 'kamstrup-store-'): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store in a fresh temp folder, and a cleanup that closes it and deletes the folder. */
export function tempStore(options: Partial<StoreOptions> = {}): { store: Store; path: string; dir: string; cleanup(): void } {
  const temp = tempDir();
  const path = join(temp.dir, 'data', 'kamstrup.sqlite');
  const store = Store.open(path, { sinks: ['influxdb'], ...options });
  return {
    store,
    path,
    dir: temp.dir,
    cleanup: () => {
      store.close();
      temp.remove();
    },
  };
}

function minimalByteCount(mantissa: bigint): number {
  let count = 1;
  while (mantissa >= 1n << BigInt(8 * count)) count++;
  return count;
}

/** A reading as the meter would send it: the record's mantissa bytes at least `byteCount` wide. */
export function readingOf(registerId: number, unitCode: number, value: string | KmpNumber, byteCount = 4): RegisterReading {
  const number = typeof value === 'string' ? parseDecimal(value) : value;
  const bytes = encodeNumber(number, Math.max(byteCount, minimalByteCount(number.mantissa)));
  return toReading({ registerId, unitCode, value: number, mantissaBytes: bytes.slice(1) });
}

/** The live job's nine registers with plausible values; `step` varies them. */
export function liveReadings(step = 0): RegisterReading[] {
  return [
    readingOf(60, 0x03, { negative: false, mantissa: 55_648n + BigInt(step), exponent: -3 }), // heat_energy MWh
    readingOf(68, 0x28, { negative: false, mantissa: 284_018n + BigInt(step * 3), exponent: -2 }), // volume m³
    readingOf(74, 0x29, { negative: false, mantissa: 149n + BigInt(step % 7), exponent: 0 }), // flow l/h
    readingOf(80, 0x16, { negative: false, mantissa: 35n + BigInt(step % 5), exponent: -1 }), // power kW
    readingOf(86, 0x25, '72.64'), // t1 °C
    readingOf(87, 0x25, '52.13'), // t2 °C
    readingOf(89, 0x26, '20.51'), // t_diff K
    readingOf(99, 0x00, '0'), // info
    readingOf(1004, 0x2e, { negative: false, mantissa: 26_280n + BigInt(step), exponent: 0 }), // hour_counter h
  ];
}

/** The statistics job's twenty registers: monthly and yearly extremes with their dates, averages. */
export function statisticsReadings(): RegisterReading[] {
  const pairs: [number, number, string][] = [
    [138, 0x30, '261117'], [139, 0x29, '412'], [140, 0x30, '261101'], [141, 0x29, '12'],
    [142, 0x30, '261117'], [143, 0x16, '14.2'], [144, 0x30, '261101'], [145, 0x16, '0.4'],
    [149, 0x25, '63.44'], [150, 0x25, '39.80'],
    [123, 0x30, '260112'], [124, 0x29, '498'], [125, 0x30, '260601'], [126, 0x29, '0'],
    [127, 0x30, '260112'], [128, 0x16, '17.9'], [129, 0x30, '260601'], [130, 0x16, '0.0'],
    [146, 0x25, '61.02'], [147, 0x25, '38.77'],
  ];
  return pairs.map(([id, unit, value]) => readingOf(id, unit, value));
}

export function jobRun(overrides: Partial<JobRunInput> = {}): JobRunInput {
  const readAt = overrides.readAt ?? new Date('2026-01-12T10:00:00Z');
  return {
    meter: 'home',
    model: 'multical-402',
    meterSerial: 70000402,
    job: 'live',
    readAt,
    finishedAt: new Date(readAt.getTime() + 2300),
    outcome: 'ok',
    error: null,
    missing: [],
    readings: liveReadings(),
    ...overrides,
  };
}

/** A second connection to the same file, for what the Store does not expose (counts, pragmas, raw columns). */
export function rawDatabase(path: string, options: Database.Options = {}): Database.Database {
  return new Database(path, options);
}

/** For count(): one row per reading per sink that still owes it, as the raw file holds them. */
export const QUEUED = 'readings r JOIN outbox_ranges o ON r.id BETWEEN o.first_reading_id AND o.last_reading_id';

export function count(path: string, table: string): number {
  const db = rawDatabase(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Runs fn and asserts it throws a StoreError with this code; returns the error for more checks. */
export function assertStoreError(fn: () => unknown, code: StoreErrorCode): StoreError {
  return assertThrowsCode(fn, StoreError, code);
}

/** A page of pendingRuns of a store opened without renderers: every run comes as readings. */
export function readingRuns(items: readonly PendingItem[]): PendingRun[] {
  return items.map((item) => {
    assert.ok(!('payload' in item), 'a payload from a store opened without renderers');
    return item;
  });
}

/**
 * Overwrites the root page of an index in the database file at `path` (closed, so that the
 * whole database is in the file) with filler bytes, as a failing SD card or a stray write
 * between two runs would: the file still opens, and every write that touches the index fails
 * with SQLITE_CORRUPT. `runs_by_read_at` is touched by every recorded run. Returns the page's
 * number.
 */
export function damageIndexPage(path: string, index = 'runs_by_read_at'): number {
  assert.equal(existsSync(`${path}-wal`), false, `${path} must be closed (no -wal) before its file is damaged`);
  const db = rawDatabase(path);
  let page: number;
  let pageSize: number;
  try {
    const row = db.prepare<[string], { rootpage: number }>("SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND name = ?").get(index);
    assert.ok(row, `no index ${index} in ${path}`);
    page = row.rootpage;
    pageSize = db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  return page;
}
