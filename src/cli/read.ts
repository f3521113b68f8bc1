import { Command } from 'commander';
import { MeterError } from '../meter/errors.js';
import { resolveRegister, UnknownRegisterError, type RegisterReading, type RegisterRef } from '../registers/index.js';
import { CliError, ExitCode } from './exit-codes.js';
import { addMeterOptions, openMeter, type MeterCommandOptions } from './meter-options.js';
import { formatTable, readingJson, readingRow } from './output.js';

export function readCommand(): Command {
  return addMeterOptions(
    new Command('read')
      .description('read registers from a meter, in requests of up to 8 registers')
      .argument('<register...>', 'catalogue names (heat_energy, t1, MaxFlow_M …), decimal ids (60) or hex ids (0x3C)')
      .addHelpText(
        'after',
        `
Exit status: 0 all read, 3 the meter left some out (unsupported), 1 meter or link failure
(what was read before the failure is still printed), 2 bad usage.

Examples:
  kamstrup-logger read --meter /dev/ttyUSB0 heat_energy power t1 t2
  kamstrup-logger read --meter tcp://192.168.1.20:2002 --json 60 0x50 max_flow_month
  kamstrup-logger registers          # every name the catalogue knows`,
      ),
  ).action(async (registers: string[], options: MeterCommandOptions) => {
    const refs = registers.map(resolveOrUsageError);
    const client = openMeter(options);
    let readings: ReadonlyMap<number, RegisterReading>;
    let missing: readonly number[];
    let failure: MeterError | null = null;
    try {
      ({ readings, missing } = await client.readRegisters(refs.map((r) => r.id)));
    } catch (error) {
      // With nothing read there is nothing to show but the cause; otherwise keep what was read.
      if (!(error instanceof MeterError) || !error.partial || error.partial.readings.size === 0) throw error;
      failure = error;
      ({ readings, missing } = error.partial);
    } finally {
      await client.close();
    }
    const state = (id: number): 'missing' | 'unread' | undefined => (missing.includes(id) ? 'missing' : readings.has(id) ? undefined : 'unread');
    if (options.json) {
      for (const ref of refs) {
        const reading = readings.get(ref.id);
        const line = reading ? readingJson(reading) : { id: ref.id, [state(ref.id) ?? 'unread']: true };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
    } else {
      const rows = refs.map((ref) => {
        const reading = readings.get(ref.id);
        if (reading) return readingRow(reading);
        const why = state(ref.id) === 'missing' ? '(not answered by this meter)' : '(not read)';
        return [ref.definition?.name ?? `register ${ref.id}`, String(ref.id), why, ''];
      });
      process.stdout.write(`${formatTable(['register', 'id', 'value', 'unit'], rows)}\n`);
    }
    if (failure) throw failure;
    if (missing.length > 0) {
      const plural = missing.length > 1;
      process.stderr.write(`the meter did not answer register${plural ? 's' : ''} ${missing.join(', ')}: this model does not support ${plural ? 'them' : 'it'}\n`);
      process.exitCode = ExitCode.missing;
    }
  });
}

export function resolveOrUsageError(input: string): RegisterRef {
  try {
    return resolveRegister(input);
  } catch (error) {
    if (error instanceof UnknownRegisterError) throw new CliError(ExitCode.usage, `${error.message} (\`kamstrup-logger registers\` lists them all)`, { cause: error });
    throw error;
  }
}
