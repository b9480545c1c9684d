import { execFile } from 'node:child_process';
import { childEnv } from '../shared/child-env.js';

/**
 * Runs a config checker (`nginx -t`, `haproxy -c`) to completion and answers its exit code and
 * all it printed, never rejecting: the router turns a refusal into its own error message. A
 * command that could not run or timed out counts as exit 1, with the reason in the output.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  cwd?: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, [...args], { timeout: 30_000, cwd, env: childEnv() }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({
        code,
        output: `${stdout}${stderr}${error !== null && typeof error.code !== 'number' ? error.message : ''}`,
      });
    });
  });
}
