/**
 * An error the user can act on: `message` says what is wrong (naming the file
 * or option), `hint` says what to do. The CLI prints both on one line and exits
 * non-zero without a stack trace.
 */
export class VisemoError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'VisemoError';
  }

  /** One line for the terminal: "problem — what to do". */
  toLine(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }
}
