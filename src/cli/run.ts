import { constants } from 'node:os';
import { Command } from 'commander';
import { runDaemon } from '../app/daemon.js';
import { createLogger } from '../log/logger.js';
import { configOption, loadConfigOrExit } from './config-option.js';
import { ExitCode } from './exit-codes.js';

/** Each stops the daemon gracefully; SIGHUP too, as there is nothing to reload (systemd without ExecReload, a closed terminal). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export function runCommand(): Command {
  return new Command('run')
    .description('run the acquisition daemon: read the meters on their cron schedules and store every reading in SQLite')
    .addOption(configOption())
    .option('--pretty', 'human-readable log lines (the default on a terminal)')
    .option('--no-pretty', 'JSON log lines even on a terminal')
    .addHelpText(
      'after',
      `
Logs go to stdout, one JSON object per line unless --pretty (or a terminal). SIGTERM, SIGINT
(Ctrl-C) or SIGHUP stops it: the runs in flight get 3.5 s to finish (a run still reading then
is cut short and stored with what it read), the ports close, and it exits 0 within 5 s. It exits 1 if readings could not be stored
(a full disk, a damaged database). A second signal while it stops abandons the rest of the
stop and exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).

Examples:
  kamstrup-logger run --config /etc/kamstrup-logger.yaml
  kamstrup-logger run --config config/demo.yaml --pretty     # the simulated meter`,
    )
    .action(async (options: { config: string; pretty?: boolean }, command: Command) => {
      const { config, warnings } = loadConfigOrExit(options.config, command.getOptionValueSource('config') !== 'default');
      const logger = createLogger({ level: config.log.level, pretty: options.pretty ?? process.stdout.isTTY });
      for (const warning of warnings) logger.warn(warning);
      const stop = new AbortController();
      const force = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (!stop.signal.aborted) stop.abort(signal);
        else force.abort(signal);
      };
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      try {
        const exit = await runDaemon({ config, logger, signal: stop.signal, force: force.signal });
        switch (exit.kind) {
          case 'stopped':
            process.exitCode = ExitCode.ok;
            break;
          case 'failed':
            process.exitCode = ExitCode.failure;
            break;
          case 'forced': {
            // What is left of the stop (a hung link, a write) must not keep the process alive.
            const signalNumber = constants.signals[exit.by as NodeJS.Signals] as number | undefined;
            process.exit(signalNumber === undefined ? ExitCode.failure : 128 + signalNumber);
          }
        }
      } finally {
        for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
      }
    });
}
