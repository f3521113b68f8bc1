import { Command } from 'commander';
import { MAX_REGISTERS_PER_REQUEST } from '../kmp/index.js';
import { MeterError } from '../meter/errors.js';
import { registerCatalogue } from '../registers/index.js';
import type { RegisterReading } from '../registers/index.js';
import { addMeterOptions, openMeter, type MeterCommandOptions } from './meter-options.js';
import { formatTable, readingJson, readingRow } from './output.js';

export function scanCommand(): Command {
  return addMeterOptions(
    new Command('scan').description('find which catalogue registers this meter answers, reading 8 per request'),
  ).action(async (options: MeterCommandOptions) => {
    const ids = [...registerCatalogue].sort((a, b) => a.id - b.id).map((d) => d.id);
    const client = openMeter(options);
    const found: RegisterReading[] = [];
    const progress = process.stderr.isTTY && !options.json;
    let failure: unknown = null;
    try {
      for (let i = 0; i < ids.length; i += MAX_REGISTERS_PER_REQUEST) {
        if (progress) process.stderr.write(`\rscanning registers ${i + 1}–${Math.min(i + MAX_REGISTERS_PER_REQUEST, ids.length)} of ${ids.length}…`);
        const result = await client.readRegisters(ids.slice(i, i + MAX_REGISTERS_PER_REQUEST));
        found.push(...result.readings.values());
      }
    } catch (error) {
      // Report what the meter answered before it stopped (a throttling flowIQ, a sleeping port).
      if (!(error instanceof MeterError) || found.length === 0) throw error;
      failure = error;
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
      await client.close();
    }
    found.sort((a, b) => a.registerId - b.registerId);
    if (options.json) {
      for (const reading of found) process.stdout.write(`${JSON.stringify(readingJson(reading))}\n`);
    } else {
      process.stdout.write(`${formatTable(['register', 'id', 'value', 'unit'], found.map(readingRow))}\n`);
      if (!failure) {
        process.stdout.write(`\nthe meter answers ${found.length} of ${ids.length} catalogue registers (${client.statistics.exchanges} requests)\n`);
      }
    }
    if (failure) throw failure;
  });
}
