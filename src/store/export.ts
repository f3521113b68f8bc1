// History out of the store for `kamstrup-logger export`, row by row: better-sqlite3's iterate()
// steps the SQLite cursor as the caller asks, so memory stays flat for any number of readings.

import type { Database, Statement } from 'better-sqlite3';
import { StoreError, toStoreError } from './errors.js';
import type { ReadingColumns } from './rows.js';
import { readingColumnsSql } from './rows.js';
import type { ExportFilter, ExportRow } from './types.js';

interface ExportParameters {
  readonly from: number;
  readonly to: number;
  readonly meter: string | null;
  readonly registers: string | null;
}

interface ExportSqlRow extends ReadingColumns {
  readonly meter: string;
  readonly model: string;
  readonly serial: number | null;
  readonly job: string;
  readonly readAt: number;
}

export class Exporter {
  private readonly select: Statement<[ExportParameters], ExportSqlRow>;

  constructor(
    db: Database,
    private readonly path: string,
  ) {
    // Driven by runs_by_read_at, runs in read-time order; SQLite sorts only the readings that
    // share one read time by register id ("TEMP B-TREE FOR LAST 3 TERMS OF ORDER BY"), never
    // the whole result. Meter and registers are filters on that walk: both are few, and an
    // export by meter still reads most of the file.
    this.select = db.prepare(
      `SELECT m.name AS meter, m.model AS model, m.serial AS serial, j.name AS job, ru.read_at AS readAt, ${readingColumnsSql}
         FROM runs ru
         JOIN meters m ON m.id = ru.meter_id
         JOIN jobs j ON j.id = ru.job_id
         JOIN readings r ON r.run_id = ru.id
         JOIN registers g ON g.id = r.register_id
         JOIN units u ON u.code = r.unit_code
        WHERE ru.read_at >= @from AND ru.read_at < @to
          AND (@meter IS NULL OR m.name = @meter)
          AND (@registers IS NULL OR r.register_id IN (SELECT value FROM json_each(@registers)))
        ORDER BY ru.read_at, r.register_id, m.name, ru.id`,
    );
  }

  /** Checks the filter at once (not at the first row), then iterates. */
  rows(filter: ExportFilter): Generator<ExportRow, undefined, undefined> {
    return this.iterate(this.parameters(filter));
  }

  private *iterate(parameters: ExportParameters): Generator<ExportRow, undefined, undefined> {
    try {
      for (const row of this.select.iterate(parameters)) {
        yield {
          meter: row.meter,
          model: row.model,
          serial: row.serial,
          job: row.job,
          readAt: new Date(row.readAt),
          registerId: row.registerId,
          name: row.name,
          value: row.value,
          unit: row.unit,
          unitCode: row.unitCode,
          text: row.text,
          mantissa: row.mantissa,
          exponent: row.exponent,
          negative: row.negative === 1,
        };
      }
    } catch (error) {
      throw toStoreError(error, this.path, 'exporting readings');
    }
    return undefined;
  }

  private parameters(filter: ExportFilter): ExportParameters {
    const time = (date: Date | undefined, fallback: number, what: string): number => {
      if (date === undefined) return fallback;
      const ms = date.getTime();
      if (!Number.isFinite(ms)) throw new StoreError('invalid-input', `export: ${what} is not a valid date.`, { path: this.path });
      return ms;
    };
    const ids = filter.registerIds;
    if (ids && !ids.every((id) => Number.isInteger(id))) {
      throw new StoreError('invalid-input', `export: register ids must be integers, not ${ids.join(', ')}.`, { path: this.path });
    }
    return {
      from: time(filter.from, Number.MIN_SAFE_INTEGER, 'from'),
      to: time(filter.to, Number.MAX_SAFE_INTEGER, 'to'),
      meter: filter.meter ?? null,
      registers: ids ? JSON.stringify(ids) : null,
    };
  }
}
