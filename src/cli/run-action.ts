import { VisemoError } from '../util/errors.js';

/**
 * Wraps a command's action: a VisemoError becomes one line on stderr and exit code 2,
 * anything else a short message (stack with VISEMO_DEBUG=1) and exit code 1.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: an action may return nothing (exit 0) or its exit code.
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      if (err instanceof VisemoError) {
        process.stderr.write(`visemo: ${err.toLine()}\n`);
        process.exitCode = 2;
      } else {
        const e = err as Error;
        process.stderr.write(`visemo: ${process.env.VISEMO_DEBUG ? e.stack : e.message}\n`);
        process.exitCode = 1;
      }
    }
  };
}
