import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { createSinks } from '../app/sinks.js';
import { Delivery } from '../delivery/delivery.js';
import { SinkError } from '../delivery/sink.js';
import { createLogger } from '../log/logger.js';
import { configOption, loadConfigOrExit, openExistingStore, parseRange } from './config-option.js';
import { CliError, ExitCode } from './exit-codes.js';

interface BackfillOptions {
  config: string;
  sink: string;
  from?: string;
  to?: string;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description('send stored history to a sink again, e.g. to a new InfluxDB')
    .addOption(configOption())
    .requiredOption('--sink <name>', 'the sink to send to (influxdb)')
    .option('--from <time>', 'readings read at or after this time (ISO 8601; a date alone is local midnight)')
    .option('--to <time>', 'readings read before this time (ISO 8601)')
    .addHelpText(
      'after',
      `
The readings in the range are queued for the sink again (readings it still owes or refused are
left as they are) and sent oldest first, with a progress bar on a terminal. Points carry their
read time, so what the server already has is overwritten with the same values, not doubled.
If the server fails, what is not sent stays queued: the daemon, or another backfill, sends it.

Example:
  kamstrup-logger backfill --sink influxdb --from 2026-01-01`,
    )
    .action(async (options: BackfillOptions, command: Command) => {
      const range = parseRange(options.from, options.to);
      const { config } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default', 'the config is not valid:');
      const sink = createSinks(config).find((s) => s.name === options.sink);
      if (!sink) {
        const configured = Object.keys(config.sinks);
        throw new CliError(ExitCode.usage, `no sink "${options.sink}" in the config (configured: ${configured.length > 0 ? configured.join(', ') : 'none; add sinks.influxdb'})`);
      }
      if (sink.delivery === 'newest-per-key') {
        await sink.close();
        throw new CliError(ExitCode.usage, `sink ${sink.name} takes no history: it shows whatever it is sent as live, so the daemon sends it only each device's newest value (and sends it again every refresh_minutes)`);
      }
      const problem = await sink.check();
      if (problem) throw new CliError(ExitCode.failure, `${problem}; nothing sent`);
      const store = openExistingStore(config.storage.path, 'write');
      const logger = createLogger({ level: 'warn', pretty: true, destination: process.stderr });
      try {
        const queued = store.requeue(sink.name, range);
        const total = store.status().sinks.find((s) => s.name === sink.name)?.pending ?? queued;
        const bar = process.stderr.isTTY ? new SingleBar({ format: 'backfill {bar} {percentage}% | {value}/{total} readings | {speed}/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }) : null;
        bar?.start(total, 0, { speed: 0 });
        const delivery = new Delivery({ sink, store, logger });
        const started = performance.now();
        let sent = 0;
        let rejected = 0;
        try {
          for (;;) {
            const batch = await delivery.deliverBatch();
            if (batch.delivered + batch.rejected === 0) break;
            sent += batch.delivered;
            rejected += batch.rejected;
            bar?.update(sent + rejected, { speed: Math.round((sent + rejected) / ((performance.now() - started) / 1000)) });
          }
        } catch (error) {
          bar?.stop();
          if (error instanceof SinkError) throw new CliError(ExitCode.failure, `${error.message}; ${sent} readings sent, the rest stay queued`, { cause: error });
          throw error;
        }
        bar?.stop();
        const seconds = (performance.now() - started) / 1000;
        process.stderr.write(`sent ${sent} readings (${queued} queued again) to ${sink.description} in ${seconds.toFixed(1)} s${rejected > 0 ? `; ${rejected} refused by the server and parked as rejected` : ''}\n`);
      } finally {
        store.close();
        await sink.close();
      }
    });
}
