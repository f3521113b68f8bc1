export const ExitCode = {
  ok: 0,
  /** The meter or the link failed: no answer, garbled answers, no device, refused connection. */
  failure: 1,
  /** Bad usage: unknown option, unknown register, malformed URL. */
  usage: 2,
  /** The meter answered but left out some requested registers. */
  missing: 3,
  /** A bug: an error nothing handled (EX_SOFTWARE of sysexits.h). */
  internal: 70,
} as const;

/** An error that ends the command with a given exit code and a message for stderr. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
