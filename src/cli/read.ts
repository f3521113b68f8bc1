import { Command } from 'commander';
import { resolveRegister, UnknownRegisterError, type RegisterRef } from '../registers/index.js';
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
Exit status: 0 all read, 3 the meter left some out (unsupported), 1 meter or link failure, 2 bad usage.

Examples:
  kamstrup-logger read --meter /dev/ttyUSB0 heat_energy power t1 t2
  kamstrup-logger read --meter tcp://192.168.1.20:2002 --json 60 0x50 max_flow_month
  kamstrup-logger registers          # every name the catalogue knows`,
      ),
  ).action(async (registers: string[], options: MeterCommandOptions) => {
    const refs = registers.map(resolveOrUsageError);
    const client = openMeter(options);
    try {
      const result = await client.readRegisters(refs.map((r) => r.id));
      if (options.json) {
        for (const ref of refs) {
          const reading = result.readings.get(ref.id);
          process.stdout.write(`${JSON.stringify(reading ? readingJson(reading) : { id: ref.id, missing: true })}\n`);
        }
      } else {
        const rows = refs.map((ref) => {
          const reading = result.readings.get(ref.id);
          return reading ? readingRow(reading) : [ref.definition?.name ?? `register ${ref.id}`, String(ref.id), '(not answered by this meter)', ''];
        });
        process.stdout.write(`${formatTable(['register', 'id', 'value', 'unit'], rows)}\n`);
      }
      if (result.missing.length > 0) {
        process.stderr.write(`the meter did not answer register${result.missing.length > 1 ? 's' : ''} ${result.missing.join(', ')}: this model does not support ${result.missing.length > 1 ? 'them' : 'it'}\n`);
        process.exitCode = ExitCode.missing;
      }
    } finally {
      await client.close();
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
