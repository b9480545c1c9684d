import type { Command } from '../config/fields.js';
import { formatDuration } from '../shared/duration.js';
import { runGroupedCommand } from '../shared/grouped-command.js';
import type { Target } from '../shared/slot.js';
import { ABORTED, errorDetail, type ProbeOptions, type ProbeResult } from './probe-result.js';

/** Output kept to explain a failure: the end is what matters. */
const OUTPUT_KEEP_CHARS = 2_000;

export interface ExecProbeConfig {
  /** A string run by /bin/sh, or an argv array run directly. */
  readonly command: Command;
}

/**
 * Runs the command with TARGET_HOST, TARGET_PORT and TARGET_ID set; healthy when it exits 0 in
 * time. It runs in its own process group, killed as one at the timeout, on abort and at its exit.
 */
export async function execProbe(
  target: Target,
  config: ExecProbeConfig,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const outcome = await runGroupedCommand({
    command: config.command,
    env: { TARGET_HOST: target.host, TARGET_PORT: String(target.port), TARGET_ID: target.id },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    keepChars: OUTPUT_KEEP_CHARS,
  });
  switch (outcome.kind) {
    case 'timed-out':
      return { healthy: false, detail: `no exit within ${formatDuration(options.timeoutMs)}` };
    case 'aborted':
      return ABORTED;
    case 'not-started':
      return { healthy: false, detail: `could not run: ${errorDetail(outcome.error)}` };
    case 'exited': {
      if (outcome.code === 0) return { healthy: true, detail: 'exit 0' };
      const lastLine = outcome.output.trimEnd().split('\n').pop() ?? '';
      const how = outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.code}`;
      return { healthy: false, detail: lastLine ? `${how}: ${lastLine}` : how };
    }
  }
}
