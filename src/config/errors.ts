// A config that cannot be used: every problem found, each naming its key and why.

export interface ConfigProblem {
  /** The key path, e.g. `jobs[1].cron`; for an unknown environment variable its name; '' for the file as a whole. */
  readonly key: string;
  readonly message: string;
  /** The line in the config file (1-based), where the problem has one. */
  readonly line?: number;
  /** The environment variable the offending value came from. */
  readonly env?: string;
}

export type ConfigErrorCode = 'invalid-config';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode = 'invalid-config';
  /** The config file as the user named it. */
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    super(`the config ${file} has ${count}:\n${formatProblems(file, problems)}`);
    this.file = file;
    this.problems = problems;
  }

  /** One line per problem, for stderr: `kamstrup-logger.yaml:12 jobs[1].cron: …`. */
  format(): string {
    return formatProblems(this.file, this.problems);
  }
}

export function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  return problems.map((p) => formatProblem(file, p)).join('\n');
}

function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.env !== undefined ? `environment ${problem.env}` : problem.line !== undefined ? `${file}:${problem.line}` : file;
  if (problem.key === '' || problem.key === problem.env) return `${where}: ${problem.message}`;
  return `${where} ${problem.key}: ${problem.message}`;
}
