// The command line: parses, runs one command, maps errors to exit codes and messages on stderr.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LinkError } from '../links/errors.js';
import { StoreError } from '../store/index.js';
import { MeterError } from '../meter/errors.js';
import { CliError, ExitCode } from './exit-codes.js';
import { infoCommand } from './info.js';
import { readCommand } from './read.js';
import { registersCommand } from './registers.js';
import { scanCommand } from './scan.js';
import { simulateCommand } from './simulate.js';
import { backfillCommand } from './backfill.js';
import { exportCommand } from './export.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('kamstrup-logger')
    .description('Reads Kamstrup MULTICAL heat meters over an optical IR head (KMP) and logs every reading to SQLite')
    .version(packageJson.version)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const command of [runCommand(), statusCommand(), exportCommand(), backfillCommand(), readCommand(), infoCommand(), scanCommand(), registersCommand(), simulateCommand()]) {
    program.addCommand(command.exitOverride().showHelpAfterError('(add --help for usage)'));
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; help and version are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`kamstrup-logger: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof LinkError) {
    process.stderr.write(`kamstrup-logger: ${error.message}\n`);
    return error.code === 'bad-url' ? ExitCode.usage : ExitCode.failure;
  }
  if (error instanceof StoreError) {
    process.stderr.write(`kamstrup-logger: ${error.message}\n`);
    return error.wrongFile ? ExitCode.usage : ExitCode.failure;
  }
  if (error instanceof MeterError) {
    process.stderr.write(`kamstrup-logger: ${error.message}\n`);
    return ExitCode.failure;
  }
  process.stderr.write(`kamstrup-logger: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.failure;
}

// A reader that stops early (`kamstrup-logger registers | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
