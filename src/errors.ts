// Errors that reach a user or a client carry a stable `code`: tests, the CLI's exit status and
// (later) the API's Status `reason` depend on the code, never on the wording of the message.
// Later layers add their own subclasses here or in their folder, each with its own code.

export interface BrambleErrorOptions {
  cause?: unknown;
}

/** Base of every expected, reportable bramble error. Programmer errors stay plain `Error`s. */
export class BrambleError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: BrambleErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command line: unknown flag, missing or malformed value, unknown subcommand. */
export class UsageError extends BrambleError {
  constructor(message: string, options?: BrambleErrorOptions) {
    super('E_USAGE', message, options);
  }
}

/** A board profile that cannot be found, read, parsed or validated. */
export class ProfileError extends BrambleError {
  /** One line per problem, each already prefixed with the file name. */
  readonly problems: readonly string[];

  constructor(message: string, options?: BrambleErrorOptions & { problems?: readonly string[] }) {
    super('E_PROFILE', message, options);
    this.problems = options?.problems ?? [message];
  }
}

export function isBrambleError(value: unknown): value is BrambleError {
  return value instanceof BrambleError;
}

/** The data directory cannot be used: not creatable or writable, or held by another server. */
export class DataDirError extends BrambleError {
  constructor(message: string, options?: BrambleErrorOptions) {
    super('E_DATA_DIR', message, options);
  }
}
