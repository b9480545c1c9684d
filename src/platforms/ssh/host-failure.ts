import { CutoverError, type ErrorCode } from '../../shared/errors.js';
import type { ExecResult } from './ssh-connection.js';

/** How many output lines of a failed command an error shows. */
export const FAILURE_TAIL_LINES = 12;
/** Characters kept of each such line (an endless line must not make an endless error). */
export const FAILURE_LINE_CHARS = 500;

/** The last lines of a command's output (stderr after stdout), for an error message. */
export function lastLines(
  result: Pick<ExecResult, 'stdout' | 'stderr'>,
  count = FAILURE_TAIL_LINES,
): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-count)
    .map((line) => (line.length > FAILURE_LINE_CHARS ? `…${line.slice(-FAILURE_LINE_CHARS)}` : line));
}

/** A command failed on a host: the error names the host, what failed, and its last output lines. */
export function hostCommandError(
  host: string,
  what: string,
  result: ExecResult,
  code: ErrorCode = 'CUTOVER_E_PROVISION',
): CutoverError {
  const tail = lastLines(result);
  return new CutoverError(
    code,
    `${host}: ${what} failed (exit ${result.code})${tail.length ? `:\n  ${tail.join('\n  ')}` : ''}`,
    { details: { host, exitCode: result.code, lastLines: tail } },
  );
}
