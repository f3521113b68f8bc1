import { Command, Option } from 'commander';
import { meterModels, registerCatalogue, registersOfModel, type MeterModel } from '../registers/index.js';
import { formatTable } from './output.js';

export function registersCommand(): Command {
  return new Command('registers')
    .description('list the register catalogue: names, ids, what they hold and how often they change')
    .addOption(new Option('--model <model>', 'only the registers of this meter model').choices([...meterModels]))
    .option('--json', 'one JSON object per line')
    .action((options: { model?: MeterModel; json?: boolean }) => {
      const list = options.model ? registersOfModel(options.model) : [...registerCatalogue];
      list.sort((a, b) => a.id - b.id);
      if (options.json) {
        for (const d of list) process.stdout.write(`${JSON.stringify(d)}\n`);
        return;
      }
      const rows = list.map((d) => [d.name, String(d.id), d.label, d.period, d.description]);
      process.stdout.write(`${formatTable(['name', 'id', 'label', 'period', 'description'], rows)}\n`);
    });
}
