/**
 * A failure the CLI reports in its own words, without a stack: a file it cannot read, a login it
 * has not got. `usage` errors (a command or an argument that is not one) exit with 2 and point to
 * `--help`; the others exit with 1, as API errors do.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, true);
