import { Command } from 'commander';
import { meterTypeName } from '../registers/meter-types.js';
import { addMeterOptions, openMeter, type MeterCommandOptions } from './meter-options.js';
import { formatColumns } from './output.js';

export function infoCommand(): Command {
  return addMeterOptions(new Command('info').description("show the meter's type, software revision and serial number")).action(
    async (options: MeterCommandOptions) => {
      const client = openMeter(options);
      try {
        const type = await client.getType();
        const serial = await client.getSerialNo();
        const typeName = meterTypeName(type.meterType);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ type: type.meterType, typeName, softwareRevision: type.softwareRevision, serial })}\n`);
        } else {
          const typeText = `0x${type.meterType.toString(16).toUpperCase().padStart(4, '0')}${typeName ? ` (${typeName})` : ''}`;
          const rows = [
            ['meter type', typeText],
            ['software revision', type.softwareRevision ?? '(not reported)'],
            ['serial number', String(serial)],
          ];
          process.stdout.write(`${formatColumns(rows)}\n`);
        }
      } finally {
        await client.close();
      }
    },
  );
}
