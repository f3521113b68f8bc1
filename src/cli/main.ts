// The command line: parses, runs one command, maps errors to exit codes and messages on stderr.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LinkError } from '../links/errors.js';
import { StoreError } from '../store/index.js';
import { MeterError } from '../meter/errors.js';
import { CliError, ExitCode } from './exit-codes.js';
import { infoCommand } from './info.js';
import { writeFailureReason } from './output.js';
import { readCommand } from './read.js';
import { registersCommand } from './registers.js';
import { scanCommand } from './scan.js';
import { simulateCommand } from './simulate.js';
import { backfillCommand } from './backfill.js';
import { exportCommand } from './export.js';
import { runCommand } from './run.js';
import { reportCommand } from './report.js';
import { statusCommand } from './status.js';
import { domoticzCommand } from './domoticz.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('kamstrup-logger')
    .description('Reads Kamstrup MULTICAL heat meters over an optical IR head (KMP) and logs every reading to SQLite')
    .version(packageJson.version)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const command of [runCommand(), statusCommand(), reportCommand(), exportCommand(), backfillCommand(), readCommand(), infoCommand(), scanCommand(), registersCommand(), simulateCommand(), domoticzCommand()]) {
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

/**
 * A promise nobody awaited rejected, or a throw nobody caught: a bug. One line that says so,
 * instead of Node's raw stack, and a distinct exit code; the database is crash-safe (WAL).
 */
function crash(kind: string, error: unknown): never {
  const detail = error instanceof Error ? `${error.name}: ${error.message}${firstFrame(error)}` : String(error);
  process.stderr.write(`kamstrup-logger: fatal: ${kind}: ${detail.replace(/\s*\n\s*/g, ' ')}. This is a bug in kamstrup-logger; please report it with this line.\n`);
  process.exit(ExitCode.internal);
}

/** Where the error was thrown, from its stack: ", at fn (file:line:column)". */
function firstFrame(error: Error): string {
  const frame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  return frame === undefined ? '' : `, ${frame.trim()}`;
}

process.on('unhandledRejection', (reason) => crash('unhandled promise rejection', reason));
process.on('uncaughtException', (error) => crash('uncaught exception', error));

// A reader that stops early (`kamstrup-logger registers | head`) is not an error; stdout on a
// full disk (or /dev/full) is, with its cause in words rather than a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  process.stderr.write(`kamstrup-logger: cannot write to stdout: ${writeFailureReason(error)}; the output is incomplete\n`);
  process.exit(ExitCode.failure);
});

process.exitCode = await main(process.argv.slice(2));
