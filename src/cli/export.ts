import { createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import type { PointRun } from '../sinks/influxdb/point.js';
import { DATABASE_SIDE_FILES, databaseFiles, fileIdentity, type ExportFilter, type ExportRow } from '../store/index.js';
import { checkMeterName, configOption, loadConfigOrExit, openExistingStore, parseRange } from './config-option.js';
import { writeFailureReason } from './output.js';
import { CliError, ExitCode } from './exit-codes.js';
import { resolveOrUsageError } from './read.js';

const formats = ['csv', 'json', 'line-protocol'] as const;
type ExportFormat = (typeof formats)[number];

interface ExportOptions {
  config: string;
  meter?: string;
  register?: string[];
  from?: string;
  to?: string;
  format: ExportFormat;
  output?: string;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('stream stored readings out of SQLite as CSV, JSON lines or InfluxDB line protocol')
    .addOption(configOption())
    .option('--meter <name>', 'only this meter')
    .option('--register <register...>', 'only these registers (names or ids)')
    .option('--from <time>', 'read at or after this time (ISO 8601: 2026-01-01 is local midnight, 2026-01-01T06:00:00Z a UTC time)')
    .option('--to <time>', 'read before this time (ISO 8601)')
    .addOption(new Option('--format <format>', 'output format').choices([...formats]).makeOptionMandatory())
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      `
Memory stays constant whatever the size of the history: rows stream from the database.
line-protocol gives one point per meter per job run, in canonical units (kWh, kW, m³, l/h, °C, K),
ready for \`influx write\` or curl to /write.

Examples:
  kamstrup-logger export --format csv --register heat_energy --from 2026-01-01 > heat-2026.csv
  kamstrup-logger export --format line-protocol --output history.lp`,
    )
    .action(async (options: ExportOptions, command: Command) => {
      const filter: ExportFilter = {
        ...(options.meter !== undefined && { meter: options.meter }),
        ...(options.register !== undefined && { registerIds: options.register.map((r) => resolveOrUsageError(r).id) }),
        ...parseRange(options.from, options.to),
      };
      const { config } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default', 'the config is not valid:', 'read');
      if (options.output !== undefined) refuseDatabaseAsOutput(options.output, config.storage.path);
      const store = openExistingStore(config.storage.path, 'read');
      let output: NodeJS.WritableStream = process.stdout;
      // A write to the output file that fails (a full disk) fails asynchronously: kept here, so
      // it ends the export with its cause and no half file. (stdout's failures end the process
      // in main.ts, for every command.)
      let writeFailure: unknown = null;
      const onError = (error: unknown): void => {
        writeFailure ??= error;
      };
      try {
        if (options.meter !== undefined) checkMeterName(options.meter, [...config.meters.map((m) => m.name), ...store.status().meters.map((m) => m.name)]);
        if (options.output) {
          output = await openOutput(options.output);
          output.on('error', onError);
        }
        await writeExport(store.exportReadings(filter), options.format, output, () => writeFailure);
      } catch (error) {
        writeFailure ??= error instanceof ExportWriteError ? error.cause : null;
        if (writeFailure === null) throw error;
      } finally {
        store.close();
        if (output !== process.stdout) {
          output.end();
          // finished() also settles for a stream that a failed write has closed already.
          await finished(output).catch(() => undefined);
        }
        output.removeListener('error', onError);
      }
      if (writeFailure !== null && options.output !== undefined) exportFailed(writeFailure, options.output);
      else if (writeFailure !== null) throw writeFailure;
    });
}

/** The output refused a write; `cause` is the stream's error. */
class ExportWriteError extends Error {
  override readonly name = 'ExportWriteError';
  readonly code = 'write-failed';
}

/** Ends an export whose output file failed, with the cause, and no half file left. */
function exportFailed(error: unknown, file: string): never {
  rmSync(file, { force: true });
  throw new CliError(ExitCode.failure, `the export could not be written to ${file}: ${writeFailureReason(error)}; the incomplete file was removed. Free some space or choose another place, then export again.`, { cause: error });
}

/** Writes rows as they come, waiting whenever the output's buffer is full. */
export async function writeExport(rows: Iterable<ExportRow>, format: ExportFormat, output: NodeJS.WritableStream, failure: () => unknown = () => null): Promise<void> {
  const write = async (text: string): Promise<void> => {
    const failed = failure();
    if (failed !== null) throw new ExportWriteError('the output refused a write', { cause: failed });
    let flowing: boolean;
    try {
      flowing = output.write(text);
    } catch (error) {
      // stdout on a file or a device writes synchronously and throws (ENOSPC on /dev/full).
      throw new ExportWriteError('the output refused a write', { cause: error });
    }
    if (!flowing) await once(output, 'drain');
  };
  if (format === 'csv') {
    await write('read_at,meter,serial,model,job,register_id,register,value,unit,text\n');
    for (const row of rows) {
      const cells = [row.readAt.toISOString(), row.meter, row.serial ?? '', row.model, row.job, row.registerId, row.name ?? '', row.value, row.unit, row.text ?? ''];
      await write(`${cells.map((cell) => csvCell(String(cell))).join(',')}\n`);
    }
  } else if (format === 'json') {
    for (const row of rows) await write(`${JSON.stringify(exportJson(row))}\n`);
  } else {
    // The InfluxDB client (for its Point class) loads only when line protocol is asked for.
    const { toLine } = await import('../sinks/influxdb/point.js');
    // Rows come by read time: gather one run per meter and job until the time moves on.
    let time = -1;
    const runs = new Map<string, PointRun & { readings: PointRun['readings'][number][] }>();
    const flush = async (): Promise<void> => {
      for (const run of runs.values()) {
        const line = toLine(run, 'ns');
        if (line !== null) await write(`${line}\n`);
      }
      runs.clear();
    };
    for (const row of rows) {
      if (row.readAt.getTime() !== time) {
        await flush();
        time = row.readAt.getTime();
      }
      const key = `${row.meter}\u0000${row.job}`;
      let run = runs.get(key);
      if (!run) {
        run = { meter: row.meter, serial: row.serial, model: row.model, readAt: row.readAt, readings: [] };
        runs.set(key, run);
      }
      run.readings.push({ registerId: row.registerId, name: row.name, value: row.value, unitCode: row.unitCode, text: row.text });
    }
    await flush();
  }
}

function exportJson(row: ExportRow): Record<string, unknown> {
  return {
    readAt: row.readAt.toISOString(),
    meter: row.meter,
    serial: row.serial,
    model: row.model,
    job: row.job,
    id: row.registerId,
    name: row.name,
    value: row.value,
    unit: row.unit,
    ...(row.text !== null && { text: row.text }),
    mantissa: row.mantissa,
    exponent: row.exponent,
    negative: row.negative,
  };
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Opening the output truncates it: onto the database or one of its side files that destroys
 * the history (or, under a running daemon, its write-ahead log). Compared by what the paths
 * are on disk, so a relative path, `..`, a symbolic or a hard link cannot slip through.
 */
function refuseDatabaseAsOutput(output: string, databasePath: string): void {
  const target = fileIdentity(output);
  const hit = databaseFiles(databasePath).find((file) => fileIdentity(file) === target);
  if (hit === undefined) return;
  const side = DATABASE_SIDE_FILES.find(({ suffix }) => hit.endsWith(suffix));
  const what = side === undefined ? `the database ${databasePath}` : `${side.what} of the database ${databasePath} (${hit})`;
  throw new CliError(
    ExitCode.usage,
    `--output ${output} is ${what}: writing the export there would destroy the stored readings. Nothing was written; choose another file, e.g. --output export.csv`,
  );
}

async function openOutput(path: string): Promise<NodeJS.WritableStream> {
  const stream = createWriteStream(path);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new CliError(ExitCode.failure, `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return stream;
}
