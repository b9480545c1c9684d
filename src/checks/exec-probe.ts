import { spawn } from 'node:child_process';
import type { Command } from '../config/fields.js';
import { formatDuration } from '../core/duration.js';
import type { Target } from '../core/slot.js';
import { errorDetail, settleOnce, type ProbeOptions, type ProbeResult } from './probe-result.js';

/** Output kept to explain a failure: the end is what matters. */
const OUTPUT_KEEP_CHARS = 2_000;

export interface ExecProbeConfig {
  /** A string run by /bin/sh, or an argv array run directly. */
  readonly command: Command;
}

/** Runs the command with TARGET_HOST, TARGET_PORT and TARGET_ID set; healthy when it exits 0 in time. */
export function execProbe(
  target: Target,
  config: ExecProbeConfig,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const [file, args] =
    typeof config.command === 'string'
      ? ['/bin/sh', ['-c', config.command]]
      : [config.command[0]!, config.command.slice(1)];
  return settleOnce(options, `no exit within ${formatDuration(options.timeoutMs)}`, (finish) => {
    let output = '';
    // Own process group: a timed-out command is killed together with anything it started.
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TARGET_HOST: target.host,
        TARGET_PORT: String(target.port),
        TARGET_ID: target.id,
      },
    });
    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => finish({ healthy: false, detail: `could not run: ${errorDetail(error)}` }));
    child.on('close', (code, signal) => {
      if (code === 0) {
        finish({ healthy: true, detail: 'exit 0' });
        return;
      }
      const lastLine = output.trimEnd().split('\n').pop() ?? '';
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      finish({ healthy: false, detail: lastLine ? `${how}: ${lastLine}` : how });
    });
    return killGroup;
  });
}
