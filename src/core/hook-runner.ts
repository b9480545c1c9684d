import { spawn } from 'node:child_process';
import type { Command } from '../config/fields.js';
import { CutoverError, type ErrorCode } from './errors.js';

export interface HookRun {
  readonly name: string;
  readonly command: Command;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Error code when the command fails (smoke tests have their own). */
  readonly failureCode?: ErrorCode;
}

const OUTPUT_TAIL_CHARS = 2_000;

/** Runs a hook command; resolves with its output tail, or throws naming the hook and its exit. */
export function runHook(hook: HookRun): Promise<string> {
  const [file, args] =
    typeof hook.command === 'string'
      ? ['/bin/sh', ['-c', hook.command]]
      : [hook.command[0]!, hook.command.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: hook.cwd,
      env: { ...process.env, ...hook.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: hook.signal,
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), hook.timeoutMs);
    const fail = (why: string): void =>
      reject(
        new CutoverError(
          hook.failureCode ?? 'CUTOVER_E_HOOK',
          `${hook.name} hook ${why}${output ? `: ${lastLine(output)}` : ''}`,
          {
            details: { hook: hook.name, output },
          },
        ),
      );
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(`could not run: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else if (signal === 'SIGKILL') fail(`timed out after ${hook.timeoutMs}ms`);
      else fail(`exited with ${code === null ? `signal ${signal}` : `code ${code}`}`);
    });
  });
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
