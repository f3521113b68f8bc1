import { Command, Option } from 'commander';
import { LinkError } from '../links/errors.js';
import { faultKinds } from '../simulator/meter-port.js';
import { energyUnits } from '../simulator/multical-402.js';
import { buildSimulator, simulatorLimits, SimulatorOptionError } from '../simulator/options.js';
import { serveSimulatorOverPty } from '../simulator/pty-server.js';
import { serveSimulatorOverTcp } from '../simulator/tcp-server.js';
import { MAX_HISTORY_DAYS } from '../app/simulate-history.js';
import { configOption } from './config-option.js';
import { CliError, ExitCode } from './exit-codes.js';
import { wholeNumber } from './meter-options.js';
import { historyHelp, simulateHistory } from './simulate-history.js';

interface SimulateOptions {
  listen?: string;
  pty?: string;
  model: 'multical-402';
  pace?: boolean;
  baud?: number;
  turnaroundMs?: number;
  echo?: boolean;
  fault: string[];
  faultEvery?: number;
  seed?: number;
  serial?: number;
  energyUnit?: string;
  speed?: number;
  history?: number;
  config: string;
  meter?: string;
  every: string[];
  force?: boolean;
  ifEmpty?: boolean;
}

/** What serving sets and history takes from the config's meter URL instead. */
const servingOnly = ['listen', 'pty', 'pace', 'baud', 'turnaroundMs', 'echo', 'faultEvery', 'seed', 'serial', 'energyUnit', 'speed'] as const;

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('serve a simulated MULTICAL 402 to other programs, over TCP or on a pseudo-terminal; or record simulated history into a store (--history)')
    .option('--listen <url>', 'serve as a raw TCP bridge, e.g. tcp://127.0.0.1:2002')
    .option('--pty <path>', 'serve on a pseudo-terminal linked at this path, e.g. /tmp/ttyKAM (needs socat)')
    .addOption(new Option('--model <model>', 'the meter to simulate').choices(['multical-402']).default('multical-402'))
    .option('--pace', 'deliver bytes at the speed of a real 1200 baud 8N2 line')
    .addOption(new Option('--baud <rate>', 'line speed for --pace').argParser(wholeNumber('--baud', 1, simulatorLimits.baudRate)))
    .addOption(new Option('--turnaround-ms <ms>', "the meter's pause before answering (default 50 with --pace, else 0)").argParser(wholeNumber('--turnaround-ms', 0, simulatorLimits.turnaroundMs)))
    .option('--echo', 'echo every request byte back first, as many optical heads do')
    .addOption(new Option('--fault <kind>', `inject a fault, repeatable: ${faultKinds.join(', ')}`).argParser(collect).default([]))
    .addOption(new Option('--fault-every <n>', 'fault requests 1, 1+n, 1+2n … (default: every request)').argParser(wholeNumber('--fault-every', 1)))
    .addOption(new Option('--seed <n>', 'vary the weather and household').argParser(wholeNumber('--seed', 0, simulatorLimits.seed)))
    .addOption(new Option('--serial <n>', 'serial number the meter reports').argParser(wholeNumber('--serial', 0, simulatorLimits.serialNumber)))
    .addOption(new Option('--energy-unit <unit>', 'unit of the heat energy register').choices([...energyUnits]))
    .addOption(new Option('--speed <factor>', 'simulated seconds per real second').argParser(speedFactor))
    .addOption(new Option('--history <days>', 'record DAYS of simulated history ending now into the config\'s store (see below)').argParser(wholeNumber('--history', 1, MAX_HISTORY_DAYS)))
    .addOption(configOption())
    .option('--meter <name>', 'with --history: only this configured meter (default: every one)')
    .addOption(new Option('--every <[job=]duration>', 'with --history: at most one run of each job (or of this job) per duration, e.g. 5m, statistics=1h; repeatable').argParser(collectWhole).default([]))
    .option('--force', 'with --history: record even where the store holds real readings of the meter')
    .option('--if-empty', 'with --history: record nothing for a meter the store holds any run of')
    .addHelpText(
      'after',
      `
Serving runs until interrupted (Ctrl-C or SIGTERM). Prints one line per endpoint once it is ready.

Examples:
  kamstrup-logger simulate --listen tcp://127.0.0.1:2002 --pace
  kamstrup-logger simulate --pty /tmp/ttyKAM --echo --fault crc-error --fault-every 3
  kamstrup-logger read --meter tcp://127.0.0.1:2002 heat_energy power
${historyHelp}`,
    )
    .action(async (options: SimulateOptions, command: Command) => {
      if (options.history !== undefined) {
        const serving = servingOnly.filter((key) => options[key] !== undefined);
        if (serving.length > 0 || options.fault.length > 0) {
          throw new CliError(ExitCode.usage, '--history records into the store and serves nothing: leave out --listen, --pty and the line options; the seed, serial and energy unit come from the meter\'s sim:// URL in the config');
        }
        await simulateHistory({
          history: options.history,
          config: options.config,
          configGiven: command.getOptionValueSource('config') !== 'default',
          ...(options.meter !== undefined && { meter: options.meter }),
          every: options.every,
          force: options.force ?? false,
          ifEmpty: options.ifEmpty ?? false,
        });
        return;
      }
      const historyOnly = [options.meter !== undefined && '--meter', options.every.length > 0 && '--every', options.force === true && '--force', options.ifEmpty === true && '--if-empty'].filter((flag) => flag !== false);
      if (historyOnly.length > 0) throw new CliError(ExitCode.usage, `${historyOnly.join(', ')} go with --history DAYS`);
      if (!options.listen && !options.pty) throw new CliError(ExitCode.usage, 'simulate needs --listen tcp://HOST:PORT, --pty PATH, or both (or --history DAYS to record history)');
      const { meter, line } = simulatorOrUsageError(
        {
          echo: options.echo ?? false,
          pace: options.pace ?? false,
          faults: options.fault,
          ...(options.baud !== undefined && { baudRate: options.baud }),
          ...(options.turnaroundMs !== undefined && { turnaroundMs: options.turnaroundMs }),
          ...(options.faultEvery !== undefined && { faultEvery: options.faultEvery }),
          ...(options.seed !== undefined && { seed: options.seed }),
          ...(options.serial !== undefined && { serialNumber: options.serial }),
          ...(options.energyUnit !== undefined && { energyUnit: options.energyUnit }),
          ...(options.speed !== undefined && { speed: options.speed }),
        },
      );
      const closers: (() => Promise<void>)[] = [];
      let ptyFailed: Promise<LinkError> | undefined;
      const stop = async (): Promise<void> => {
        await Promise.all(closers.map((close) => close()));
      };
      try {
        if (options.listen) {
          const { host, port } = parseListenUrl(options.listen);
          const server = await serveSimulatorOverTcp(meter, line, host, port).catch((error: unknown) => {
            throw new CliError(ExitCode.failure, `cannot listen on ${options.listen}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          });
          closers.push(() => server.close());
          process.stdout.write(`simulated ${options.model} serial ${meter.serialNumber} listening on tcp://${server.host}:${server.port}\n`);
        }
        if (options.pty) {
          const pty = await serveSimulatorOverPty(meter, line, options.pty);
          closers.push(() => pty.close());
          ptyFailed = pty.failed;
          process.stdout.write(`simulated ${options.model} serial ${meter.serialNumber} on pseudo-terminal ${pty.path}\n`);
        }
      } catch (error) {
        await stop();
        if (error instanceof LinkError) throw new CliError(ExitCode.failure, error.message, { cause: error });
        throw error;
      }
      const stopped = await new Promise<LinkError | null>((resolve) => {
        process.once('SIGINT', () => resolve(null));
        process.once('SIGTERM', () => resolve(null));
        void ptyFailed?.then(resolve);
      });
      await stop();
      if (stopped) throw new CliError(ExitCode.failure, stopped.message, { cause: stopped });
    });
}

function parseListenUrl(text: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(ExitCode.usage, `--listen takes tcp://HOST:PORT, not "${text}"`);
  }
  if (url.protocol !== 'tcp:' || !url.hostname || url.port === '') throw new CliError(ExitCode.usage, `--listen takes tcp://HOST:PORT, not "${text}"`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',')];
}

function collectWhole(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function speedFactor(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= simulatorLimits.speed)) {
    throw new CliError(ExitCode.usage, `--speed takes a number above 0, at most ${simulatorLimits.speed}, not "${value}"`);
  }
  return n;
}

function simulatorOrUsageError(options: Parameters<typeof buildSimulator>[0]): ReturnType<typeof buildSimulator> {
  try {
    return buildSimulator(options);
  } catch (error) {
    if (error instanceof SimulatorOptionError) throw new CliError(ExitCode.usage, error.message, { cause: error });
    throw error;
  }
}
