/**
 * An error the user can act on: `message` says what is wrong (naming the file
 * or option), `hint` says what to do. The CLI prints both on one line and exits
 * non-zero without a stack trace.
 */
/** The first line of an error's message: what the user sees of an error from a library. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** One line for the user: a VisemoError's problem and what to do, else the first line of the message. */
export function userLine(err: unknown): string {
  return err instanceof VisemoError ? err.toLine() : firstLine(err);
}

export class VisemoError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'VisemoError';
  }

  /** One line for the terminal: "problem — what to do". */
  toLine(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }
}
