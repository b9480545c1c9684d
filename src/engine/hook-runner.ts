import type { Command } from '../config/fields.js';
import { CutoverError, type ErrorCode } from '../shared/errors.js';
import { runGroupedCommand } from '../shared/grouped-command.js';

export interface HookRun {
  readonly name: string;
  readonly command: Command;
  readonly cwd: string;
  /** Set for the hook on top of cutover's environment, which never passes on CUTOVER_* secrets. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** SIGTERM first at the timeout or on abort, SIGKILL this long after (hooks.killGrace). */
  readonly killGraceMs: number;
  readonly signal?: AbortSignal;
  /** Error code when the command fails (smoke tests have their own). */
  readonly failureCode?: ErrorCode;
}

const OUTPUT_TAIL_CHARS = 2_000;

/**
 * Runs a hook command in its own process group (stopped as one at the timeout and on abort —
 * SIGTERM, then SIGKILL after the grace — and killed when the hook exits); resolves with its output tail, or throws naming the hook and its exit.
 */
export async function runHook(hook: HookRun): Promise<string> {
  const outcome = await runGroupedCommand({
    command: hook.command,
    cwd: hook.cwd,
    env: hook.env,
    timeoutMs: hook.timeoutMs,
    killGraceMs: hook.killGraceMs,
    signal: hook.signal,
    keepChars: OUTPUT_TAIL_CHARS,
  });
  const { output } = outcome;
  const fail = (why: string): CutoverError =>
    new CutoverError(
      hook.failureCode ?? 'CUTOVER_E_HOOK',
      `${hook.name} hook ${why}${output ? `: ${lastLine(output)}` : ''}`,
      { details: { hook: hook.name, output } },
    );
  switch (outcome.kind) {
    case 'exited':
      if (outcome.code === 0) return output;
      throw fail(
        `exited with ${outcome.code === null ? `signal ${outcome.signal}` : `code ${outcome.code}`}`,
      );
    case 'timed-out':
      throw fail(`timed out after ${hook.timeoutMs}ms`);
    case 'aborted':
      throw fail('was stopped: the deployment was interrupted');
    case 'not-started':
      throw fail(`could not run: ${outcome.error.message}`);
  }
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
