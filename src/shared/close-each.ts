import type { Logger } from './logger.js';

/** One part of an app to close, named for the log. */
export interface ClosingPart {
  readonly name: string;
  readonly close: () => Promise<void> | void;
}

/**
 * Closes the parts in order, each whatever the ones before it did: a platform whose close throws
 * must not leave the router after it open (a builtin router's workers would serve on with nobody
 * to retire them). Every failure is logged (`app.close_failed`, with the part's name); the first
 * is returned for the caller to throw or, when it is already failing for another reason, to drop.
 */
export async function closeEach(parts: readonly ClosingPart[], logger: Logger): Promise<Error | undefined> {
  let first: Error | undefined;
  for (const part of parts) {
    try {
      await part.close();
    } catch (error) {
      logger.error('app.close_failed', { part: part.name, error });
      first ??= error instanceof Error ? error : new Error(`${part.name} failed to close: ${String(error)}`);
    }
  }
  return first;
}
