/**
 * Talks to varnishd's management CLI through `varnishadm`, one command per process. A command
 * varnishd refuses (a VCL that does not compile, an unknown VCL name) comes back as a
 * CUTOVER_E_ROUTER carrying varnishd's own message.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { childEnv } from '../../shared/child-env.js';
import { CutoverError } from '../../shared/errors.js';

export interface VarnishadmTarget {
  readonly binary: string;
  /** `-n workdir`, used when no admin address is given. */
  readonly workdir: string;
  readonly adminAddress?: string;
  readonly secretFile?: string;
  /** For commands that do real work in varnishd (vcl.load compiles). */
  readonly timeoutMs: number;
}

/**
 * Everything else answers at once; with `-n`, varnishadm waits this long for a varnishd that
 * is not running, so it also bounds how long "varnishd is down" takes to say.
 */
const QUICK_TIMEOUT_MS = 5_000;
const SLOW_COMMANDS = new Set(['vcl.load', 'vcl.inline']);

/** varnishd answered, but not with status 200 (CLIS_OK). */
export class VarnishCommandError extends CutoverError {
  constructor(
    readonly command: readonly string[],
    readonly output: string,
  ) {
    super('CUTOVER_E_ROUTER', `varnishd refused \`${command[0] ?? ''}\`: ${firstLines(output)}`, {
      details: { command: command.join(' '), output },
    });
  }
}

export async function varnishadm(target: VarnishadmTarget, args: readonly string[]): Promise<string> {
  if (target.adminAddress === undefined) await assertManagerRunning(target.workdir);
  return run(target, args);
}

/**
 * With `-n`, varnishadm waits its whole timeout for a varnishd that is not there. The manager
 * writes its pid at the top of `_.vsm_mgt/_.index`; a dead pid answers at once.
 */
async function assertManagerRunning(workdir: string): Promise<void> {
  const index = path.join(workdir, '_.vsm_mgt', '_.index');
  const text = await readFile(index, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const pid = Number(/^# (\d+) /.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `varnishd is not running with workdir ${workdir} (no ${index})`,
    );
  }
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') return; // EPERM: alive, another user's
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `varnishd is not running with workdir ${workdir} (pid ${pid} is gone)`,
      {
        cause: error,
      },
    );
  }
}

function run(target: VarnishadmTarget, args: readonly string[]): Promise<string> {
  const timeoutMs = SLOW_COMMANDS.has(args[0] ?? '')
    ? target.timeoutMs
    : Math.min(QUICK_TIMEOUT_MS, target.timeoutMs);
  const connection =
    target.adminAddress !== undefined
      ? ['-T', target.adminAddress, ...(target.secretFile !== undefined ? ['-S', target.secretFile] : [])]
      : ['-n', target.workdir];
  return new Promise((resolve, reject) => {
    execFile(
      target.binary,
      [...connection, '-t', String(Math.ceil(timeoutMs / 1000)), ...args.map(quoteArgument)],
      { timeout: timeoutMs + 2_000, maxBuffer: 16 * 1024 * 1024, env: childEnv() },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const output = `${stdout}${stderr}`.trim();
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new CutoverError(
              'CUTOVER_E_ROUTER',
              `${target.binary} not found: install Varnish (\`apt-get install -y varnish\`) or set router.varnishadm`,
              { cause: error },
            ),
          );
        } else if (
          /Could not get hold of varnishd|Connection failed|Rejected 40\d|Authentication required/i.test(
            output,
          )
        ) {
          reject(
            new CutoverError('CUTOVER_E_ROUTER', `cannot reach varnishd's admin CLI: ${firstLines(output)}`, {
              cause: error,
              details: { command: args.join(' ') },
            }),
          );
        } else {
          reject(new VarnishCommandError(args, output || error.message));
        }
      },
    );
  });
}

/**
 * varnishadm joins its arguments with spaces and varnishd splits them again, so an argument
 * with a space or a quote travels as a CLI string literal.
 */
export function quoteArgument(argument: string): string {
  if (argument.length > 0 && !/[\s"\\]/.test(argument)) return argument;
  return `"${argument.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** VCC messages run to many lines; the first few say what and where. */
function firstLines(text: string, lines = 4): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .slice(0, lines)
    .join(' | ');
}
