/**
 * Runs a hook or probe command in its own process group, so everything it started goes with
 * it: at its timeout and on abort (SIGTERM first when given a grace), and once it exits (a background child left behind would hold
 * the output pipes open, and the run with them). The promise settles on the command's own exit
 * plus the group kill, never on the pipes closing: a grandchild that escaped the group (its own
 * session) and keeps them open cannot hold a deployment or its lock.
 */
import { spawn } from 'node:child_process';
import type { Command } from '../config/fields.js';
import { childEnv } from './child-env.js';

export interface GroupedCommand {
  /** A string run by /bin/sh, or an argv array run directly. */
  readonly command: Command;
  readonly cwd?: string;
  /** Set on top of cutover's environment minus its CUTOVER_* secrets (see childEnv). */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /**
   * At the timeout or on abort the group gets SIGTERM, and SIGKILL this long after unless it
   * exited (a migration can roll back its transaction). 0: SIGKILL at once (probes).
   */
  readonly killGraceMs?: number;
  readonly signal?: AbortSignal;
  /** How much of the end of stdout+stderr to keep. */
  readonly keepChars: number;
}

export type GroupedOutcome =
  | {
      readonly kind: 'exited';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly output: string;
    }
  | { readonly kind: 'timed-out'; readonly output: string }
  | { readonly kind: 'aborted'; readonly output: string }
  | { readonly kind: 'not-started'; readonly error: Error; readonly output: string };

/**
 * After the command exited and its group was killed, output still in the pipes is read for at
 * most this long; only a process that left the group can keep them open longer.
 */
const OUTPUT_DRAIN_MS = 200;

export function runGroupedCommand(run: GroupedCommand): Promise<GroupedOutcome> {
  const [file, args] =
    typeof run.command === 'string'
      ? ['/bin/sh', ['-c', run.command]]
      : [run.command[0]!, run.command.slice(1)];
  if (run.signal?.aborted) return Promise.resolve({ kind: 'aborted', output: '' });
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    let stopReason: 'timed-out' | 'aborted' | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const child = spawn(file, args, {
      cwd: run.cwd,
      env: childEnv(run.env),
      // Its own process group (a new session): the group is killed as one.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-run.keepChars);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);

    const killGroup = (signal: NodeJS.Signals = 'SIGKILL'): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch (error) {
        // ESRCH: the group is already empty.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    const settle = (outcome: GroupedOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      clearTimeout(graceTimer);
      run.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(outcome);
    };
    const stop = (reason: 'timed-out' | 'aborted'): void => {
      if (stopReason !== undefined) return;
      stopReason = reason;
      const graceMs = run.killGraceMs ?? 0;
      if (graceMs <= 0) {
        killGroup();
        return;
      }
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup(), graceMs);
    };
    const onAbort = (): void => stop('aborted');
    const timer = setTimeout(() => stop('timed-out'), run.timeoutMs);
    run.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => {
      killGroup();
      settle({ kind: 'not-started', error, output });
    });
    child.on('exit', (code, signal) => {
      // Whatever it left running goes too; then the pipes close unless something escaped.
      killGroup();
      const outcome: GroupedOutcome =
        stopReason !== undefined ? { kind: stopReason, output } : { kind: 'exited', code, signal, output };
      const finish = (): void => settle({ ...outcome, output });
      if (child.stdout.readableEnded && child.stderr.readableEnded) {
        finish();
        return;
      }
      child.once('close', finish);
      drainTimer = setTimeout(finish, OUTPUT_DRAIN_MS);
    });
  });
}
