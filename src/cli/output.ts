// Printing readings for people (a table) and for machines (JSON lines).

import type { RegisterReading } from '../registers/index.js';

export function readingJson(reading: RegisterReading): Record<string, unknown> {
  const json: Record<string, unknown> = { id: reading.registerId, name: reading.name, value: reading.value, unit: reading.unit };
  if (reading.text !== undefined) json.text = reading.text;
  return json;
}

export function readingRow(reading: RegisterReading): string[] {
  const name = reading.name ?? `register ${reading.registerId}`;
  if (reading.text !== undefined) return [name, String(reading.registerId), reading.text ?? '(no date yet)', ''];
  return [name, String(reading.registerId), reading.value, reading.unit];
}

/** Columns padded to their widest cell, under a header. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return formatColumns([header, ...rows]);
}

/** Rows of cells in columns padded to their widest cell. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n');
}

/** Why a write to the output failed, in words: a full disk is the usual one. */
export function writeFailureReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code === 'ENOSPC') return 'the disk is full';
  return error instanceof Error ? error.message : String(error);
}
