import { Command } from 'commander';
import { runDaemon } from '../app/daemon.js';
import { createLogger } from '../log/logger.js';
import { configOption, loadConfigOrExit } from './config-option.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run the acquisition daemon: read the meters on their cron schedules and store every reading in SQLite')
    .addOption(configOption())
    .option('--pretty', 'human-readable log lines (the default on a terminal)')
    .option('--no-pretty', 'JSON log lines even on a terminal')
    .addHelpText(
      'after',
      `
Logs go to stdout, one JSON object per line unless --pretty (or a terminal). SIGTERM or Ctrl-C
lets the exchange in flight finish, stores its readings, closes the ports and exits 0.

Examples:
  kamstrup-logger run --config /etc/kamstrup-logger.yaml
  kamstrup-logger run --config config/demo.yaml --pretty     # the simulated meter`,
    )
    .action(async (options: { config: string; pretty?: boolean }, command: Command) => {
      const { config, warnings } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default');
      const logger = createLogger({ level: config.log.level, pretty: options.pretty ?? process.stdout.isTTY });
      for (const warning of warnings) logger.warn(warning);
      const stop = new AbortController();
      const abort = (): void => stop.abort();
      process.once('SIGTERM', abort);
      process.once('SIGINT', abort);
      try {
        await runDaemon({ config, logger, signal: stop.signal });
      } finally {
        process.removeListener('SIGTERM', abort);
        process.removeListener('SIGINT', abort);
      }
    });
}
