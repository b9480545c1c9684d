import { CutoverError, EXIT, asCutoverError, exitCodeFor } from '../shared/errors.js';

export interface OutputMode {
  readonly json: boolean;
  /** A terminal gets live, rewritten progress lines; anything else gets plain lines. */
  readonly tty: boolean;
}

export function outputMode(json: boolean | undefined): OutputMode {
  return { json: json === true, tty: !json && process.stdout.isTTY === true };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A warning on stderr, where it never mixes with --json output on stdout. */
export function printWarning(line: string): void {
  process.stderr.write(`cutover: warning: ${line}\n`);
}

/** One line on stderr (or a JSON error object on stdout with --json), and the exit code for it. */
export function reportError(error: unknown, mode: OutputMode): number {
  const failure = asCutoverError(error);
  if (mode.json) printJson({ ok: false, error: failure.toJSON() });
  else process.stderr.write(`cutover: ${failure.message} [${failure.code}]\n`);
  return exitCodeFor(failure);
}

export function usageError(message: string): CutoverError {
  return new CutoverError('CUTOVER_E_USAGE', message);
}

export { EXIT };
